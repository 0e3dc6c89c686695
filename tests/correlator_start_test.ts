// `ja4 start` as an operator runs it: the correlator starts after storage in the same process,
// takes events on its sockets, and at SIGTERM drains and writes everything through the owner's
// chDB before storage stops; `ja4 sql` on the data directory then sees every row.
import { assertEquals } from "../lib/testing.ts";
import { connectLineWriter } from "../lib/unix_socket.ts";
import { syntheticStream } from "../correlator/synthetic.ts";
import { waitFor } from "./helpers/capture_process.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function sql(dataDir: string, query: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-prompt",
      MAIN,
      "sql",
      "--data-dir",
      dataDir,
      "--format",
      "TabSeparated",
      query,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`ja4 sql failed: ${err}`);
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test({
  name:
    "ja4 start: the correlator writes through the storage owner and flushes everything at SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ja4-start-" });
    const env = {
      JA4_CORRELATOR_HTTP_SOCKET: `${dir}/run/http.socket`,
      JA4_CORRELATOR_NETWORK_SOCKET: `${dir}/run/network.socket`,
      JA4_STORAGE_HTTP_PORT: "0",
      // The detector also runs under `ja4 start`: keep it off the fixed port 8080.
      JA4_DETECTOR_PORT: "0",
      JA4_LOG_FORMAT: "json",
      // Generous: the whole suite may run beside this test.
      JA4_SHUTDOWN_TIMEOUT_MS: "60000",
    };
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-prompt", MAIN, "start", "--data-dir", `${dir}/data`],
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new Response(child.stdout).text();
    const stderr = new Response(child.stderr).text();
    let exited = false;
    try {
      await waitFor(
        async () => {
          try {
            (await Deno.connect({ transport: "unix", path: env.JA4_CORRELATOR_NETWORK_SOCKET }))
              .close();
            return true;
          } catch {
            return false;
          }
        },
        "ja4 start's correlator sockets",
        120_000,
      );
      const s = syntheticStream({
        connections: 300,
        requestsPerConnection: 3,
        noTls: 25,
        tlsOnly: 15,
      });
      const nw = await connectLineWriter(env.JA4_CORRELATOR_NETWORK_SOCKET);
      await nw.write(s.tls.map((e) => JSON.stringify(e)));
      nw.close();
      const hw = await connectLineWriter(env.JA4_CORRELATOR_HTTP_SOCKET);
      await hw.write(s.http.map((e) => JSON.stringify(e)));
      hw.close();
      // No waiting for the window or the TTL: SIGTERM itself must write the waiting requests
      // (no_tls) and the unused handshakes (tls_only).
      child.kill("SIGTERM");
      const status = await child.status;
      exited = true;
      const log = await stderr;
      assertEquals(status.code, 0, log);
      const out = await stdout;
      assertEquals(/correlator\s+http /.test(out), true, out);

      const byStatus = await sql(
        `${dir}/data`,
        "SELECT match_status, count() FROM http_logs GROUP BY match_status ORDER BY match_status",
      );
      assertEquals(
        byStatus,
        `matched\t${s.expected.matched}\nno_tls\t${s.expected.no_tls}\ntls_only\t${s.expected.tls_only}`,
      );
      assertEquals(
        await sql(`${dir}/data`, "SELECT count() FROM tls_handshakes"),
        String(s.expected.tls_rows),
      );
    } finally {
      if (!exited) {
        child.kill("SIGKILL");
        await child.status;
      }
      await stdout.catch(() => "");
      await stderr.catch(() => "");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
