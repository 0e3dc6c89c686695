// The correlator with real UNIX sockets and real chDB: exact row counts in and out, an outage
// of ClickHouse survived through the spool with no duplicates, malformed input survived.
import { assert, assertEquals } from "../lib/testing.ts";
import { createLogger } from "../lib/log.ts";
import { openTestStorage } from "../lib/storage/testing.ts";
import { serveEndpoint } from "../lib/storage/http_endpoint.ts";
import { createClientStorage } from "../lib/storage/client_storage.ts";
import type { Storage } from "../lib/storage/types.ts";
import { connectLineWriter, type LineWriter } from "../lib/unix_socket.ts";
import { startCorrelator } from "../correlator/service.ts";
import { checkDeduplication } from "../correlator/sink_clickhouse.ts";
import { StorageError } from "../lib/storage/errors.ts";
import { syntheticStream } from "../correlator/synthetic.ts";
import { borrowedStorage, correlatorConfig } from "../correlator/testing.ts";

const log = createLogger({
  level: Deno.env.get("TEST_LOG") ? "debug" : "error",
  write: Deno.env.get("TEST_LOG") ? undefined : () => {},
});

function config(dir: string, extra: Record<string, unknown> = {}) {
  return correlatorConfig(dir, {
    "correlator.sinks": ["clickhouse"],
    // Long enough that a slow CI machine never turns a match into no_tls; stop() drains.
    "correlator.window_ms": 60_000,
    "correlator.batch_rows": 700,
    "correlator.batch_ms": 50,
    "correlator.retry_ms": 100,
    ...extra,
  });
}

