/**
 * The migration runner: applies `migrations/NN_name.sql` in order and records each in
 * `schema_migrations` with its checksum. Re-running applies only what is pending. A migration
 * whose file changed after it was applied is refused: the schema in the database would no
 * longer be what the file says. Statements are idempotent (`IF NOT EXISTS`), so a run that
 * failed half-way is finished by running again.
 */
import { fileURLToPath } from "node:url";
import type { Logger } from "../log.ts";
import { StorageError } from "./errors.ts";
import {
  loadMigrations,
  type MigrationFile,
  parseCsv,
  renderMigration,
  retentionStatement,
  retentionTargets,
  ttlDaysOf,
} from "./migration_files.ts";
import type { Storage } from "./types.ts";

/** The repository's migrations folder. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

/** Options of runMigrations / migrationStatus. */
export interface MigrateOptions {
  /** Folder of migration files; the repository's by default. */
  dir?: string;
  /** Apply up to and including this version. */
  to?: number;
  /** Render and report, change nothing. */
  dryRun?: boolean;
  /** Cluster name: ON CLUSTER, Replicated*, Distributed. */
  cluster?: string;
  /**
   * Retention of raw tables and aggregates in days (0 = keep). Given, it also brings existing
   * tables to this retention (ALTER … MODIFY/REMOVE TTL); omitted, new tables get none and
   * existing ones are left alone.
   */
  ttlDays?: number;
  log?: Logger;
}

/** State of one migration. */
export interface MigrationState {
  version: number;
  name: string;
  file: string;
  state: "applied" | "pending" | "modified";
  checksum: string;
  appliedAt?: string;
}

/** What a run applied. */
export interface MigrateResult {
  /** Migrations applied by this run (or that would be, in a dry run). */
  applied: { version: number; name: string; statements: string[] }[];
  /** Already applied before this run. */
  upToDate: number;
  /** ALTERs run (or, in a dry run, that would run) to match `ttlDays` on existing tables. */
  retention: string[];
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: string;
}

function trackingTable(storage: Storage, cluster: string): string {
  const db = storage.database;
  return cluster
    ? `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations ON CLUSTER ${cluster} (version UInt32, ` +
      `name String, checksum String, applied_at DateTime64(3, 'UTC')) ENGINE = ` +
      `ReplicatedMergeTree('/clickhouse/tables/${db}/schema_migrations/all', '{replica}') ` +
      `ORDER BY version`
    : `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, ` +
      `checksum String, applied_at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY version`;
}

async function appliedRows(storage: Storage): Promise<Map<number, AppliedRow>> {
  const rows = await storage.query<AppliedRow>(
    `SELECT version, name, checksum, toString(applied_at) AS applied_at ` +
      `FROM ${storage.database}.schema_migrations ORDER BY version`,
  );
  return new Map(rows.map((r) => [Number(r.version), r]));
}

/** Compares files with what the database recorded. */
export function compareStates(
  files: MigrationFile[],
  applied: Map<number, AppliedRow>,
): MigrationState[] {
  return files.map((f) => {
    const row = applied.get(f.version);
    const state = !row ? "pending" : row.checksum === f.checksum ? "applied" : "modified";
    return {
      version: f.version,
      name: f.name,
      file: f.file,
      state,
      checksum: f.checksum,
      appliedAt: row?.applied_at,
    };
  });
}

function refuseModified(states: MigrationState[], applied: Map<number, AppliedRow>): void {
  const modified = states.filter((s) => s.state === "modified");
  if (modified.length === 0) return;
  const lines = modified.map((s) =>
    `${s.file} (applied ${s.appliedAt} with checksum ${
      applied.get(s.version)!.checksum.slice(0, 12)
    }…, file now ${s.checksum.slice(0, 12)}…)`
  );
  throw new StorageError(
    "MIGRATION",
    `applied migrations were edited: ${lines.join("; ")}. An applied migration must not ` +
      `change; restore the file (git checkout) and put the change in a new migration.`,
  );
}

