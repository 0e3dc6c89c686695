/**
 * The correlator as a running service: both sockets, the pipeline, its timers, the sinks
 * chosen by `correlator.sinks`, the periodic stats line and the optional Prometheus endpoint.
 * Used by `ja4 correlate` and by `ja4 start`.
 *
 * @example
 * ```ts
 * const svc = await startCorrelator({ config, log });
 * // … later, at SIGTERM:
 * await svc.stop(); // drains sockets, flushes the join and every sink
 * ```
 */
import type { Config } from "../lib/config.ts";
import { errorMessage, Ja4Error } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { Storage } from "../lib/storage/types.ts";
import { defaultSocketDir, type LineServer, serveLines } from "../lib/unix_socket.ts";
import type { SinkName } from "./config.ts";
import { renderPrometheus, serveMetrics } from "./metrics.ts";
import { Pipeline } from "./pipeline.ts";
import type { Sink } from "./sink.ts";
import { checkDeduplication, ClickHouseSink } from "./sink_clickhouse.ts";
import { FileSink, StdoutSink } from "./sink_file.ts";
import { Spool } from "./spool.ts";

/** A correlator setup problem outside sockets and spool (those have their own classes). */
export class CorrelatorError extends Ja4Error {}

/** Socket paths from config, with the platform defaults filled in (pure). */
export function resolveSocketPaths(
  config: Config,
  uid: number | null,
  env: Record<string, string | undefined>,
): { http: string; network: string } {
  const dir = defaultSocketDir(uid, env);
  const http = config.string("correlator.http_socket") || `${dir}/http.socket`;
  const network = config.string("correlator.network_socket") ||
    `${http.slice(0, http.lastIndexOf("/"))}/network.socket`;
  return { http, network };
}