/** Sends lines over several connections at once, in chunks. */
async function sendAll(path: string, lines: string[], writers = 4): Promise<void> {
  const ws: LineWriter[] = await Promise.all(
    Array.from({ length: writers }, () => connectLineWriter(path)),
  );
  await Promise.all(ws.map(async (w, i) => {
    const mine = lines.filter((_, k) => k % writers === i);
    for (let k = 0; k < mine.length; k += 250) await w.write(mine.slice(k, k + 250));
    w.close();
  }));
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function counts(s: Storage) {
  const by = await s.query<{ match_status: string; n: number }>(
    "SELECT match_status, count() AS n FROM http_logs GROUP BY match_status",
  );
  const m = Object.fromEntries(by.map((r) => [r.match_status, Number(r.n)]));
  const [t] = await s.query<{ n: number }>("SELECT count() AS n FROM tls_handshakes");
  const [u] = await s.query<{ n: number; u: number }>(
    "SELECT count() AS n, uniqExact(path, src_ip, src_port, match_status, ja4) AS u FROM http_logs",
  );
  return {
    matched: m.matched ?? 0,
    no_tls: m.no_tls ?? 0,
    tls_only: m.tls_only ?? 0,
    tls_rows: Number(t.n),
    rows: Number(u.n),
    distinct: Number(u.u),
  };
}

Deno.test({
  name: "correlator: N events over real sockets → exactly N rows in chDB; malformed lines survived",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const storage = await openTestStorage();
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const metricsPort = (probe.addr as Deno.NetAddr).port;
    probe.close();
    try {
      const svc = await startCorrelator(
        { config: config(dir, { "correlator.metrics_port": metricsPort }), log },
        { connectStorage: () => Promise.resolve(borrowedStorage(storage)) },
      );
      const s = syntheticStream({
        connections: 1500,
        requestsPerConnection: 3,
        noTls: 400,
        tlsOnly: 300,
      });
      // Hostile but valid JSON: a lone surrogate escape and control characters in HTTP fields.
      s.http[7].path += "\ud800";
      s.http[8].headers = { "user-agent": "\udfff\u0000\n'\"" };
      const bad = [
        "not json",
        "[1,2,3]",
        '{"type":"http"}',
        '{"type":"dns","ts_us":1,"src_ip":"1.2.3.4","src_port":1,"dst_ip":"1.2.3.4","dst_port":2}',
        "x".repeat(70_000),
        '{"type":"http","ts_us":1,"src_ip":"1.2.3.4","src_port":99999,"dst_ip":"1.2.3.4","dst_port":2}',
      ];
      const httpLines = s.http.map((e) => JSON.stringify(e));
      // Interleave garbage into the stream: what follows it must still be taken.
      for (let i = 0; i < bad.length; i++) httpLines.splice(i * 500, 0, bad[i]);
      await Promise.all([
        sendAll(`${dir}/run/network.socket`, s.tls.map((e) => JSON.stringify(e))),
        sendAll(`${dir}/run/http.socket`, httpLines),
      ]);
      const invalidUtf8 = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d, 0x0a]);
      const raw = await Deno.connect({ transport: "unix", path: `${dir}/run/http.socket` });
      await raw.write(invalidUtf8);
      raw.close();
      await until("every line read", () => {
        const st = svc.pipeline.stats();
        // The oversized line is not a line; the invalid UTF-8 one is.
        return st.lines_http === httpLines.length - 1 + 1 && st.lines_network === s.tls.length &&
          st.oversized === 1;
      });
      // The Prometheus endpoint on 127.0.0.1 reports the same counters while it runs.
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert(
        metrics.includes(`ja4_correlator_lines_total{socket="network"} ${s.tls.length}`),
        metrics.slice(0, 500),
      );
      assert(metrics.includes('ja4_correlator_rejected_lines_total{reason="json"} 2'), metrics);
      assert(metrics.includes('ja4_correlator_sink_spool_batches{sink="clickhouse"}'), metrics);
      // Everything joined so far in chDB (overflow batches replayed), then stop drains the join.
      await svc.pipeline.flush();
      await svc.stop();
      const st = svc.pipeline.stats();
      assertEquals(st.oversized, 1);
      assertEquals(st.rejected, bad.length - 1 + 1, "5 malformed + 1 invalid UTF-8");
      // Bursts may overflow to the spool (disk is the queue's overflow); all must be replayed.
      assertEquals([st.clickhouse_dropped_rows, st.clickhouse_spool_batches], [0, 0]);
      const c = await counts(storage);
      assertEquals(
        { matched: c.matched, no_tls: c.no_tls, tls_only: c.tls_only, tls_rows: c.tls_rows },
        s.expected,
      );
      assertEquals(c.distinct, c.rows, "no duplicate rows");
      // Every matched row carries its own connection's handshake (path /cI/… ↔ JA4 …_cI).
      const [wrong] = await storage.query<{ n: number }>(
        "SELECT count() AS n FROM http_logs WHERE match_status = 'matched' " +
          "AND splitByChar('/', path)[2] != splitByChar('_', ja4)[3]",
      );
      assertEquals(Number(wrong.n), 0);
      const [odd] = await storage.query<{ n: number }>(
        "SELECT count() AS n FROM http_logs WHERE path LIKE '%\uFFFD' OR user_agent LIKE '\uFFFD%'",
      );
      assertEquals(Number(odd.n), 2, "hostile values stored, not refused");
      const [addr] = await storage.query<{ ip: string }>(
        "SELECT toString(src_ip) AS ip FROM http_logs WHERE path = '/c0/r0'",
      );
      assertEquals(addr.ip, "::ffff:10.0.0.0");
    } finally {
      await storage.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "correlator: ClickHouse unreachable → spool → endpoint comes up → exact counts, no duplicates",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const storage = await openTestStorage();
    // A port nobody listens on yet: connections are refused until the endpoint starts there.
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const token = "integration-token";
    const connect = () =>
      Promise.resolve(createClientStorage({
        url: `http://127.0.0.1:${port}`,
        user: "default",
        password: token,
        database: storage.database,
        retry: { attempts: 1, baseMs: 1, maxMs: 1 },
        requestTimeoutMs: 10_000,
        kind: "server",
        log,
      }));
    let endpoint: { stop(): Promise<void> } | undefined;
    try {
      const svc = await startCorrelator({ config: config(dir), log }, { connectStorage: connect });
      const first = syntheticStream({
        connections: 1000,
        requestsPerConnection: 2,
        noTls: 100,
        tlsOnly: 50,
      });
      await sendAll(`${dir}/run/network.socket`, first.tls.map((e) => JSON.stringify(e)));
      await sendAll(`${dir}/run/http.socket`, first.http.map((e) => JSON.stringify(e)));
      await until("batches spooled", () => {
        const st = svc.pipeline.stats();
        return st.lines_http === first.http.length && st.clickhouse_spool_batches >= 2 &&
          st.batch_pending_rows === 0;
      });
      const spooled = svc.pipeline.stats().clickhouse_spool_batches;
      assert(spooled >= 2, `spooled ${spooled}`);
      endpoint = await serveEndpoint(storage, { port, token, log, advertise: false });
      const second = syntheticStream({
        connections: 800,
        requestsPerConnection: 2,
        noTls: 60,
        tlsOnly: 40,
        clientNet: 11,
      });
      await sendAll(`${dir}/run/network.socket`, second.tls.map((e) => JSON.stringify(e)));
      await sendAll(`${dir}/run/http.socket`, second.http.map((e) => JSON.stringify(e)));
      await until("spool replayed", () => svc.pipeline.stats().clickhouse_spool_batches === 0);
      await svc.stop();
      const st = svc.pipeline.stats();
      assertEquals(st.clickhouse_dropped_rows, 0);
      assert(st.clickhouse_replayed_batches >= spooled);
      const c = await counts(storage);
      const exp = {
        matched: first.expected.matched + second.expected.matched,
        no_tls: first.expected.no_tls + second.expected.no_tls,
        tls_only: first.expected.tls_only + second.expected.tls_only,
        tls_rows: first.expected.tls_rows + second.expected.tls_rows,
      };
      assertEquals({
        matched: c.matched,
        no_tls: c.no_tls,
        tls_only: c.tls_only,
        tls_rows: c.tls_rows,
      }, exp);
      assertEquals(c.distinct, c.rows, "no duplicate rows");
      assertEquals(
        [...Deno.readDirSync(`${dir}/data/spool/correlator`)].filter((e) => e.isFile).length,
        0,
      );
    } finally {
      await endpoint?.stop();
      await storage.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "correlator: answers lost after chDB took the insert → spool → replay deduplicated by token",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const storage = await openTestStorage();
    try {
      // What the README asks of a MergeTree deployment; Replicated* tables do it by default.
      for (const t of ["http_logs", "tls_handshakes"]) {
        await storage.command(
          `ALTER TABLE ${t} MODIFY SETTING non_replicated_deduplication_window = 1000`,
        );
      }
      assertEquals(await checkDeduplication(storage), []);
      // The first inserts land, but their answers are "lost": the sink must treat them as failed.
      let lose = 3;
      const lost = () => {
        if (lose > 0) {
          lose--;
          throw new StorageError("UNAVAILABLE", "connection reset after the request was sent");
        }
      };
      // Embedded, the sink inserts through insert() (a Native block); over HTTP it sends
      // INSERT … FORMAT JSONEachRow through command(): both lose their answers alike.
      const lossy: Storage = {
        ...borrowedStorage(storage),
        command: async (q, p) => {
          await storage.command(q, p);
          if (q.startsWith("INSERT")) lost();
        },
        insert: async (table, rows, options) => {
          await storage.insert(table, rows, options);
          lost();
        },
      };
      const svc = await startCorrelator({ config: config(dir), log }, {
        connectStorage: () => Promise.resolve(lossy),
      });
      const s = syntheticStream({
        connections: 1000,
        requestsPerConnection: 2,
        noTls: 50,
        tlsOnly: 20,
      });
      await sendAll(`${dir}/run/network.socket`, s.tls.map((e) => JSON.stringify(e)));
      await sendAll(`${dir}/run/http.socket`, s.http.map((e) => JSON.stringify(e)));
      await until("every line read", () => svc.pipeline.stats().lines_http === s.http.length);
      await until(
        "spool replayed",
        () => lose === 0 && svc.pipeline.stats().clickhouse_spool_batches === 0,
      );
      await svc.stop();
      const st = svc.pipeline.stats();
      assert(st.clickhouse_spooled_batches >= 1, "a lost answer sent its batch to the spool");
      const c = await counts(storage);
      assertEquals(
        { matched: c.matched, no_tls: c.no_tls, tls_only: c.tls_only, tls_rows: c.tls_rows },
        s.expected,
      );
      assertEquals(c.distinct, c.rows, "no duplicate rows");
      // The hourly aggregate fed by a materialized view counts each request once too.
      const [agg] = await storage.query<{ n: number }>(
        "SELECT sum(requests) AS n FROM agg_http_1h",
      );
      assertEquals(Number(agg.n), s.expected.matched + s.expected.no_tls);
    } finally {
      await storage.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
