// The crash guarantee of correlator/README.md, by experiment: a correlator whose ClickHouse is
// unreachable spools batches, is killed with SIGKILL (no shutdown at all) with a half-written
// spool file on disk; a new correlator on the same data directory and socket paths replays the
// spool into chDB. Expected, exactly as the README states:
// - kept: every batch in the spool — every tls_handshakes row and every request already joined;
// - lost: only what was in memory — requests still waiting for a handshake (no_tls) and unused
//   handshakes (tls_only), which were never written;
// - the torn file is discarded, the stale sockets are replaced, nothing is inserted twice.
import { assert, assertEquals } from "../lib/testing.ts";
import { createLogger } from "../lib/log.ts";
import { openTestStorage } from "../lib/storage/testing.ts";
import { connectLineWriter } from "../lib/unix_socket.ts";
import { startCorrelator } from "../correlator/service.ts";
import { decodeSpoolFile } from "../correlator/spool.ts";
import { syntheticStream } from "../correlator/synthetic.ts";
import { borrowedStorage, correlatorConfig } from "../correlator/testing.ts";
import { waitFor } from "./helpers/capture_process.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function spoolRows(dir: string): { http: number; tls: number; files: number; ids: string[] } {
  let http = 0, tls = 0, files = 0;
  const ids: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (!e.isFile || !e.name.endsWith(".batch")) continue;
    const p = decodeSpoolFile(Deno.readTextFileSync(`${dir}/${e.name}`));
    http += p.text.http_logs.split("\n").length - 1;
    tls += p.text.tls_handshakes.split("\n").length - 1;
    files++;
    ids.push(p.id);
  }
  return { http, tls, files, ids };
}

Deno.test({
  name:
    "correlator: SIGKILL keeps every spooled batch; a restart replays it once; memory-only state is lost",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const spool = `${dir}/data/spool/correlator`;
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const refused = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "correlate", "--data-dir", `${dir}/data`],
      env: {
        JA4_CORRELATOR_HTTP_SOCKET: `${dir}/run/http.socket`,
        JA4_CORRELATOR_NETWORK_SOCKET: `${dir}/run/network.socket`,
        JA4_STORAGE_MODE: "server",
        JA4_STORAGE_URL: `http://127.0.0.1:${refused}`,
        JA4_STORAGE_RETRY_ATTEMPTS: "1",
        JA4_CORRELATOR_BATCH_ROWS: "300",
        JA4_CORRELATOR_BATCH_MS: "50",
        JA4_CORRELATOR_RETRY_MS: "600000",
        JA4_CORRELATOR_WINDOW_MS: "600000",
        JA4_CORRELATOR_STATS_INTERVAL_S: "0",
      },
      stdout: "null",
      stderr: "null",
    }).spawn();
    const storage = await openTestStorage();
    try {
      await waitFor(
        async () => {
          try {
            (await Deno.connect({ transport: "unix", path: `${dir}/run/network.socket` })).close();
            return true;
          } catch {
            return false;
          }
        },
        "the child correlator's sockets",
        30_000,
      );
      const s = syntheticStream({
        connections: 1200,
        requestsPerConnection: 2,
        noTls: 70,
        tlsOnly: 30,
      });
      const nw = await connectLineWriter(`${dir}/run/network.socket`);
      await nw.write(s.tls.map((e) => JSON.stringify(e)));
      nw.close();
      const hw = await connectLineWriter(`${dir}/run/http.socket`);
      await hw.write(s.http.map((e) => JSON.stringify(e)));
      hw.close();
      // Every joined row reaches the spool (batches are cut after 50 ms); the requests without
      // a handshake and the unused handshakes stay in memory (window and TTL are long).
      const joined = s.expected.matched;
      await waitFor(
        () => {
          const r = spoolRows(spool);
          return r.http === joined && r.tls === s.expected.tls_rows;
        },
        "every joined row in the spool",
        60_000,
      );
      child.kill("SIGKILL");
      await child.status;
      const before = spoolRows(spool);
      // A batch being written at the instant of the crash: a tmp file that was never renamed.
      await Deno.writeTextFile(`${spool}/99999999999999zzzz-0000000000.batch.tmp`, '{"id":"torn"');

      const log = createLogger({ level: "error", write: () => {} });
      // The same paths: the killed process left its socket files behind.
      const config = correlatorConfig(dir);
      const svc = await startCorrelator({ config, log }, {
        connectStorage: () => Promise.resolve(borrowedStorage(storage)),
      });
      await waitFor(
        () => svc.pipeline.stats().clickhouse_spool_batches === 0,
        "spool replayed",
        60_000,
      );
      await svc.stop();
      assertEquals(svc.pipeline.stats().clickhouse_replayed_batches, before.files);

      const [h] = await storage.query<{ n: number; u: number; m: number }>(
        "SELECT count() AS n, uniqExact(path, src_ip, src_port) AS u, countIf(match_status = 'matched') AS m FROM http_logs",
      );
      const [t] = await storage.query<{ n: number }>("SELECT count() AS n FROM tls_handshakes");
      assertEquals(
        { http: Number(h.n), distinct: Number(h.u), matched: Number(h.m), tls: Number(t.n) },
        { http: before.http, distinct: before.http, matched: joined, tls: s.expected.tls_rows },
      );
      // What the README says is lost: the waiting requests and the unused handshakes.
      assertEquals(before.http, s.expected.matched);
      assert(s.expected.no_tls + s.expected.tls_only > 0);
      const left = [...Deno.readDirSync(spool)].filter((e) => e.isFile).map((e) => e.name);
      assertEquals(left, [], "the torn tmp file is gone and every batch was replayed");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already killed by the test.
      }
      await child.status;
      await storage.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
