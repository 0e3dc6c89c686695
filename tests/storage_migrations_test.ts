/** The migration runner on chDB: from zero, idempotent, --to, dry run, edited files refused. */
import { assert, assertEquals, assertRejects } from "../lib/testing.ts";
import {
  MIGRATIONS_DIR,
  migrationStatus,
  runMigrations,
  StorageError,
} from "../lib/storage/mod.ts";
import { loadMigrations, renderMigration } from "../lib/storage/migration_files.ts";
import { openTestStorage } from "../lib/storage/testing.ts";

async function copyMigrations(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ja4-migrations-" });
  for await (const e of Deno.readDir(MIGRATIONS_DIR)) {
    if (e.isFile) await Deno.copyFile(`${MIGRATIONS_DIR}/${e.name}`, `${dir}/${e.name}`);
  }
  return dir;
}

async function objects(storage: { query: <T>(sql: string) => Promise<T[]> }): Promise<string[]> {
  const rows = await storage.query<{ name: string }>(
    "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name",
  );
  return rows.map((r) => r.name);
}

Deno.test("migrations: all apply from zero, then nothing is pending", async () => {
  const storage = await openTestStorage({ migrate: false });
  try {
    const files = await loadMigrations(MIGRATIONS_DIR);
    const first = await runMigrations(storage, { ttlDays: 30 });
    assertEquals(first.applied.map((m) => m.version), files.map((f) => f.version));
    assertEquals(first.upToDate, 0);
    const names = await objects(storage);
    for (
      const expected of [
        "tls_handshakes",
        "http_logs",
        "known_fingerprints",
        "agg_http_1h",
        "agg_tls_1h",
        "agg_ja4_1h",
        "view_ai_features_1h",
        "view_thesis_features_1h",
        "view_ja4_signals_1h",
        "view_overview_1h",
        "ml_all_scores",
        "ml_models",
        "soc_classifications",
        "view_soc_current_labels",
        "schema_migrations",
      ]
    ) assert(names.includes(expected), `${expected} missing from ${names}`);
    const [ttl] = await storage.query<{ q: string }>(
      "SELECT create_table_query AS q FROM system.tables " +
        "WHERE database = currentDatabase() AND name = 'http_logs'",
    );
    assert(ttl.q.includes("TTL toDateTime(ts) + toIntervalDay(30)"), ttl.q);
    const [seeded] = await storage.query<{ n: number }>(
      "SELECT count() AS n FROM known_fingerprints",
    );
    assert(seeded.n >= 20, `known_fingerprints seeded with ${seeded.n} rows`);

    const again = await runMigrations(storage);
    assertEquals(again.applied, []);
    assertEquals(again.upToDate, files.length);
    const status = await migrationStatus(storage);
    assert(status.every((s) => s.state === "applied"), JSON.stringify(status));
  } finally {
    await storage.close();
  }
});

Deno.test("migrations: --to stops at N; dry run changes nothing", async () => {
  const storage = await openTestStorage({ migrate: false });
  try {
    const partial = await runMigrations(storage, { to: 2 });
    assertEquals(partial.applied.map((m) => m.version), [1, 2]);
    const dry = await runMigrations(storage, { dryRun: true });
    assert(dry.applied.length > 0 && dry.applied[0].version === 3, "dry run lists pending");
    assert(!(await objects(storage)).includes("known_fingerprints"), "dry run created a table");
    const status = await migrationStatus(storage);
    assertEquals(status.filter((s) => s.state === "applied").length, 2);
    const rest = await runMigrations(storage);
    assertEquals(rest.applied[0].version, 3);
  } finally {
    await storage.close();
  }
});

