/** `ja4 migrate` and `ja4 sql`: the schema runner and the platform's clickhouse-client. */
import type { Command } from "../cli.ts";
import { UsageError } from "../errors.ts";
import { migrationStatus, runMigrations } from "./migrations.ts";
import { openStorage } from "./open.ts";
import { queryAsText } from "./types.ts";

const DATA_DIR_FLAG = {
  name: "data-dir",
  type: "string" as const,
  value: "DIR",
  configKey: "data_dir",
  help: "embedded chDB data directory",
};

function parseTo(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(
      "BAD_FLAG",
      `ja4 migrate: --to expects a migration number, got '${value}'`,
    );
  }
  return n;
}

/** `ja4 migrate [--status] [--dry-run] [--to N] [--cluster NAME]`. */
export const migrateCommand: Command = {
  name: "migrate",
  summary: "apply ClickHouse migrations (--status, --dry-run, --to N, --cluster NAME)",
  usage: "ja4 migrate [--status] [--dry-run] [--to N] [--cluster NAME] [--data-dir DIR]",
  details: "Applies migrations/NN_name.sql in order and records each with its checksum in\n" +
    "schema_migrations; running again applies only pending ones. An applied migration whose\n" +
    "file changed is refused. --cluster renders ON CLUSTER, Replicated* and Distributed tables.",
  flags: [
    { name: "status", type: "boolean", help: "list migrations and whether each is applied" },
    {
      name: "dry-run",
      type: "boolean",
      help: "print the statements that would run; change nothing",
    },
    { name: "to", type: "string", value: "N", help: "apply up to and including migration N" },
    {
      name: "cluster",
      type: "string",
      value: "NAME",
      configKey: "storage.cluster",
      help: "ClickHouse cluster for ON CLUSTER / Replicated / Distributed",
    },
    DATA_DIR_FLAG,
  ],
  async run(ctx) {
    const to = parseTo(ctx.flags.to);
    const cluster = ctx.config.string("storage.cluster");
    if (cluster && !ctx.flags["dry-run"] && ctx.config.string("storage.mode") !== "server") {
      throw new UsageError(
        "CLUSTER_NEEDS_SERVER",
        `ja4 migrate: --cluster ${cluster} applies to a ClickHouse cluster; set storage.mode=server ` +
          "and storage.url (or add --dry-run to only print the statements)",
      );
    }
    const storage = await openStorage(ctx.config, ctx.log);
    try {
      if (ctx.flags.status) {
        const states = await migrationStatus(storage, { cluster });
        for (const s of states) {
          console.log(
            `${String(s.version).padStart(3, "0")}  ${s.state.padEnd(8)}  ${s.file}` +
              (s.appliedAt ? `  (applied ${s.appliedAt})` : ""),
          );
        }
        return states.some((s) => s.state === "modified") ? 1 : 0;
      }
      const result = await runMigrations(storage, {
        to,
        cluster,
        dryRun: Boolean(ctx.flags["dry-run"]),
        ttlDays: ctx.config.int("storage.ttl_days"),
        log: ctx.log,
      });
      if (ctx.flags["dry-run"]) {
        for (const m of result.applied) {
          console.log(`-- ${String(m.version).padStart(2, "0")}_${m.name}.sql`);
          for (const s of m.statements) console.log(s + ";\n");
        }
        if (result.retention.length) console.log("-- retention (storage.ttl_days)");
        for (const s of result.retention) console.log(s + ";\n");
      }
      const verb = ctx.flags["dry-run"] ? "would apply" : "applied";
      console.log(
        `${verb} ${result.applied.length} migration(s); ${result.upToDate} already applied ` +
          `(${storage.kind}, database ${storage.database})` +
          (result.retention.length
            ? `; retention set to ${ctx.config.int("storage.ttl_days")} days on ` +
              `${result.retention.length} table(s)`
            : ""),
      );
      return 0;
    } finally {
      await storage.close();
    }
  },
};

/** Parses `--param name=value` flags into query parameters. */
export function parseParamFlags(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0) {
      throw new UsageError("BAD_FLAG", `ja4 sql: --param expects name=value, got '${v}'`);
    }
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** `ja4 sql [--data-dir D] [--format F] [--param k=v] "SELECT …"`. */
export const sqlCommand: Command = {
  name: "sql",
  summary: "run a query on the platform's ClickHouse and print the result",
  usage: 'ja4 sql [--data-dir DIR] [--format FMT] [--param name=value]… "SELECT …"\n' +
    "echo 'SELECT 1' | ja4 sql",
  details: "Formats are ClickHouse's (PrettyCompact, TabSeparated, CSV, JSONEachRow, JSON…).\n" +
    "Values go in {name:Type} placeholders, bound by the engine: --param ip=1.2.3.4.\n" +
    "While 'ja4 start' owns the data directory, this goes through its 127.0.0.1 endpoint.",
  flags: [
    {
      name: "format",
      short: "f",
      type: "string",
      value: "FMT",
      help: "output format (default PrettyCompact on a terminal, else TabSeparated)",
    },
    { name: "param", type: "string", multiple: true, value: "K=V", help: "query parameter" },
    DATA_DIR_FLAG,
  ],
  async run(ctx) {
    let sql = ctx.args.join(" ").trim();
    if (sql === "" && !Deno.stdin.isTerminal()) {
      sql = (await new Response(Deno.stdin.readable).text()).trim();
    }
    if (sql === "") {
      throw new UsageError("NO_QUERY", "ja4 sql: give a query (see 'ja4 sql --help')");
    }
    const format = (ctx.flags.format as string | undefined) ??
      (Deno.stdout.isTerminal() ? "PrettyCompact" : "TabSeparated");
    if (!/^[A-Za-z0-9]+$/.test(format)) {
      throw new UsageError("BAD_FLAG", `ja4 sql: --format '${format}' is not a format name`);
    }
    const params = parseParamFlags((ctx.flags.param as string[] | undefined) ?? []);
    const storage = await openStorage(ctx.config, ctx.log);
    try {
      const text = await queryAsText(storage, sql.replace(/;\s*$/, ""), params, format);
      await Deno.stdout.write(new TextEncoder().encode(text));
      return 0;
    } finally {
      await storage.close();
    }
  },
};
