/**
 * Migration files (pure part): discovery, checksums, and rendering of the templates that let
 * one file serve a single node and a cluster.
 *
 * File names are `NN_name.sql`, applied in ascending NN. Statements end with `;` at the end of
 * a line. Templates:
 * - `{{db}}` → the platform database.
 * - `{{on_cluster}}` → `ON CLUSTER name` on a cluster, nothing on a single node.
 * - `{{engine:AggregatingMergeTree}}` → that engine, or `ReplicatedAggregatingMergeTree` (one
 *   replica set per shard, default replication path).
 * - `{{engine_everywhere:ReplacingMergeTree}}` → a full copy on every node (reference data).
 * - `{{local:http_logs}}` → `http_logs`, or `http_logs_local` on a cluster (the shard table).
 * - `{{ttl:toDateTime(ts)}}` → `TTL toDateTime(ts) + INTERVAL N DAY`, nothing when N = 0.
 * - `-- @distributed NAME SHARDING_EXPR` (a line) → on a cluster, a Distributed table NAME over
 *   NAME_local sharded by SHARDING_EXPR, so readers always query NAME.
 * - `-- @seed TABLE FILE.csv` (a line) → rows of the CSV (with header) inserted into TABLE after
 *   the statements; the CSV is part of the migration's checksum.
 */
import { StorageError } from "./errors.ts";

/** One migration file, loaded. */
export interface MigrationFile {
  version: number;
  name: string;
  file: string;
  sql: string;
  seeds: { table: string; file: string; csv: string }[];
  /** sha256 over the SQL and its seed CSVs. */
  checksum: string;
}

/** How to render: cluster name (empty = single node), retention, database. */
export interface RenderOptions {
  database: string;
  cluster?: string;
  ttlDays: number;
}

const FILE_RE = /^(\d+)_([a-z0-9_]+)\.sql$/;

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Loads every `NN_name.sql` of `dir` in order; duplicate numbers are refused. */
export async function loadMigrations(dir: string): Promise<MigrationFile[]> {
  const out: MigrationFile[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const m = entry.isFile ? FILE_RE.exec(entry.name) : null;
    if (!m) continue;
    const sql = await Deno.readTextFile(`${dir}/${entry.name}`);
    const seeds = [];
    for (const s of sql.matchAll(/^--\s*@seed\s+(\w+)\s+([\w.-]+\.csv)\s*$/gm)) {
      seeds.push({ table: s[1], file: s[2], csv: await Deno.readTextFile(`${dir}/${s[2]}`) });
    }
    const checksum = await sha256(sql + seeds.map((s) => `\n--seed ${s.file}\n${s.csv}`).join(""));
    out.push({ version: Number(m[1]), name: m[2], file: entry.name, sql, seeds, checksum });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i].version === out[i - 1].version) {
      throw new StorageError(
        "MIGRATION",
        `migrations ${out[i - 1].file} and ${out[i].file} share number ${
          out[i].version
        }; renumber one`,
      );
    }
  }
  return out;
}

/** Splits SQL into statements at `;` ending a line; comment-only chunks are dropped. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.replace(/^--.*$/gm, "").trim() !== "");
}

/** Renders one file's templates into the statements to run, in order. */
export function renderMigration(sql: string, opts: RenderOptions): string[] {
  const cluster = opts.cluster ?? "";
  const onCluster = cluster ? `ON CLUSTER ${cluster}` : "";
  const text = sql
    .replaceAll("{{db}}", opts.database)
    .replaceAll("{{on_cluster}}", onCluster)
    .replace(/\{\{engine:(\w+)\}\}/g, (_, e: string) => (cluster ? `Replicated${e}` : e))
    .replace(
      /\{\{engine_everywhere:(\w+)\}\}/g,
      (_, e: string) =>
        cluster
          ? `Replicated${e}('/clickhouse/tables/${opts.database}/{table}/all', '{replica}')`
          : e,
    )
    .replace(/\{\{local:(\w+)\}\}/g, (_, t: string) => (cluster ? `${t}_local` : t))
    .replace(
      /\{\{ttl:([^}]+)\}\}/g,
      (_, expr: string) =>
        opts.ttlDays > 0 ? `TTL ${expr.trim()} + INTERVAL ${opts.ttlDays} DAY` : "",
    );
  const statements = splitStatements(text);
  if (cluster) {
    for (const d of sql.matchAll(/^--\s*@distributed\s+(\w+)\s+(.+?)\s*$/gm)) {
      const [table, key] = [d[1], d[2]];
      statements.push(
        `CREATE TABLE IF NOT EXISTS ${opts.database}.${table} ${onCluster} ` +
          `AS ${opts.database}.${table}_local ` +
          `ENGINE = Distributed(${cluster}, ${opts.database}, ${table}_local, ${key})`,
      );
    }
  }
  return statements;
}

/** Parses CSV with a header row (RFC 4180 quoting) into row objects of strings. */
export function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      if (record.some((f) => f !== "")) records.push(record);
      record = [];
      field = "";
    } else field += c;
  }
  record.push(field);
  if (record.some((f) => f !== "")) records.push(record);
  const [header, ...rows] = records;
  if (!header) return [];
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h.trim(), r[i] ?? ""])));
}

/** A table whose retention follows `storage.ttl_days`, and its TTL time expression. */
export interface RetentionTarget {
  table: string;
  expr: string;
}

/** The tables created with a `{{ttl:EXPR}}` template in a migration file. */
export function retentionTargets(sql: string): RetentionTarget[] {
  const out: RetentionTarget[] = [];
  for (const statement of splitStatements(sql)) {
    const ttl = /\{\{ttl:([^}]+)\}\}/.exec(statement);
    const table = /CREATE TABLE IF NOT EXISTS \{\{db\}\}\.(?:\{\{local:(\w+)\}\}|(\w+))/.exec(
      statement,
    );
    if (ttl && table) out.push({ table: table[1] ?? table[2], expr: ttl[1].trim() });
  }
  return out;
}

/** Days of a `TTL … + toIntervalDay(N)` in a table's CREATE statement; 0 without a TTL. */
export function ttlDaysOf(createQuery: string): number {
  const m = /\bTTL\b.*toIntervalDay\((\d+)\)/.exec(createQuery);
  return m ? Number(m[1]) : 0;
}

/** The ALTER that gives `table` a retention of `days` (0 = remove the TTL). */
export function retentionStatement(
  target: RetentionTarget,
  days: number,
  opts: { database: string; cluster?: string },
): string {
  const name = `${opts.database}.${opts.cluster ? `${target.table}_local` : target.table}`;
  const on = opts.cluster ? ` ON CLUSTER ${opts.cluster}` : "";
  return days > 0
    ? `ALTER TABLE ${name}${on} MODIFY TTL ${target.expr} + INTERVAL ${days} DAY`
    : `ALTER TABLE ${name}${on} REMOVE TTL`;
}
