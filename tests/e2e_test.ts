// End to end on one host, as deployed: real Apache with mod_reqin_log over HTTPS on 127.0.0.1
// writes http.socket; `ja4 capture` on lo (a child process, root) writes network.socket; the
// correlator joins them into chDB; curl clients make the traffic. Every HTTPS request must land
// in http_logs as `matched`, with the JA4 (and JA4T, JA4S) that `ja4 fingerprint` computes
// offline from a tcpdump recording of the same traffic, and the client port curl reports.
// Needs root (live capture), Apache with apxs (apache2, apache2-dev), tcpdump and curl;
// skips with a message otherwise.
import { assert, assertEquals } from "../lib/testing.ts";
import { createLogger } from "../lib/log.ts";
import { openTestStorage } from "../lib/storage/testing.ts";
import { canCapture } from "../capture/privileges.ts";
import { startCorrelator } from "../correlator/service.ts";
import { borrowedStorage, correlatorConfig } from "../correlator/testing.ts";
import { startApache } from "./helpers/apache.ts";
import { startCaptureProcess, waitFor } from "./helpers/capture_process.ts";
import { startTcpdump } from "./helpers/tcpdump.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (
    const [tool, args] of [["tcpdump", ["--version"]], ["curl", ["--version"]], ["apxs", [
      "-q",
      "TARGET",
    ]]]
  ) {
    try {
      const out = await new Deno.Command(tool as string, {
        args: args as string[],
        stdout: "null",
        stderr: "null",
      })
        .output();
      if (!out.success) missing.push(tool as string);
    } catch {
      missing.push(tool as string);
    }
  }
  return missing;
}

const skipReason = !canCapture()
  ? "needs root or CAP_NET_RAW for live capture on lo"
  : (await missingTools()).map((t) => `${t} not installed`).join(", ");
if (skipReason) console.warn(`e2e_test: skipped (${skipReason})`);

/** One curl run: its options and URLs (one request each). */
interface CurlRun {
  name: string;
  args: string[];
  urls: string[];
}

