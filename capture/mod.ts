/**
 * capture/: the live TLS sensor. libpcap (Deno FFI) → core-wasm → TLS events (NDJSON) to
 * network.socket, stdout or a file. See capture/README.md.
 *
 * @example
 * ```sh
 * deno task capture --interface lo --filter 'tcp port 8443' --output -
 * deno task capture --read traffic.pcapng --output events.ndjson
 * ```
 */
import type { Command } from "../lib/cli.ts";
import type { ServiceStarter } from "../lib/service.ts";
import { startSensor } from "./daemon.ts";
import { canCapture } from "./privileges.ts";

// The pieces other components and tools may use: the sensor as a library, its error, the
// event builder (engine records → NDJSON lines) and the libpcap handle.
export { CaptureError } from "./errors.ts";
export { type Sensor, type SensorStats, startSensor } from "./daemon.ts";
export { EventBuilder, type HandshakeRecord } from "./event_builder.ts";
export { openLive } from "./pcap_ffi.ts";

/** `ja4 capture`: runs the sensor until SIGINT/SIGTERM (live) or the end of the file (--read). */
export const captureCommand: Command = {
  name: "capture",
  summary: "live TLS sensor: libpcap → JA4/JA3/JA4S/JA4T → network.socket",
  usage: [
    "ja4 capture --interface IF [--filter BPF] [--output socket|-|FILE] [--socket PATH]",
    "ja4 capture --read FILE [--realtime] [--output -|FILE]",
  ].join("\n"),
  details: [
    'Each TLS ClientHello yields one NDJSON event (type "tls") at once; when the ServerHello',
    'follows, a second event with "update": true adds ja4s/ja3s (same 4-tuple and ts_us).',
    "Live capture needs root or CAP_NET_RAW (see capture/ja4-capture.service).",
    "Default filter: TCP on capture.tls_ports (443, 8443) and UDP on capture.quic_ports (443).",
  ].join("\n"),
  flags: [
    {
      name: "interface",
      short: "i",
      type: "string",
      value: "IF",
      configKey: "capture.interface",
      help: "interface to capture on, or 'any'",
    },
    {
      name: "filter",
      type: "string",
      value: "BPF",
      configKey: "capture.filter",
      help: "BPF filter (tcpdump syntax) instead of the TLS-ports default",
    },
    {
      name: "snaplen",
      type: "string",
      value: "BYTES",
      configKey: "capture.snaplen",
      help: "bytes kept per packet",
    },
    {
      name: "buffer-size",
      type: "string",
      value: "BYTES",
      configKey: "capture.buffer_size",
      help: "kernel capture buffer",
    },
    {
      name: "read",
      short: "r",
      type: "string",
      value: "FILE",
      help: "replay a pcap/pcapng file through the same path instead of capturing",
    },
    { name: "realtime", type: "boolean", help: "with --read: at the recorded pace" },
    {
      name: "socket",
      type: "string",
      value: "PATH",
      configKey: "capture.socket",
      help: "network.socket path (default /var/run/logcorr/network.socket as root)",
    },
    {
      name: "output",
      short: "o",
      type: "string",
      value: "DEST",
      configKey: "capture.output",
      help: "'socket' (default), '-' for stdout, or a file path",
    },
    {
      name: "stats-interval",
      type: "string",
      value: "SECONDS",
      configKey: "capture.stats_interval",
      help: "seconds between stats lines in the log (0: off)",
    },
  ],
  async run(ctx) {
    const read = ctx.flags.read as string | undefined;
    const sensor = await startSensor({
      config: ctx.config,
      log: ctx.log,
      read,
      realtime: ctx.flags.realtime === true,
    });
    ctx.shutdown.onShutdown("stop capture and flush events", () => sensor.stop());
    ctx.signal.addEventListener("abort", () => void sensor.stop(), { once: true });
    try {
      await sensor.done;
    } finally {
      await sensor.stop();
    }
    return 0;
  },
};

/**
 * `ja4 start` runs the sensor when this host can capture (root or CAP_NET_RAW) and an interface
 * is configured; otherwise it is skipped with the reason.
 */
export const captureService: ServiceStarter = async (ctx) => {
  if (!ctx.config.string("capture.interface")) {
    return { skipped: "no capture.interface configured (JA4_CAPTURE_INTERFACE)" };
  }
  if (!canCapture()) return { skipped: "needs root or CAP_NET_RAW" };
  const log = ctx.log.child({ service: "capture" });
  const sensor = await startSensor({ config: ctx.config, log });
  sensor.done.catch((err) => log.error("capture stopped on an error", { error: err }));
  return { name: "capture", where: sensor.where, stop: () => sensor.stop() };
};