/** Where the spool lives under the data directory. */
export function spoolDir(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "")}/spool/correlator`;
}

/** What tests and the benchmark may replace. */
export interface CorrelatorDeps {
  /** Opens storage; defaults to lib/storage's openStorage (the in-process owner under `ja4 start`). */
  connectStorage?: () => Promise<Storage>;
  /** Use these sinks instead of the configured ones (tests, benchmark). */
  sinks?: Sink[];
}

/** A started correlator. */
export interface RunningCorrelator {
  pipeline: Pipeline;
  where: string[];
  /** Stops intake, drains the sockets and the join, flushes every sink. Idempotent. */
  stop(): Promise<void>;
}

async function defaultConnect(config: Config, log: Logger): Promise<Storage> {
  const { openStorage } = await import("../lib/storage/mod.ts");
  return await openStorage(config, log.child({ component: "storage" }));
}

async function buildSinks(config: Config, log: Logger, deps: CorrelatorDeps): Promise<Sink[]> {
  if (deps.sinks) return deps.sinks;
  const sinks: Sink[] = [];
  const dataDir = config.string("data_dir");
  for (const name of new Set(config.list("correlator.sinks")) as Set<SinkName>) {
    if (name === "clickhouse") {
      const spool = await Spool.open(
        spoolDir(dataDir),
        config.int("correlator.spool_max_bytes"),
        log,
      );
      let warned = false;
      const connect = deps.connectStorage ?? (() => defaultConnect(config, log));
      const sink = new ClickHouseSink({
        connect: async () => {
          const storage = await connect();
          if (!warned) {
            warned = true;
            const missing = await checkDeduplication(storage).catch((err) => {
              log.warn("cannot check table settings", { error: errorMessage(err) });
              return [];
            });
            if (missing.length) {
              log.warn(
                "tables do not deduplicate token inserts: a replay after an ambiguous failure " +
                  "could duplicate rows (set non_replicated_deduplication_window on them)",
                { tables: missing },
              );
            }
          }
          return storage;
        },
        spool,
        retryMs: config.int("correlator.retry_ms"),
        // A few batches in memory; beyond that the spool is the buffer.
        maxQueueRows: config.int("correlator.batch_rows") * 4,
        // Most of the shutdown bound goes to ClickHouse; the rest is kept for spooling.
        closeGraceMs: Math.floor(config.int("shutdown.timeout_ms") * 0.6),
        log,
      });
      sink.start();
      sinks.push(sink);
    } else if (name === "file") {
      const path = config.string("correlator.file_path") ||
        `${dataDir.replace(/\/+$/, "")}/correlator/events.jsonl`;
      sinks.push(
        await FileSink.open({
          path,
          maxBytes: config.int("correlator.file_max_bytes"),
          keep: config.int("correlator.file_keep"),
          log,
        }),
      );
    } else sinks.push(new StdoutSink(log));
  }
  return sinks;
}

/** Starts the correlator; throws SocketError/SpoolError with an actionable message on setup failure. */
export async function startCorrelator(
  ctx: { config: Config; log: Logger },
  deps: CorrelatorDeps = {},
): Promise<RunningCorrelator> {
  const { config, log } = ctx;
  const windowUs = config.int("correlator.window_ms") * 1000;
  const connTtlUs = Math.max(config.int("correlator.conn_ttl_ms") * 1000, windowUs);
  if (config.int("correlator.conn_ttl_ms") < config.int("correlator.window_ms")) {
    // A handshake must outlive the wait of its requests; the join needs ttl ≥ window.
    log.warn("correlator.conn_ttl_ms is below correlator.window_ms; using window_ms for both", {
      conn_ttl_ms: config.int("correlator.conn_ttl_ms"),
      window_ms: config.int("correlator.window_ms"),
    });
  }
  const sinks = await buildSinks(config, log, deps);
  const pipeline = new Pipeline({
    join: {
      windowUs,
      connTtlUs,
      maxEntries: config.int("correlator.max_entries"),
      maxBytes: config.int("correlator.max_bytes"),
    },
    batchRows: config.int("correlator.batch_rows"),
    batchMs: config.int("correlator.batch_ms"),
    sinks,
    log,
  });
  const paths = resolveSocketPaths(config, Deno.uid(), Deno.env.toObject());
  const common = {
    mode: parseInt(config.string("correlator.socket_mode"), 8),
    group: config.string("correlator.socket_group"),
    maxLineBytes: config.int("correlator.max_line_bytes"),
    log,
  };
  const servers: LineServer[] = [];
  // Both sockets drain at once, so the shutdown bound is spent once, not twice.
  const closeAll = async () => {
    await Promise.all(servers.map((s) => s.close()));
  };
  const metricsPort = config.int("correlator.metrics_port");
  let metrics: ReturnType<typeof serveMetrics> | undefined;
  try {
    if (metricsPort > 0) {
      try {
        metrics = serveMetrics(metricsPort, () => renderPrometheus(pipeline.metrics()), log);
      } catch (err) {
        throw new CorrelatorError(
          "METRICS_PORT",
          `cannot serve metrics on 127.0.0.1:${metricsPort}: ${errorMessage(err)} ` +
            `(choose another correlator.metrics_port, or 0 to turn it off)`,
          { cause: err },
        );
      }
    }
    servers.push(
      await serveLines({
        ...common,
        path: paths.http,
        onLine: (l) => pipeline.handleLine(l, "http"),
        onOversize: (n) => pipeline.handleOversize(n, "http"),
      }),
    );
    servers.push(
      await serveLines({
        ...common,
        path: paths.network,
        onLine: (l) => pipeline.handleLine(l, "network"),
        onOversize: (n) => pipeline.handleOversize(n, "network"),
      }),
    );
  } catch (err) {
    await closeAll();
    await metrics?.shutdown();
    await pipeline.stop();
    throw err;
  }
  const ticker = setInterval(() => pipeline.tick(), 100);
  const statsEvery = config.int("correlator.stats_interval_s");
  const statsTimer = statsEvery > 0
    ? setInterval(() => log.info("stats", pipeline.stats()), statsEvery * 1000)
    : undefined;
  const where = [
    `http ${paths.http}`,
    `network ${paths.network}`,
    `sinks ${sinks.map((s) => s.name).join("+")}`,
    ...(metrics ? [`metrics http://127.0.0.1:${metrics.port}/metrics`] : []),
  ];
  log.info("correlator running", { http_socket: paths.http, network_socket: paths.network });

  let stopping: Promise<void> | undefined;
  return {
    pipeline,
    where,
    stop() {
      stopping ??= (async () => {
        // Sockets first (their last lines still enter the join), then the join and sinks.
        await closeAll();
        clearInterval(ticker);
        clearInterval(statsTimer);
        await pipeline.stop();
        await metrics?.shutdown();
        log.info("correlator stopped", pipeline.stats());
      })();
      return stopping;
    },
  };
}
