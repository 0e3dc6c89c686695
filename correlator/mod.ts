/**
 * correlator/: joins HTTP requests (mod_reqin_log → http.socket) to the TLS handshakes of their
 * connections (capture → network.socket) and writes them to ClickHouse, a JSONL file and/or
 * stdout without losing events. See correlator/README.md.
 *
 * @example
 * ```sh
 * deno task correlate --http-socket /run/logcorr/http.socket --data-dir /var/lib/ja4
 * ```
 */
import type { Command } from "../lib/cli.ts";
import type { ServiceStarter } from "../lib/service.ts";
import { startCorrelator } from "./service.ts";

// The public surface: config keys, the pure join and rows, the pipeline and the service.
export { CORRELATOR_CONFIG_KEYS } from "./config.ts";
export { Joiner, type JoinOptions, type JoinResult, type JoinStats } from "./join.ts";
export { httpLogRow, tlsHandshakeRow } from "./rows.ts";
export { Pipeline } from "./pipeline.ts";
export { resolveSocketPaths, type RunningCorrelator, startCorrelator } from "./service.ts";

/** `ja4 correlate`: runs until SIGINT/SIGTERM, then drains and flushes everything. */
export const correlateCommand: Command = {
  name: "correlate",
  summary: "join HTTP requests to TLS handshakes and store them",
  usage:
    "ja4 correlate [--http-socket PATH] [--network-socket PATH] [--data-dir DIR] [--sinks LIST]\n[--metrics-port PORT]",
  details: [
    "Reads newline-delimited JSON events from both UNIX sockets, joins each request to its",
    "connection's TLS handshake (src_ip:src_port + server port, within correlator.window_ms),",
    "and writes http_logs/tls_handshakes rows to the sinks. Unmatched requests and handshakes",
    "are written too (match_status no_tls / tls_only). When ClickHouse is down, batches are",
    "spooled under <data_dir>/spool/correlator and replayed in order when it returns.",
    "SIGTERM drains the sockets and the join and flushes every sink before exiting.",
  ].join("\n"),
  flags: [
    {
      name: "http-socket",
      type: "string",
      value: "PATH",
      configKey: "correlator.http_socket",
      help: "socket mod_reqin_log writes to",
    },
    {
      name: "network-socket",
      type: "string",
      value: "PATH",
      configKey: "correlator.network_socket",
      help: "socket the capture daemon writes to",
    },
    {
      name: "data-dir",
      type: "string",
      value: "DIR",
      configKey: "data_dir",
      help: "embedded chDB data directory; the spool lives under it",
    },
    {
      name: "sinks",
      type: "string",
      value: "LIST",
      configKey: "correlator.sinks",
      help: "comma-separated: clickhouse, file, stdout",
    },
    {
      name: "metrics-port",
      type: "string",
      value: "PORT",
      configKey: "correlator.metrics_port",
      help: "Prometheus text on 127.0.0.1:PORT/metrics",
    },
  ],
  async run(ctx) {
    const svc = await startCorrelator(ctx);
    ctx.shutdown.onShutdown("stop correlator", () => svc.stop());
    for (const w of svc.where) console.error(`  ${w}`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    // The shutdown hook registered above drains and flushes, then the process exits.
    await new Promise(() => {});
    return 0;
  },
};

/** The correlator under `ja4 start` (after storage: it writes through the owner's handle). */
export const correlatorService: ServiceStarter = async (ctx) => {
  const svc = await startCorrelator(ctx);
  return { name: "correlator", where: svc.where, stop: () => svc.stop() };
};