async function curl(run: CurlRun): Promise<number[]> {
  const out = await new Deno.Command("curl", {
    // %{local_port} per transfer: the client port the join key must carry.
    args: [
      "-sS",
      "-w",
      "%{local_port} %{http_code}\\n",
      "--max-time",
      "20",
      ...run.args,
      ...run.urls.flatMap((u) => ["-o", "/dev/null", u]),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert(out.success, `curl ${run.name} failed: ${new TextDecoder().decode(out.stderr)}`);
  const lines = text.trim().split("\n");
  assertEquals(lines.length, run.urls.length, `curl ${run.name}: ${text}`);
  for (const l of lines) assertEquals(l.split(" ")[1], "200", `curl ${run.name}: ${text}`);
  return lines.map((l) => Number(l.split(" ")[0]));
}

/** waitFor, with the correlator's counters in the failure message. */
async function waitWithStats(
  svc: { pipeline: { stats(): Record<string, number> } },
  cond: () => boolean,
  what: string,
): Promise<void> {
  try {
    await waitFor(cond, what, 90_000);
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; correlator: ${JSON.stringify(svc.pipeline.stats())}`,
    );
  }
}

interface OfflineRecord {
  src_port: number;
  ja4: string;
  ja4s?: string;
  ja4t?: string;
  ja3: string;
  tls_server_name?: string;
}

Deno.test({
  name:
    "e2e: Apache+mod_reqin_log over HTTPS, ja4 capture on lo, correlator → http_logs JA4 = offline JA4",
  ignore: skipReason !== "",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ja4-e2e-" });
    // Apache's children run as www-data: they must traverse to http.socket.
    await Deno.chmod(dir, 0o755);
    const storage = await openTestStorage();
    const log = createLogger({ level: "error", format: "json" });
    const config = correlatorConfig(dir, {
      // The deployment's permissions: owner and Apache's group only.
      "correlator.socket_mode": "0660",
      "correlator.socket_group": "www-data",
      "correlator.sinks": ["clickhouse"],
      "correlator.batch_ms": 100,
    });
    await Deno.mkdir(`${dir}/run`, { mode: 0o755 });
    await Deno.chmod(`${dir}/run`, 0o755);
    const svc = await startCorrelator({ config, log }, {
      connectStorage: () => Promise.resolve(borrowedStorage(storage)),
    });
    let apache: Awaited<ReturnType<typeof startApache>> | undefined;
    let capture: Awaited<ReturnType<typeof startCaptureProcess>> | undefined;
    let stopped = false;
    try {
      apache = await startApache({
        socketPath: `${dir}/run/http.socket`,
        mpm: "event",
        http2: true,
      });
      const port = apache.httpsPort;
      const filter = `tcp port ${port}`;
      const tcpdump = await startTcpdump("lo", filter, `${dir}/ref.pcap`);
      capture = await startCaptureProcess([
        "--interface",
        "lo",
        "--filter",
        filter,
        "--socket",
        `${dir}/run/network.socket`,
        "--stats-interval",
        "0",
      ]);
      const url = `https://127.0.0.1:${port}/index.html`;
      const tls = ["--cacert", apache.certPath];
      const runs: CurlRun[] = [
        // Keep-alive: three requests on one connection, one handshake.
        {
          name: "keep-alive",
          args: [...tls, "--http1.1"],
          urls: [url, `${url}?b=2`, `${url}?c=3`],
        },
        {
          name: "tls1.2",
          args: [...tls, "--http1.1", "--tlsv1.2", "--tls-max", "1.2"],
          urls: [url],
        },
        { name: "h2", args: [...tls, "--http2"], urls: [url, `${url}?h2=2`] },
        {
          name: "tls1.3-aes128",
          args: [...tls, "--http1.1", "--tlsv1.3", "--tls13-ciphers", "TLS_AES_128_GCM_SHA256"],
          urls: [url],
        },
        {
          name: "sni-localhost",
          args: [...tls, "--http1.1"],
          urls: [`https://localhost:${port}/index.html`],
        },
      ];
      const ports = new Map<number, string>();
      for (const run of runs) for (const p of await curl(run)) ports.set(p, run.name);
      const httpsRequests = runs.reduce((n, r) => n + r.urls.length, 0);
      // A plain-HTTP request: no handshake exists, so it must come out as no_tls.
      const plain = await curl({
        name: "plain",
        args: [],
        urls: [`http://127.0.0.1:${apache.httpPort}/index.html?plain=1`],
      });

      await waitWithStats(
        svc,
        () => svc.pipeline.stats().lines_http >= httpsRequests + 1,
        `Apache's lines on http.socket (${httpsRequests + 1} expected)`,
      );
      await tcpdump.stop();
      // SIGTERM: the sensor flushes its queue into network.socket before exiting.
      const capStop = await capture.stop();
      assertEquals(capStop.code, 0, capStop.stderr);
      await waitWithStats(
        svc,
        () => svc.pipeline.stats().lines_network >= ports.size,
        `TLS events (${ports.size} hellos expected; capture log: ${capStop.stderr.slice(-2000)})`,
      );
      await svc.stop();
      stopped = true;

      // Offline: the same traffic from tcpdump's file through `ja4 fingerprint`.
      const fp = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--no-prompt",
          MAIN,
          "fingerprint",
          "--format",
          "jsonl",
          `${dir}/ref.pcap`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(fp.success, new TextDecoder().decode(fp.stderr));
      const offline = new Map<number, OfflineRecord>();
      for (const line of new TextDecoder().decode(fp.stdout).split("\n")) {
        if (!line.trim()) continue;
        const r = JSON.parse(line) as OfflineRecord;
        if (r.ja4) offline.set(Number(r.src_port), r);
      }

      const rows = await storage.query<
        {
          src_port: number;
          path: string;
          query: string;
          protocol: string;
          match_status: string;
          ja4: string;
          ja4s: string;
          ja4t: string;
          ja3: string;
          tls_server_name: string;
          user_agent: string;
        }
      >(
        "SELECT src_port, path, query, protocol, match_status, ja4, ja4s, ja4t, ja3, tls_server_name, user_agent " +
          "FROM http_logs ORDER BY ts",
      );
      const requests = rows.filter((r) => r.match_status !== "tls_only");
      assertEquals(requests.length, httpsRequests + 1, JSON.stringify(rows, null, 1));
      const matched = requests.filter((r) => r.match_status === "matched");
      assertEquals(matched.length, httpsRequests, JSON.stringify(requests, null, 1));
      for (const r of matched) {
        const name = ports.get(Number(r.src_port));
        assert(name, `row with src_port ${r.src_port} is not a curl client port`);
        const ref = offline.get(Number(r.src_port));
        assert(ref, `no offline record for client port ${r.src_port} (${name})`);
        assertEquals(r.ja4, ref.ja4, `${name}: JA4 joined vs offline`);
        assertEquals(r.ja3, ref.ja3, `${name}: JA3 joined vs offline`);
        if (ref.ja4t) assertEquals(r.ja4t, ref.ja4t, `${name}: JA4T`);
        // JA4S comes as a follow-up event; when it reached the join first, it must be right.
        if (r.ja4s) assertEquals(r.ja4s, ref.ja4s, `${name}: JA4S`);
        assert(r.user_agent.startsWith("curl/"), r.user_agent);
      }
      // The keep-alive connection's three requests share one port and one handshake.
      const ka = matched.filter((r) => ports.get(Number(r.src_port)) === "keep-alive");
      assertEquals(ka.length, 3);
      assertEquals(new Set(ka.map((r) => r.src_port)).size, 1);
      assertEquals(matched.filter((r) => r.protocol === "HTTP/2").length, 2);
      assertEquals(
        matched.find((r) => ports.get(Number(r.src_port)) === "sni-localhost")?.tls_server_name,
        "localhost",
      );
      const plainRow = requests.find((r) => r.query === "plain=1");
      assertEquals([plainRow?.match_status, Number(plainRow?.src_port)], ["no_tls", plain[0]]);
      // Every handshake was used by a request: no tls_only rows, one tls_handshakes hello each.
      assertEquals(rows.filter((r) => r.match_status === "tls_only").length, 0);
      const [hs] = await storage.query<{ n: number }>(
        "SELECT count() AS n FROM tls_handshakes WHERE is_update = 0",
      );
      assertEquals(Number(hs.n), ports.size);
    } finally {
      if (capture) await capture.stop();
      if (!stopped) await svc.stop();
      await apache?.stop();
      await storage.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
