/**
 * The sensor put together from configuration: source (live interface or capture file) →
 * engine → EventBuilder (IP filter, JA4S follow-ups) → output (network.socket, stdout or a
 * file), with a stats line every `capture.stats_interval` seconds. Both `ja4 capture` and the
 * `ja4 start` service run this.
 *
 * @example
 * ```ts
 * const sensor = await startSensor({ config, log, read: undefined, realtime: false });
 * ctx.shutdown.onShutdown("stop capture", () => sensor.stop());
 * await sensor.done;
 * ```
 */
import type { Config } from "../lib/config.ts";
import { errorMessage } from "../lib/errors.ts";
import { createIpFilter } from "../lib/ip_filter.ts";
import type { Logger } from "../lib/log.ts";
import { defaultSocketDir } from "../lib/unix_socket.ts";
import { defaultFilter } from "./config.ts";
import { createHandshakeEngine } from "./engine.ts";
import { CaptureError } from "./errors.ts";
import { type BuilderStats, EventBuilder, type HandshakeRecord } from "./event_builder.ts";
import { createOutput, type OutputStats, outputTarget } from "./output.ts";
import { type LiveCapture, openLive, type PcapStats } from "./pcap_ffi.ts";
import { type LoopCounters, newCounters, runFile, runLive } from "./sensor.ts";

/** What {@link startSensor} needs. */
export interface SensorInputs {
  config: Config;
  log: Logger;
  /** Replay this capture file instead of capturing live. */
  read?: string;
  /** With `read`: at recorded pace. */
  realtime?: boolean;
}

/** Everything the stats line reports, as one snapshot. */
export interface SensorStats {
  packets: number;
  bytes: number;
  kernel_received: number;
  kernel_drops: number;
  if_drops: number;
  handshakes: number;
  updates: number;
  filtered: number;
  our_drops: number;
  queue: number;
  sent: number;
  connected: boolean;
  flows: number;
  engine: Record<string, number>;
}

/** A running sensor. */
export interface Sensor {
  /** Human-readable source and destination, for banners. */
  readonly where: string[];
  /** Settles when the source ends (file) or capture stops (live); rejects on a capture error. */
  readonly done: Promise<void>;
  stats(): SensorStats;
  /** Stops capture, flushes the output (bounded by shutdown.timeout_ms); idempotent. */
  stop(): Promise<void>;
}

/** Combines the counters into one stats snapshot (pure). */
export function snapshot(
  counters: LoopCounters,
  pcap: PcapStats | undefined,
  builder: BuilderStats,
  output: OutputStats,
  engine: Record<string, number>,
): SensorStats {
  return {
    packets: pcap ? counters.packets : (engine.packets ?? counters.packets),
    bytes: counters.bytes,
    kernel_received: pcap?.received ?? 0,
    kernel_drops: pcap?.dropped ?? 0,
    if_drops: pcap?.ifDropped ?? 0,
    handshakes: builder.hellos,
    updates: builder.updates,
    filtered: builder.filtered,
    our_drops: output.dropped,
    queue: output.queued,
    sent: output.sent,
    connected: output.connected,
    flows: builder.flows,
    engine,
  };
}

/** The socket path from config, or the platform default for this user. */
export function socketPath(config: Config): string {
  const configured = config.string("capture.socket");
  if (configured) return configured;
  return `${defaultSocketDir(Deno.uid(), Deno.env.toObject())}/network.socket`;
}

/** Starts the sensor described by the configuration. */
export async function startSensor(inputs: SensorInputs): Promise<Sensor> {
  const { config, log } = inputs;
  const iface = config.string("capture.interface");
  if (!inputs.read && !iface) {
    throw new CaptureError(
      "NO_INTERFACE",
      "no interface to capture on: pass --interface IF (or 'any'), set capture.interface / " +
        "JA4_CAPTURE_INTERFACE, or replay a file with --read FILE",
    );
  }
  const filter = createIpFilter({
    allow: config.list("capture.allow"),
    deny: config.list("capture.deny"),
  });
  const builder = new EventBuilder({
    filter,
    maxFlows: config.int("capture.flow_table_size"),
  });
  const bpf = config.string("capture.filter") ||
    defaultFilter(config.list("capture.tls_ports"), config.list("capture.quic_ports"));

  // The capture handle first: missing privileges, a bad interface or filter are reported at
  // once, before the engine (which may build its .wasm) is loaded.
  let capture: LiveCapture | undefined;
  if (!inputs.read) {
    capture = openLive({
      device: iface,
      filter: bpf,
      snaplen: config.int("capture.snaplen"),
      bufferSize: config.int("capture.buffer_size"),
      promisc: config.bool("capture.promisc"),
      immediate: config.bool("capture.immediate"),
      timeoutMs: config.int("capture.timeout_ms"),
    });
    for (const w of capture.warnings) log.warn(w);
  }
  let engine;
  try {
    engine = await createHandshakeEngine();
  } catch (err) {
    capture?.close();
    throw err;
  }

  const target = outputTarget(config.string("capture.output"), socketPath(config));
  const output = createOutput(target, {
    log,
    maxLines: config.int("capture.queue_events"),
    maxChars: config.int("capture.queue_bytes"),
    reconnectMaxMs: config.int("capture.reconnect_max_ms"),
  });

  const onRecords = (records: HandshakeRecord[]) => {
    for (const rec of records) {
      for (const line of builder.add(rec)) output.send(line);
    }
  };
  const counters = newCounters();
  const controller = new AbortController();
  const source = inputs.read ? `file ${inputs.read}` : `interface ${iface} (${bpf})`;
  const where = [source, `→ ${output.description}`];
  log.info("capture started", {
    source,
    output: output.description,
    allow: filter.allowCount,
    deny: filter.denyCount,
    ...(capture ? { linktype: capture.linktype, snaplen: capture.snaplen } : {}),
  });

  const done = inputs.read
    ? runFile({
      path: inputs.read,
      engine,
      onRecords,
      signal: controller.signal,
      counters,
      realtime: inputs.realtime,
    }).catch((err) => {
      throw new CaptureError(
        err instanceof CaptureError ? err.code : "READ_FAILED",
        `cannot replay ${inputs.read}: ${errorMessage(err)}`,
        { cause: err },
      );
    })
    : runLive({
      capture: capture!,
      engine,
      onRecords,
      signal: controller.signal,
      counters,
      drainWaitMs: config.bool("capture.immediate") ? 0 : config.int("capture.timeout_ms") + 10,
    });

  const stats = () =>
    snapshot(counters, capture?.stats(), builder.stats(), output.stats(), engine.stats());
  const intervalS = config.int("capture.stats_interval");
  const timer = intervalS > 0
    ? setInterval(() => log.info("capture stats", { ...stats() }), intervalS * 1000)
    : undefined;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      controller.abort();
      await done.catch(() => {
        // The failure is reported to whoever awaits `done`; stopping must still flush.
      });
      if (timer !== undefined) clearInterval(timer);
      const final = stats();
      capture?.close();
      await output.close(config.int("shutdown.timeout_ms"));
      log.info("capture stopped", { ...final, our_drops: output.stats().dropped });
    })();

  return { where, done, stats, stop };
}
