/**
 * The client-web path against the chDB-backed ClickHouse HTTP endpoint (a real 127.0.0.1
 * socket), endpoint discovery by openStorage, the storage service with a second process using
 * it, error typing (exception header on 200, unreachable server), and inert hostile parameters.
 */
import { assert, assertEquals, assertRejects } from "../lib/testing.ts";
import { loadConfig } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { LIB_CONFIG_KEYS } from "../lib/settings.ts";
import type { CommandContext } from "../lib/cli.ts";
import type { Shutdown } from "../lib/shutdown.ts";
import {
  clientWebOverChdb,
  migrationStatus,
  openStorage,
  runMigrations,
  serveEndpoint,
  type Storage,
  StorageError,
  storageService,
} from "../lib/storage/mod.ts";
import { STORAGE_CONFIG_KEYS } from "../lib/storage/config.ts";
import { createClientStorage } from "../lib/storage/client_storage.ts";
import { openTestStorage, testDataDir } from "../lib/storage/testing.ts";
import { processAlive } from "../lib/storage/open.ts";
import { HTTP_ROWS, IP_A_STORED } from "./storage_dataset.ts";

const log = createLogger({ level: "error" });
const TOKEN = "test-token-6f1c";
const NO_RETRY = { attempts: 1, baseMs: 1, maxMs: 1 };

function client(url: string, database: string, password = TOKEN): Storage {
  return createClientStorage({
    url,
    user: "default",
    password,
    database,
    retry: NO_RETRY,
    requestTimeoutMs: 30_000,
    kind: "endpoint",
    log,
  });
}

const HOSTILE = [
  "'; DROP TABLE http_logs; --",
  "\\' OR 1=1 --",
  "a\tb\nc\\d\r",
  "{s:String}",
  "\\N",
  "') UNION ALL SELECT name FROM system.tables --",
  "ünïcødé ✓ \u0000 end",
];

/** Hostile values come back verbatim and the table is still there, on any Storage. */
async function hostileParamsAreInert(storage: Storage): Promise<void> {
  const before = await storage.query<{ n: number }>("SELECT count() AS n FROM http_logs");
  for (const value of HOSTILE) {
    const [row] = await storage.query<{ s: string }>("SELECT {s:String} AS s", { s: value });
    assertEquals(row.s, value, `String parameter ${JSON.stringify(value)}`);
  }
  const [arr] = await storage.query<{ xs: string[] }>(
    "SELECT {xs:Array(String)} AS xs, length({xs:Array(String)}) AS n",
    { xs: HOSTILE },
  );
  assertEquals(arr.xs, HOSTILE);
  const [none] = await storage.query<{ n: number }>(
    "SELECT count() AS n FROM http_logs WHERE path = {p:String}",
    { p: "' OR '1'='1" },
  );
  assertEquals(none.n, 0);
  const err = await assertRejects(
    () => storage.query("SELECT {ip:IPv6} AS ip", { ip: "::1') OR 1=1 --" }),
    StorageError,
  );
  assertEquals(err.code, "SQL");
  await assertRejects(
    () => storage.insert("http_logs; DROP TABLE http_logs", [{ a: 1 }]),
    StorageError,
    "not a plain identifier",
  );
  const after = await storage.query<{ n: number }>("SELECT count() AS n FROM http_logs");
  assertEquals(after, before);
}