Deno.test("migrations: an edited, applied migration is refused with the file named", async () => {
  const dir = await copyMigrations();
  const storage = await openTestStorage({ migrate: false });
  try {
    await runMigrations(storage, { dir });
    const file = `${dir}/02_raw_tables.sql`;
    await Deno.writeTextFile(file, (await Deno.readTextFile(file)) + "\n-- edited\n");
    const err = await assertRejects(
      () => runMigrations(storage, { dir }),
      StorageError,
      "02_raw_tables.sql",
    );
    assertEquals(err.code, "MIGRATION");
    assert(err.message.includes("new migration"), err.message);
    const status = await migrationStatus(storage, { dir });
    assertEquals(status.find((s) => s.version === 2)?.state, "modified");
    // The seed CSV is part of its migration's checksum.
    await Deno.copyFile(`${MIGRATIONS_DIR}/02_raw_tables.sql`, file);
    await Deno.writeTextFile(`${dir}/known_fingerprints.csv`, "\nt13x,Evil,other,malware,x\n", {
      append: true,
    });
    await assertRejects(
      () => runMigrations(storage, { dir }),
      StorageError,
      "03_known_fingerprints.sql",
    );
  } finally {
    await storage.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrations: a failing statement names file and statement; a rerun finishes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ja4-migrations-" });
  const storage = await openTestStorage({ migrate: false });
  try {
    await Deno.writeTextFile(
      `${dir}/01_t.sql`,
      "CREATE TABLE IF NOT EXISTS {{db}}.t (a UInt8) ENGINE = MergeTree ORDER BY a;\n" +
        "CREATE TABLE {{db}}.u (a NoSuchType) ENGINE = MergeTree ORDER BY a;\n",
    );
    const err = await assertRejects(
      () => runMigrations(storage, { dir }),
      StorageError,
      "01_t.sql, statement 2 of 2",
    );
    assertEquals(err.code, "MIGRATION");
    assertEquals((await migrationStatus(storage, { dir }))[0].state, "pending");
    // Fixed file: the first statement (IF NOT EXISTS) is a no-op, the second now succeeds.
    const fixed = (await Deno.readTextFile(`${dir}/01_t.sql`)).replace(
      "CREATE TABLE {{db}}.u (a NoSuchType)",
      "CREATE TABLE IF NOT EXISTS {{db}}.u (a UInt8)",
    );
    await Deno.writeTextFile(`${dir}/01_t.sql`, fixed);
    assertEquals((await runMigrations(storage, { dir })).applied.length, 1);
    assertEquals((await migrationStatus(storage, { dir }))[0].state, "applied");
  } finally {
    await storage.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrations: every file renders for a cluster without leftover templates", async () => {
  for (const file of await loadMigrations(MIGRATIONS_DIR)) {
    const single = renderMigration(file.sql, { database: "ja4_processing", ttlDays: 90 });
    const cluster = renderMigration(file.sql, {
      database: "ja4_processing",
      cluster: "prod",
      ttlDays: 90,
    });
    for (const s of [...single, ...cluster]) assert(!s.includes("{{"), `${file.file}: ${s}`);
    for (const s of cluster) {
      if (/^(--.*\n)*\s*CREATE (TABLE|MATERIALIZED VIEW|OR REPLACE VIEW|DATABASE)/.test(s)) {
        assert(s.includes("ON CLUSTER prod"), `${file.file}: no ON CLUSTER in ${s.slice(0, 120)}`);
      }
      assert(!/ENGINE = (MergeTree|AggregatingMergeTree|ReplacingMergeTree)\b/.test(s), s);
    }
  }
});

Deno.test("http_logs accepts the correlator's row shape (text ts, empty client_ip, bool cookie)", async () => {
  const storage = await openTestStorage();
  try {
    await storage.insert("http_logs", [{
      ts: "2026-11-21 06:50:21.123456",
      src_ip: "10.0.0.1",
      src_port: 1,
      dst_ip: "10.0.0.2",
      dst_port: 443,
      method: "GET",
      host: "",
      path: "/",
      query: "",
      protocol: "HTTP/1.1",
      status: 200,
      has_cookie: true,
      header_names: ["host"],
      client_ip: "",
      match_status: "no_tls",
      join_delay_us: 0,
    }]);
    const [row] = await storage.query("SELECT ts, src_ip, client_ip, has_cookie FROM http_logs");
    assertEquals(row, {
      ts: "2026-11-21 06:50:21.123456",
      src_ip: "::ffff:10.0.0.1",
      client_ip: "::",
      has_cookie: 1,
    });
  } finally {
    await storage.close();
  }
});

Deno.test("migrations: storage.ttl_days changes the retention of existing tables", async () => {
  const storage = await openTestStorage({ migrate: false });
  const ttl = async (table: string) => {
    const [r] = await storage.query<{ q: string }>(
      "SELECT create_table_query AS q FROM system.tables " +
        "WHERE database = currentDatabase() AND name = {t:String}",
      { t: table },
    );
    return r.q;
  };
  try {
    const created = await runMigrations(storage, { ttlDays: 30 });
    assertEquals(created.retention, [], "new tables are created with the retention");
    const dry = await runMigrations(storage, { ttlDays: 7, dryRun: true });
    assertEquals(dry.retention.length, 5);
    assert((await ttl("http_logs")).includes("toIntervalDay(30)"), "dry run changed nothing");
    const changed = await runMigrations(storage, { ttlDays: 7 });
    assertEquals(changed.retention.length, 5);
    assert((await ttl("http_logs")).includes("toIntervalDay(7)"), await ttl("http_logs"));
    assert((await ttl("agg_http_1h")).includes("window_start + toIntervalDay(7)"));
    const removed = await runMigrations(storage, { ttlDays: 0 });
    assertEquals(removed.retention.length, 5);
    assert(!(await ttl("http_logs")).includes(" TTL "), await ttl("http_logs"));
    assertEquals((await runMigrations(storage, { ttlDays: 0 })).retention, []);
    assertEquals((await runMigrations(storage)).retention, [], "no ttlDays: left alone");
  } finally {
    await storage.close();
  }
});