/** Lists every migration file with its state in the database (creates the tracking table). */
export async function migrationStatus(
  storage: Storage,
  opts: MigrateOptions = {},
): Promise<MigrationState[]> {
  const files = await loadMigrations(opts.dir ?? MIGRATIONS_DIR);
  await storage.command(trackingTable(storage, opts.cluster ?? ""));
  return compareStates(files, await appliedRows(storage));
}

/**
 * Applies pending migrations in order (up to `to`). Refuses to run when an applied migration
 * was edited. Idempotent: a second run applies nothing.
 */
export async function runMigrations(
  storage: Storage,
  opts: MigrateOptions = {},
): Promise<MigrateResult> {
  const cluster = opts.cluster ?? "";
  const files = await loadMigrations(opts.dir ?? MIGRATIONS_DIR);
  if (!opts.dryRun) await storage.command(trackingTable(storage, cluster));
  const applied = opts.dryRun
    ? await appliedRows(storage).catch(() => new Map())
    : await appliedRows(storage);
  const states = compareStates(files, applied);
  refuseModified(states, applied);
  const result: MigrateResult = { applied: [], upToDate: 0, retention: [] };
  for (const file of files) {
    if (opts.to !== undefined && file.version > opts.to) break;
    if (applied.has(file.version)) {
      result.upToDate++;
      continue;
    }
    const statements = renderMigration(file.sql, {
      database: storage.database,
      cluster,
      ttlDays: opts.ttlDays ?? 0,
    });
    result.applied.push({ version: file.version, name: file.name, statements });
    if (opts.dryRun) continue;
    for (const [i, sql] of statements.entries()) {
      try {
        await storage.command(sql);
      } catch (err) {
        throw new StorageError(
          "MIGRATION",
          `migration ${file.file}, statement ${i + 1} of ${statements.length} failed: ` +
            `${(err as Error).message}\n-- statement:\n${sql}`,
          { cause: err, clickhouseCode: (err as StorageError).clickhouseCode },
        );
      }
    }
    for (const seed of file.seeds) {
      await storage.insert(seed.table, parseCsv(seed.csv));
    }
    await storage.insert("schema_migrations", [{
      version: file.version,
      name: file.name,
      checksum: file.checksum,
      applied_at: Date.now(),
    }]);
    opts.log?.info("migration applied", { file: file.file, statements: statements.length });
  }
  if (opts.ttlDays !== undefined) {
    result.retention = await syncRetention(storage, files, opts.ttlDays, cluster, !!opts.dryRun);
    for (const sql of result.retention) opts.log?.info("retention changed", { statement: sql });
  }
  return result;
}

/**
 * Brings the retention of existing TTL-managed tables to `days`, so `storage.ttl_days` can
 * change after the tables exist. Returns the ALTERs it ran (or would run).
 */
async function syncRetention(
  storage: Storage,
  files: MigrationFile[],
  days: number,
  cluster: string,
  dryRun: boolean,
): Promise<string[]> {
  const targets = files.flatMap((f) => retentionTargets(f.sql));
  if (targets.length === 0) return [];
  const rows = await storage.query<{ name: string; q: string }>(
    "SELECT name, create_table_query AS q FROM system.tables " +
      "WHERE database = {db:String} AND name IN {names:Array(String)}",
    {
      db: storage.database,
      names: targets.map((t) => (cluster ? `${t.table}_local` : t.table)),
    },
  );
  const current = new Map(rows.map((r) => [r.name.replace(/_local$/, ""), ttlDaysOf(r.q)]));
  const statements = targets
    .filter((t) => current.has(t.table) && current.get(t.table) !== days)
    .map((t) => retentionStatement(t, days, { database: storage.database, cluster }));
  if (!dryRun) { for (const sql of statements) await storage.command(sql); }
  return statements;
}
