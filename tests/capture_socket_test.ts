/**
 * The sensor's socket output under a correlator restart: live capture on `lo` with real clients,
 * a consumer on network.socket (the platform's line server, as the correlator uses it) that goes
 * away mid-run and comes back. Everything that fits in the queue must arrive, each handshake once.
 * Needs root (or CAP_NET_RAW); skips with a message otherwise.
 */
import { assert, assertEquals } from "../lib/testing.ts";
import type { TlsEvent } from "../lib/events.ts";
import { createLogger } from "../lib/log.ts";
import { serveLines } from "../lib/unix_socket.ts";
import { canCapture } from "../capture/privileges.ts";
import { startCaptureProcess, waitFor } from "./helpers/capture_process.ts";
import { clientMatrix, clientsAvailable, runClients } from "./helpers/tls_clients.ts";
import { startTlsServer } from "./helpers/tls_server.ts";

const missing = await clientsAvailable();
const skipReason = !canCapture()
  ? "needs root or CAP_NET_RAW for live capture on lo"
  : missing.map((t) => `${t} not installed`).join(", ");
if (skipReason) console.warn(`capture_socket_test: skipped (${skipReason})`);

const quiet = createLogger({ level: "error", write: () => {} });

function consumer(path: string) {
  const events: TlsEvent[] = [];
  const server = serveLines({
    path,
    maxLineBytes: 1 << 20,
    onLine: (line) => events.push(JSON.parse(line)),
    onOversize: () => {
      throw new Error("oversize line");
    },
    log: quiet,
    drainQuietMs: 100,
  });
  return { events, server };
}

Deno.test({
  name: "socket output: a consumer restart mid-run loses nothing that fits in the queue",
  ignore: skipReason !== "",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ja4-sock-" });
    const server = await startTlsServer();
    const socket = `${dir}/network.socket`;
    try {
      const first = consumer(socket);
      await first.server;
      const cap = await startCaptureProcess(
        ["--interface", "lo", "--filter", `tcp port ${server.port}`, "--socket", socket],
        { JA4_CAPTURE_RECONNECT_MAX_MS: "100", JA4_CAPTURE_STATS_INTERVAL: "0" },
      );
      const specs = clientMatrix(server.host, server.port).filter((s) => s.name !== "openssl-hrr");
      const half = Math.floor(specs.length / 2);

      // Phase 1: the consumer is up.
      await runClients(specs.slice(0, half));
      await waitFor(
        () => first.events.filter((e) => !e.update).length >= half,
        "phase-1 handshakes at the first consumer",
      );
      // The correlator restarts: it stops (draining what was sent), and is away for a while.
      await (await first.server).close();

      // Phase 2: handshakes while nobody listens; the sensor must queue them.
      await runClients(specs.slice(half));
      await new Promise((r) => setTimeout(r, 500));
      const second = consumer(socket);
      await second.server;
      await waitFor(
        () => second.events.filter((e) => !e.update).length >= specs.length - half,
        "phase-2 handshakes delivered after the consumer came back",
      );
      const stopped = await cap.stop();
      assertEquals(stopped.code, 0, stopped.stderr);
      await (await second.server).close();

      const all = [...first.events, ...second.events];
      const hellos = all.filter((e) => !e.update);
      // Each handshake exactly once, over both consumers.
      const ports = hellos.map((e) => e.src_port);
      assertEquals(new Set(ports).size, ports.length, "no handshake delivered twice");
      assertEquals(hellos.length, specs.length);
      assert(second.events.length > 0);
      assert(/"our_drops":0/.test(stopped.stderr), "no events dropped");
      assert(/output disconnected/.test(stopped.stderr), "the restart was noticed");
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
