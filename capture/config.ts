/** Configuration keys of capture/ (see lib/config.ts for how keys are layered and validated). */
import type { ConfigKey, ConfigValue } from "../lib/config.ts";
import { parseCidr } from "../lib/ip_filter.ts";

function validPorts(v: ConfigValue): string | undefined {
  for (const p of v as string[]) {
    if (!/^[0-9]{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) {
      return `'${p}' is not a port number (1–65535)`;
    }
  }
  return undefined;
}

function validCidrs(v: ConfigValue): string | undefined {
  for (const entry of v as string[]) {
    try {
      parseCidr(entry);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return undefined;
}

/** Every `capture.*` setting (also `JA4_CAPTURE_*`); see capture/README.md, "Configuration". */
export const CAPTURE_CONFIG_KEYS: readonly ConfigKey[] = [
  {
    key: "capture.interface",
    type: "string",
    default: "",
    description: "interface to capture on ('any' for all); empty: capture is not started",
  },
  {
    key: "capture.filter",
    type: "string",
    default: "",
    description: "BPF filter; empty: built from capture.tls_ports and capture.quic_ports",
  },
  {
    key: "capture.tls_ports",
    type: "list",
    default: ["443", "8443"],
    description: "TCP ports of TLS servers (SYNs included, for JA4T) in the default filter",
    validate: validPorts,
  },
  {
    key: "capture.quic_ports",
    type: "list",
    default: ["443"],
    description: "UDP ports of QUIC servers in the default filter",
    validate: validPorts,
  },
  {
    key: "capture.snaplen",
    type: "int",
    min: 256,
    max: 262144,
    default: 65535,
    description: "bytes kept per packet (a ClientHello larger than this is lost)",
  },
  {
    key: "capture.buffer_size",
    type: "int",
    min: 1 << 20,
    max: 1 << 30,
    // 128 MiB: at 100k packets/s it absorbs about a second of the sensor not being scheduled
    // (bench:capture drops at 105k packets/s with 32 MiB on a busy host, none with 128 MiB).
    default: 128 << 20,
    description: "kernel capture buffer in bytes (absorbs bursts; kernel drops when full)",
  },
  {
    key: "capture.promisc",
    type: "bool",
    default: false,
    description: "promiscuous mode (only for mirror/SPAN ports; a web server sees its own traffic)",
  },
  {
    key: "capture.immediate",
    type: "bool",
    default: false,
    description: "deliver each packet at once (lower latency, more CPU) instead of per ring block",
  },
  {
    key: "capture.timeout_ms",
    type: "int",
    min: 1,
    max: 10_000,
    default: 50,
    description: "ring block timeout: the longest a packet waits in the kernel without immediate",
  },
  {
    key: "capture.socket",
    type: "string",
    default: "",
    description: "network.socket path; empty: /var/run/logcorr/network.socket as root, " +
      "$XDG_RUNTIME_DIR/logcorr/network.socket or /tmp/logcorr-$UID/network.socket otherwise",
  },
  {
    key: "capture.output",
    type: "string",
    default: "socket",
    description: "where events go: 'socket' (capture.socket), '-' (stdout) or a file path",
    validate: (v) => (v === "" ? "must not be empty (use 'socket', '-' or a path)" : undefined),
  },
  {
    key: "capture.queue_events",
    type: "int",
    min: 1,
    max: 10_000_000,
    default: 100_000,
    description: "events kept while the consumer is away; beyond it the oldest are dropped",
  },
  {
    key: "capture.queue_bytes",
    type: "int",
    min: 4096,
    max: 4 * 2 ** 30,
    default: 128 << 20,
    description: "bytes of event lines kept while the consumer is away (bounds memory)",
  },
  {
    key: "capture.reconnect_max_ms",
    type: "int",
    min: 10,
    max: 600_000,
    default: 5_000,
    description: "longest wait between reconnection attempts to the socket (backoff doubles)",
  },
  {
    key: "capture.stats_interval",
    type: "int",
    min: 0,
    max: 86_400,
    default: 60,
    description: "seconds between stats lines in the log; 0 disables them",
  },
  {
    key: "capture.allow",
    type: "list",
    default: [],
    description: "client IPs/CIDRs to keep (empty: all); applied to the TLS client address",
    validate: validCidrs,
  },
  {
    key: "capture.deny",
    type: "list",
    default: [],
    description: "client IPs/CIDRs to ignore (health checkers, scanners)",
    validate: validCidrs,
  },
  {
    key: "capture.flow_table_size",
    type: "int",
    min: 64,
    max: 10_000_000,
    default: 65_536,
    description: "connections remembered for SYN values and JA4S follow-ups (oldest evicted)",
  },
];

/**
 * The default BPF filter: TCP on the TLS ports (every segment, SYNs included, because hellos
 * may span segments and JA4T needs the SYN) and UDP on the QUIC ports.
 */
export function defaultFilter(tlsPorts: readonly string[], quicPorts: readonly string[]): string {
  const parts: string[] = [];
  if (tlsPorts.length) parts.push(`(tcp and (${tlsPorts.map((p) => `port ${p}`).join(" or ")}))`);
  if (quicPorts.length) {
    parts.push(`(udp and (${quicPorts.map((p) => `port ${p}`).join(" or ")}))`);
  }
  return parts.join(" or ");
}