Deno.test("endpoint: client-web over 127.0.0.1 gives the same answers as the direct adapter", async (t) => {
  const db = await openTestStorage();
  const ep = await serveEndpoint(db, { port: 0, token: TOKEN, log, advertise: false });
  const remote = client(ep.url, db.database);
  try {
    await t.step("insert through the endpoint, read both ways", async () => {
      await remote.insert("http_logs", HTTP_ROWS);
      const sql = "SELECT * FROM view_ai_features_1h ORDER BY src_ip, window_start";
      const viaHttp = await remote.query(sql);
      assertEquals(viaHttp.length, 3);
      assertEquals(viaHttp, await db.query(sql));
      assertEquals(viaHttp.find((r) => r.src_ip === IP_A_STORED)?.requests, 4);
      // An empty address is stored as the column default on this path too.
      await remote.insert("http_logs", [{ ...HTTP_ROWS[0], src_ip: "10.9.9.9", client_ip: "" }]);
      const [ip] = await db.query(
        "SELECT toString(client_ip) AS c FROM http_logs WHERE src_ip = toIPv6('10.9.9.9')",
      );
      assertEquals(ip.c, "::");
    });

    await t.step("command and parameterized DDL-free statements", async () => {
      await remote.command(
        "INSERT INTO soc_classifications (analyst, target_type, target, label) " +
          "VALUES ({a:String}, 'ip', {t:String}, 'bot')",
        { a: "o'neil", t: "10.0.0.1" },
      );
      const [row] = await db.query("SELECT analyst, target FROM soc_classifications");
      assertEquals(row, { analyst: "o'neil", target: "10.0.0.1" });
    });

    await t.step(
      "hostile parameter values are inert (endpoint)",
      () => hostileParamsAreInert(remote),
    );
    await t.step(
      "hostile parameter values are inert (direct chDB)",
      () => hostileParamsAreInert(db),
    );
    await t.step(
      "hostile parameter values are inert (client-web answered in-process)",
      () => hostileParamsAreInert(clientWebOverChdb(db, log)),
    );

    await t.step("a deduplication token makes a retried batch land once (both paths)", async () => {
      await db.command(
        "ALTER TABLE tls_handshakes MODIFY SETTING non_replicated_deduplication_window = 100",
      );
      const row = {
        ts: 1,
        src_ip: "10.1.1.1",
        ja4: "t13d_dedup",
        ja4_r: "",
        ja4_o: "",
        ja4_ro: "",
      };
      for (const s of [db, remote]) {
        const token = `batch-${s.kind}.tls_handshakes`;
        await s.insert("tls_handshakes", [row], { deduplicationToken: token });
        await s.insert("tls_handshakes", [row], { deduplicationToken: token }); // the retry
      }
      await db.insert("tls_handshakes", [row], { deduplicationToken: "another-batch" });
      const [n] = await db.query<{ n: number }>(
        "SELECT count() AS n FROM tls_handshakes WHERE ja4 = 't13d_dedup'",
      );
      assertEquals(n.n, 3);
      await assertRejects(
        () => db.insert("tls_handshakes", [row], { deduplicationToken: "x' OR 1" }),
        StorageError,
        "deduplication token",
      );
    });

    await t.step("a SQL error keeps ClickHouse's code", async () => {
      const err = await assertRejects(
        () => remote.query("SELECT nosuch FROM http_logs"),
        StorageError,
      );
      assertEquals(err.code, "SQL");
      assertEquals(err.clickhouseCode, 47);
    });

    await t.step("wrong or missing token: refused (516), /ping stays open", async () => {
      const err = await assertRejects(
        () => client(ep.url, db.database, "nope").query("SELECT 1"),
        StorageError,
      );
      assertEquals(err.clickhouseCode, 516);
      const bare = await fetch(`${ep.url}/?query=SELECT%201`);
      assertEquals(bare.status, 401);
      assertEquals(bare.headers.get("x-clickhouse-exception-code"), "516");
      await bare.body?.cancel();
      const ping = await fetch(`${ep.url}/ping`);
      assertEquals(await ping.text(), "Ok.\n");
    });

    await t.step("curl-style use: token header, URL params, formats", async () => {
      const url = `${ep.url}/?query=${
        encodeURIComponent("SELECT {n:UInt8} * 2 AS x FORMAT CSV")
      }&param_n=21`;
      const res = await fetch(url, { headers: { "X-ClickHouse-Key": TOKEN } });
      assertEquals(await res.text(), "42\n");
      const other = await fetch(`${ep.url}/?database=other&query=SELECT%201`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      assertEquals(other.headers.get("x-clickhouse-exception-code"), "81");
      await other.body?.cancel();
      const insertUrl = `${ep.url}/?query=${
        encodeURIComponent("INSERT INTO ml_models (version, model) FORMAT JSONEachRow")
      }`;
      const headers = { "X-ClickHouse-Key": TOKEN };
      const empty = await fetch(insertUrl, { method: "POST", headers, body: "" });
      assertEquals(empty.status, 200);
      await empty.body?.cancel();
      const two = await fetch(insertUrl, {
        method: "POST",
        headers,
        body: '{"version":"v1","model":"{}"}\n{"version":"v2","model":"{}"}\n',
      });
      assertEquals(two.status, 200);
      await two.body?.cancel();
      assertEquals(await db.query("SELECT version FROM ml_models ORDER BY version"), [
        { version: "v1" },
        { version: "v2" },
      ]);
    });
  } finally {
    await remote.close();
    await ep.stop();
    await db.close();
  }
});

Deno.test("migrations run through client-web over HTTP, as against a server", async () => {
  const db = await openTestStorage({ migrate: false });
  const ep = await serveEndpoint(db, { port: 0, token: TOKEN, log, advertise: false });
  const remote = client(ep.url, db.database);
  try {
    // No TTL: the dataset is dated January 2026 and would expire at once.
    const first = await runMigrations(remote, { ttlDays: 0 });
    assert(first.applied.length >= 6, `applied ${first.applied.length}`);
    assertEquals((await runMigrations(remote)).applied, []);
    const status = await migrationStatus(remote);
    assert(status.every((m) => m.state === "applied"), JSON.stringify(status));
    const [seeded] = await remote.query<{ n: number }>(
      "SELECT count() AS n FROM known_fingerprints",
    );
    assert(seeded.n >= 20, `${seeded.n} known fingerprints`);
    await remote.insert("http_logs", HTTP_ROWS);
    const [a] = await remote.query(
      "SELECT requests FROM view_ai_features_1h WHERE src_ip = {ip:IPv6} ORDER BY window_start",
      { ip: IP_A_STORED },
    );
    assertEquals(a.requests, 4);
  } finally {
    await remote.close();
    await ep.stop();
    await db.close();
  }
});

Deno.test("openStorage uses the endpoint another owner advertises in the data directory", async () => {
  const db = await openTestStorage();
  const ep = await serveEndpoint(db, { port: 0, token: TOKEN, log });
  try {
    const config = loadConfig([...LIB_CONFIG_KEYS, ...STORAGE_CONFIG_KEYS], {
      flags: { data_dir: testDataDir(), "storage.database": db.database },
    });
    const storage = await openStorage(config, log);
    assertEquals(storage.kind, "endpoint");
    await storage.insert("http_logs", HTTP_ROWS);
    const [n] = await db.query<{ n: number }>("SELECT count() AS n FROM http_logs");
    assertEquals(n.n, HTTP_ROWS.length);
    await storage.close();
  } finally {
    await ep.stop();
    await db.close();
  }
});

Deno.test("client-web: a 200 answer carrying X-ClickHouse-Exception-Code is a SQL error", async () => {
  const fake: typeof fetch = () =>
    Promise.resolve(
      new Response(
        "Code: 241. DB::Exception: Memory limit (total) exceeded (MEMORY_LIMIT_EXCEEDED)\n",
        {
          status: 200,
          headers: { "X-ClickHouse-Exception-Code": "241" },
        },
      ),
    );
  const storage = createClientStorage({
    url: "http://127.0.0.1:8123",
    user: "default",
    password: "",
    database: "ja4_processing",
    retry: { attempts: 3, baseMs: 1, maxMs: 1 },
    requestTimeoutMs: 1000,
    kind: "server",
    log,
    fetch: fake,
  });
  const err = await assertRejects(() => storage.query("SELECT 1"), StorageError);
  assertEquals(err.code, "SQL");
  assertEquals(err.clickhouseCode, 241);
  assertEquals(err.retryable, false);
});

Deno.test("client-web: an unreachable server is UNAVAILABLE after the configured attempts", async () => {
  let calls = 0;
  const counting: typeof fetch = (input, init) => {
    calls++;
    return fetch(input, init);
  };
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // a port nobody listens on
  const storage = createClientStorage({
    url: `http://127.0.0.1:${port}`,
    user: "default",
    password: "",
    database: "ja4_processing",
    retry: { attempts: 3, baseMs: 1, maxMs: 2 },
    requestTimeoutMs: 2000,
    kind: "server",
    log,
    fetch: counting,
  });
  const err = await assertRejects(() => storage.insert("http_logs", [{ path: "/" }]), StorageError);
  assertEquals(err.code, "UNAVAILABLE");
  assert(err.message.includes(`127.0.0.1:${port}`), err.message);
  assertEquals(calls, 3);
});

function testContext(overrides: Record<string, unknown>): CommandContext {
  const config = loadConfig([...LIB_CONFIG_KEYS, ...STORAGE_CONFIG_KEYS], { flags: overrides });
  const shutdown: Shutdown = {
    signal: new AbortController().signal,
    onShutdown: () => {},
    trigger: () => Promise.resolve(),
    dispose: () => {},
  };
  return { config, flags: {}, args: [], log, signal: shutdown.signal, shutdown };
}

Deno.test("storage service owns the directory; openStorage and another process use its endpoint", async () => {
  const database = `ja4_svc_${Deno.pid}_${Date.now()}`;
  const ctx = testContext({
    data_dir: testDataDir(),
    "storage.database": database,
    "storage.http_port": "0",
  });
  const svc = await storageService(ctx);
  assert(!("skipped" in svc), "storage service skipped");
  try {
    assert(svc.where[0].startsWith("ClickHouse HTTP http://127.0.0.1:"), svc.where[0]);

    // In the owner's process (the other services of `ja4 start`): the owner's own handle.
    const viaOpen = await openStorage(ctx.config, log);
    assertEquals(viaOpen.kind, "embedded");
    const [known] = await viaOpen.query<{ n: number }>(
      "SELECT count() AS n FROM known_fingerprints",
    );
    assert(known.n >= 20, `migrated by the service: ${known.n} known fingerprints`);
    await viaOpen.close(); // a borrowed handle: the owner stays open
    assertEquals((await (await openStorage(ctx.config, log)).query("SELECT 1 AS x"))[0].x, 1);

    const deno = Deno.execPath();
    const run = (args: string[]) =>
      new Deno.Command(deno, {
        args: ["run", "-A", "main.ts", ...args],
        cwd: new URL("..", import.meta.url).pathname,
        env: { JA4_STORAGE_DATABASE: database, JA4_LOG_LEVEL: "error", NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const insert = await run([
      "sql",
      "--data-dir",
      testDataDir(),
      "--param",
      "t=192.0.2.44",
      "INSERT INTO soc_classifications (analyst, target_type, target, label) VALUES ('cli', 'ip', {t:String}, 'bot')",
    ]);
    assertEquals(insert.code, 0, new TextDecoder().decode(insert.stderr));
    const out = await run([
      "sql",
      "--data-dir",
      testDataDir(),
      "--format",
      "JSONEachRow",
      "SELECT target, label FROM view_soc_current_labels",
    ]);
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assertEquals(
      new TextDecoder().decode(out.stdout).trim(),
      JSON.stringify({ target: "192.0.2.44", label: "bot" }),
    );
    const status = await run(["migrate", "--status", "--data-dir", testDataDir()]);
    assertEquals(status.code, 0, new TextDecoder().decode(status.stderr));
    assert(new TextDecoder().decode(status.stdout).includes("applied   06_ml_and_soc.sql"));

    await assertRejects(() => storageService(ctx), StorageError, "already owned by process");
  } finally {
    await svc.stop();
    const cleanup = await openTestStorage({ migrate: false });
    await cleanup.command(`DROP DATABASE IF EXISTS ${database} SYNC`);
    await cleanup.close();
  }
  let gone = false;
  try {
    await Deno.stat(`${testDataDir()}/storage-endpoint.json`);
  } catch (err) {
    gone = err instanceof Deno.errors.NotFound;
  }
  assert(gone, "endpoint file removed at stop");
});

Deno.test("a stale endpoint file (dead owner) is ignored: the directory is opened directly", async () => {
  const db = await openTestStorage({ migrate: false });
  const file = `${testDataDir()}/storage-endpoint.json`;
  // A dead pid and a URL nothing should be asked: openStorage must not use them.
  const child = new Deno.Command("true").spawn();
  const deadPid = child.pid;
  await child.status;
  await Deno.writeTextFile(
    file,
    JSON.stringify({ url: "http://127.0.0.1:1", token: "x", database: db.database, pid: deadPid }),
  );
  try {
    assertEquals(processAlive(deadPid), false);
    assertEquals(processAlive(Deno.pid), true);
    const config = loadConfig([...LIB_CONFIG_KEYS, ...STORAGE_CONFIG_KEYS], {
      flags: { data_dir: testDataDir(), "storage.database": db.database },
    });
    const storage = await openStorage(config, log);
    assertEquals(storage.kind, "embedded");
    assertEquals((await storage.query("SELECT 1 AS x"))[0].x, 1);
    await storage.close();
  } finally {
    await Deno.remove(file);
    await db.close();
  }
});
