// Start-up failures of the correlator service are clear errors that leave nothing behind.
import { assertEquals, assertRejects } from "../lib/testing.ts";
import { loadConfig } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { SocketError } from "../lib/unix_socket.ts";
import { CorrelatorError, resolveSocketPaths, startCorrelator } from "../correlator/service.ts";
import { CORRELATOR_TEST_KEYS, correlatorConfig } from "../correlator/testing.ts";

const log = createLogger({ level: "error", write: () => {} });
const KEYS = CORRELATOR_TEST_KEYS;
const config = correlatorConfig;

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("resolveSocketPaths: defaults by user, network.socket beside http.socket", () => {
  const none = loadConfig(KEYS, {});
  assertEquals(resolveSocketPaths(none, 0, {}), {
    http: "/var/run/logcorr/http.socket",
    network: "/var/run/logcorr/network.socket",
  });
  assertEquals(
    resolveSocketPaths(none, 1000, { XDG_RUNTIME_DIR: "/run/user/1000" }).network,
    "/run/user/1000/logcorr/network.socket",
  );
  const custom = loadConfig(KEYS, { flags: { "correlator.http_socket": "/srv/s/h.sock" } });
  assertEquals(resolveSocketPaths(custom, 1000, {}), {
    http: "/srv/s/h.sock",
    network: "/srv/s/network.socket",
  });
});

Deno.test({
  name:
    "startCorrelator: a second instance on the same sockets is refused; a busy metrics port is a clear error",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const first = await startCorrelator({ config: config(dir), log }, { sinks: [] });
      const err = await assertRejects(
        () => startCorrelator({ config: config(dir), log }, { sinks: [] }),
        SocketError,
        "already running",
      );
      assertEquals(err.code, "IN_USE");
      await first.stop();
      assertEquals([exists(`${dir}/run/http.socket`), exists(`${dir}/run/network.socket`)], [
        false,
        false,
      ]);

      const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (busy.addr as Deno.NetAddr).port;
      try {
        const e = await assertRejects(
          () =>
            startCorrelator({ config: config(dir, { "correlator.metrics_port": port }), log }, {
              sinks: [],
            }),
          CorrelatorError,
          "correlator.metrics_port",
        );
        assertEquals(e.code, "METRICS_PORT");
      } finally {
        busy.close();
      }
      // Nothing half-started is left: the sockets were never created.
      assertEquals([exists(`${dir}/run/http.socket`), exists(`${dir}/run/network.socket`)], [
        false,
        false,
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
