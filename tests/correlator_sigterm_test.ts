// `ja4 correlate` as a child process, stopped by SIGTERM while writers are still sending:
// every line sent reaches the JSONL file, and (ClickHouse being unreachable) the spool.
import { assert, assertEquals } from "../lib/testing.ts";
import { connectLineWriter } from "../lib/unix_socket.ts";
import { syntheticStream } from "../correlator/synthetic.ts";
import { decodeSpoolFile } from "../correlator/spool.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function waitForSocket(path: string, child: Deno.ChildProcess, ms = 30_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const c = await Deno.connect({ transport: "unix", path });
      c.close();
      return;
    } catch {
      // Not listening yet: the child is still starting.
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`correlator did not listen on ${path}`);
}

Deno.test({
  name: "correlator: SIGTERM mid-stream loses nothing (file sink and spool both complete)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const refused = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "correlate",
        "--http-socket",
        `${dir}/http.socket`,
        "--network-socket",
        `${dir}/network.socket`,
        "--data-dir",
        `${dir}/data`,
        "--sinks",
        "file,clickhouse",
      ],
      env: {
        JA4_STORAGE_MODE: "server",
        JA4_STORAGE_URL: `http://127.0.0.1:${refused}`,
        JA4_STORAGE_RETRY_ATTEMPTS: "1",
        JA4_CORRELATOR_BATCH_ROWS: "500",
        JA4_CORRELATOR_WINDOW_MS: "60000",
        JA4_CORRELATOR_STATS_INTERVAL_S: "0",
        JA4_LOG_FORMAT: "json",
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Collect the child's log, and notice when its shutdown has begun.
    let logText = "";
    let onShutdown: () => void = () => {};
    const shutdownBegun = new Promise<void>((r) => (onShutdown = r));
    const stderr = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stderr) {
        logText += dec.decode(chunk, { stream: true });
        if (logText.includes('"msg":"shutting down"')) onShutdown();
      }
      return logText;
    })();
    try {
      await waitForSocket(`${dir}/http.socket`, child);
      await waitForSocket(`${dir}/network.socket`, child);
      const s = syntheticStream({
        connections: 3000,
        requestsPerConnection: 3,
        noTls: 500,
        tlsOnly: 200,
      });
      const tls = s.tls.map((e) => JSON.stringify(e));
      const http = s.http.map((e) => JSON.stringify(e));
      const nw = await connectLineWriter(`${dir}/network.socket`);
      const hw = await connectLineWriter(`${dir}/http.socket`);
      const half = Math.floor(http.length / 2);
      await nw.write(tls.slice(0, tls.length / 2));
      await hw.write(http.slice(0, half));
      // Stop while the writers still have half of their lines to send, and send that half
      // only once the shutdown has begun: the drain must still take it.
      child.kill("SIGTERM");
      await shutdownBegun;
      const rest = (async () => {
        for (let i = tls.length / 2; i < tls.length; i += 500) {
          await nw.write(tls.slice(i, i + 500));
        }
        for (let i = half; i < http.length; i += 500) await hw.write(http.slice(i, i + 500));
        nw.close();
        hw.close();
      })();
      await rest;
      const status = await child.status;
      const log = await stderr;
      assertEquals(status.code, 0, log);

      const expectHttpRows = s.expected.matched + s.expected.no_tls + s.expected.tls_only;
      const lines = (await Deno.readTextFile(`${dir}/data/correlator/events.jsonl`))
        .split("\n").filter((l) => l !== "");
      const tables = { http_logs: 0, tls_handshakes: 0 };
      const status_ = { matched: 0, no_tls: 0, tls_only: 0 } as Record<string, number>;
      for (const l of lines) {
        const r = JSON.parse(l);
        tables[r.table as keyof typeof tables]++;
        if (r.table === "http_logs") status_[r.match_status]++;
      }
      assertEquals(tables, { http_logs: expectHttpRows, tls_handshakes: s.expected.tls_rows });
      assertEquals(status_, {
        matched: s.expected.matched,
        no_tls: s.expected.no_tls,
        tls_only: s.expected.tls_only,
      });

      let spooled = 0;
      for (const e of Deno.readDirSync(`${dir}/data/spool/correlator`)) {
        if (!e.isFile) continue;
        assert(e.name.endsWith(".batch"), `unexpected spool file ${e.name}`);
        spooled +=
          decodeSpoolFile(Deno.readTextFileSync(`${dir}/data/spool/correlator/${e.name}`)).count;
      }
      assertEquals(spooled, expectHttpRows + s.expected.tls_rows, "every row is in the spool");
      assert(/"msg":"correlator stopped"/.test(log), "the correlator logged its final stats");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited, as expected.
      }
      await child.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
