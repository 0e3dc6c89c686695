/** Configuration keys of correlator/ (see lib/config.ts for how keys are layered and validated). */
import type { ConfigKey, ConfigValue } from "../lib/config.ts";

const absoluteOrEmpty = (v: ConfigValue) =>
  v === "" || String(v).startsWith("/")
    ? undefined
    : "must be an absolute path (or empty for the default)";

/** The sinks a correlator can write to, several at once. */
export const SINKS = ["clickhouse", "file", "stdout"] as const;
/** One of {@link SINKS}. */
export type SinkName = (typeof SINKS)[number];

/** Every `correlator.*` key. */
export const CORRELATOR_CONFIG_KEYS: readonly ConfigKey[] = [
  {
    key: "correlator.http_socket",
    type: "string",
    default: "",
    description:
      "UNIX socket mod_reqin_log writes to (empty = http.socket in /var/run/logcorr as root, " +
      "else $XDG_RUNTIME_DIR/logcorr or /tmp/logcorr-$UID)",
    validate: absoluteOrEmpty,
  },
  {
    key: "correlator.network_socket",
    type: "string",
    default: "",
    description:
      "UNIX socket the capture daemon writes to (empty = network.socket beside http.socket)",
    validate: absoluteOrEmpty,
  },
  {
    key: "correlator.socket_mode",
    type: "string",
    default: "0660",
    description: "octal file mode of both sockets",
    validate: (
      v,
    ) => (/^0?[0-7]{3}$/.test(String(v)) ? undefined : "must be an octal mode like 0660"),
  },
  {
    key: "correlator.socket_group",
    type: "string",
    default: "",
    description:
      "group (name or gid) given the sockets, e.g. the one Apache runs as (empty = leave)",
  },
  {
    key: "correlator.max_line_bytes",
    type: "int",
    min: 256,
    max: 16 * 1024 * 1024,
    default: 65_536,
    description: "longest accepted event line; longer ones are counted and skipped",
  },
  {
    key: "correlator.window_ms",
    type: "int",
    min: 1,
    max: 600_000,
    default: 2_000,
    description:
      "how long a request waits for its handshake (then it is written as no_tls); also the " +
      "tolerance between the two producers' clocks",
  },
  {
    key: "correlator.conn_ttl_ms",
    type: "int",
    min: 1,
    max: 86_400_000,
    default: 300_000,
    description: "how long a handshake stays joinable after the last activity on its connection " +
      "(keep-alive, HTTP/2); an unused one is then written as tls_only",
  },
  {
    key: "correlator.max_entries",
    type: "int",
    min: 1,
    max: 100_000_000,
    default: 1_000_000,
    description:
      "most connections held by the join; the least recently active is flushed beyond it",
  },
  {
    key: "correlator.max_bytes",
    type: "int",
    min: 1024,
    max: 64 * 1024 ** 3,
    default: 2 * 1024 ** 3,
    description:
      "most bytes (estimated) held by the join; the least recently active is flushed beyond it " +
      "(a pending handshake costs ~1.3 KB: 1,000,000 fit in the default)",
  },
  {
    key: "correlator.sinks",
    type: "list",
    default: ["clickhouse"],
    description: `where rows go, several at once: ${SINKS.join(", ")}`,
    validate: (v) => {
      const list = v as string[];
      if (list.length === 0) return "name at least one sink";
      const bad = list.filter((s) => !(SINKS as readonly string[]).includes(s));
      return bad.length ? `unknown sink ${bad.join(", ")} (use ${SINKS.join(", ")})` : undefined;
    },
  },
  {
    key: "correlator.batch_rows",
    type: "int",
    min: 1,
    max: 1_000_000,
    default: 10_000,
    description: "a batch is written when it holds this many rows…",
  },
  {
    key: "correlator.batch_ms",
    type: "int",
    min: 10,
    max: 600_000,
    default: 1_000,
    description: "…or when its oldest row is this old",
  },
  {
    key: "correlator.spool_max_bytes",
    type: "int",
    min: 1024 * 1024,
    max: 1024 ** 4,
    default: 2 * 1024 ** 3,
    description:
      "disk the ClickHouse spool (<data_dir>/spool/correlator) may use while ClickHouse is " +
      "unreachable; beyond it new batches are dropped, counted and logged",
  },
  {
    key: "correlator.retry_ms",
    type: "int",
    min: 10,
    max: 600_000,
    default: 2_000,
    description: "pause between attempts to replay the spool into ClickHouse",
  },
  {
    key: "correlator.file_path",
    type: "string",
    default: "",
    description: "JSONL sink file (empty = <data_dir>/correlator/events.jsonl)",
    validate: absoluteOrEmpty,
  },
  {
    key: "correlator.file_max_bytes",
    type: "int",
    min: 1024,
    max: 1024 ** 4,
    default: 256 * 1024 ** 2,
    description: "the JSONL file is rotated (events.jsonl.1, .2, …) when it reaches this size",
  },
  {
    key: "correlator.file_keep",
    type: "int",
    min: 0,
    max: 1000,
    default: 5,
    description: "rotated JSONL files kept",
  },
  {
    key: "correlator.metrics_port",
    type: "int",
    min: 0,
    max: 65535,
    default: 0,
    description: "serve Prometheus text at http://127.0.0.1:PORT/metrics (0 = off)",
  },
  {
    key: "correlator.stats_interval_s",
    type: "int",
    min: 0,
    max: 86_400,
    default: 60,
    description: "log the counters every N seconds (0 = only at shutdown)",
  },
];
