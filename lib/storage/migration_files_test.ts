import { assert, assertEquals } from "../testing.ts";
import {
  loadMigrations,
  parseCsv,
  renderMigration,
  retentionStatement,
  retentionTargets,
  splitStatements,
  ttlDaysOf,
} from "./migration_files.ts";
import { MIGRATIONS_DIR } from "./migrations.ts";

const SQL = `-- header comment
-- @distributed events cityHash64(src_ip)
CREATE TABLE IF NOT EXISTS {{db}}.{{local:events}} {{on_cluster}} (ts DateTime, note String DEFAULT 'a;b')
ENGINE = {{engine:MergeTree}} ORDER BY ts {{ttl:ts}};

CREATE TABLE IF NOT EXISTS {{db}}.ref {{on_cluster}} (k String)
ENGINE = {{engine_everywhere:ReplacingMergeTree}} ORDER BY k;
-- trailing comment only
`;

Deno.test("splitStatements splits at ';' ending a line, keeps ';' inside a line", () => {
  const parts = splitStatements("SELECT 'a;b';\nSELECT 2 ;  \n-- only a comment\n");
  assertEquals(parts, ["SELECT 'a;b'", "SELECT 2"]);
});

Deno.test("renderMigration: single node", () => {
  const [events, ref, ...rest] = renderMigration(SQL, { database: "db1", ttlDays: 30 });
  assertEquals(rest, []);
  assert(events.includes("CREATE TABLE IF NOT EXISTS db1.events  ("), events);
  assert(events.includes("ENGINE = MergeTree ORDER BY ts TTL ts + INTERVAL 30 DAY"), events);
  assert(ref.endsWith("ENGINE = ReplacingMergeTree ORDER BY k"), ref);
});

Deno.test("renderMigration: ttl 0 keeps data", () => {
  const [events] = renderMigration(SQL, { database: "db1", ttlDays: 0 });
  assert(!events.includes("TTL"), events);
});

Deno.test("renderMigration: cluster → ON CLUSTER, Replicated*, shard table + Distributed", () => {
  const out = renderMigration(SQL, { database: "db1", cluster: "prod", ttlDays: 0 });
  assertEquals(out.length, 3);
  assert(out[0].includes("db1.events_local ON CLUSTER prod"), out[0]);
  assert(out[0].includes("ENGINE = ReplicatedMergeTree ORDER BY ts"), out[0]);
  assert(
    out[1].includes(
      "ReplicatedReplacingMergeTree('/clickhouse/tables/db1/{table}/all', '{replica}')",
    ),
    out[1],
  );
  assertEquals(
    out[2],
    "CREATE TABLE IF NOT EXISTS db1.events ON CLUSTER prod AS db1.events_local " +
      "ENGINE = Distributed(prod, db1, events_local, cityHash64(src_ip))",
  );
});

Deno.test("parseCsv: header, quotes, doubled quotes, commas, CRLF, blank lines", () => {
  const rows = parseCsv('a,b\r\n1,"x, ""y"""\n\n2,\n');
  assertEquals(rows, [{ a: "1", b: 'x, "y"' }, { a: "2", b: "" }]);
});

Deno.test("retentionTargets: the TTL-managed tables of the repository's migrations", async () => {
  const targets = (await loadMigrations(MIGRATIONS_DIR)).flatMap((f) => retentionTargets(f.sql));
  assertEquals(targets, [
    { table: "tls_handshakes", expr: "toDateTime(ts)" },
    { table: "http_logs", expr: "toDateTime(ts)" },
    { table: "agg_http_1h", expr: "window_start" },
    { table: "agg_tls_1h", expr: "window_start" },
    { table: "agg_ja4_1h", expr: "window_start" },
  ]);
  assertEquals(retentionTargets(SQL), [{ table: "events", expr: "ts" }]);
});

Deno.test("ttlDaysOf / retentionStatement", () => {
  assertEquals(
    ttlDaysOf(
      "CREATE TABLE d.t (ts DateTime) ENGINE = MergeTree ORDER BY ts TTL ts + toIntervalDay(30) SETTINGS x = 1",
    ),
    30,
  );
  assertEquals(ttlDaysOf("CREATE TABLE d.t (ts DateTime) ENGINE = MergeTree ORDER BY ts"), 0);
  const t = { table: "http_logs", expr: "toDateTime(ts)" };
  assertEquals(
    retentionStatement(t, 7, { database: "d" }),
    "ALTER TABLE d.http_logs MODIFY TTL toDateTime(ts) + INTERVAL 7 DAY",
  );
  assertEquals(
    retentionStatement(t, 0, { database: "d", cluster: "prod" }),
    "ALTER TABLE d.http_logs_local ON CLUSTER prod REMOVE TTL",
  );
});
