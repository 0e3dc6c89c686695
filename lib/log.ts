/**
 * Structured logging to stderr: one JSON object per line (for journald and log shippers) or
 * a compact human form. Levels: debug < info < warn < error.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "info", format: "json", component: "capture" });
 * log.info("listening", { socket: "/run/logcorr/network.socket" });
 * ```
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "json" | "pretty";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
export const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines carry `component` (and any fixed fields). */
  child(fields: LogFields): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  component?: string;
  /** Where lines go; stderr by default. Tests pass a collector. */
  write?: (line: string) => void;
  /** Clock, for tests. */
  now?: () => Date;
}

const encoder = new TextEncoder();
function writeStderr(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

function serializable(v: unknown): unknown {
  if (v instanceof Error) return v.message;
  if (typeof v === "bigint") return v.toString();
  return v;
}

/** Formats one record; exported for tests. */
export function formatRecord(
  format: LogFormat,
  ts: Date,
  level: LogLevel,
  msg: string,
  fields: LogFields,
): string {
  if (format === "json") {
    const rec: LogFields = { ts: ts.toISOString(), level, msg };
    for (const [k, v] of Object.entries(fields)) rec[k] = serializable(v);
    return JSON.stringify(rec);
  }
  const extra = Object.entries(fields)
    .filter(([k]) => k !== "component")
    .map(([k, v]) => {
      const s = serializable(v);
      return `${k}=${typeof s === "string" && !/\s/.test(s) ? s : JSON.stringify(s)}`;
    })
    .join(" ");
  const comp = fields.component ? `[${fields.component}] ` : "";
  return `${ts.toISOString()} ${level.toUpperCase().padEnd(5)} ${comp}${msg}${
    extra ? " " + extra : ""
  }`;
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const level = options.level ?? "info";
  const format = options.format ?? "pretty";
  const write = options.write ?? writeStderr;
  const now = options.now ?? (() => new Date());
  const min = LOG_LEVELS.indexOf(level);
  const fixed: LogFields = options.component ? { component: options.component, ...base } : base;
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    write(formatRecord(format, now(), lvl, msg, { ...fixed, ...fields }));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (f) => createLogger({ level, format, write, now }, { ...fixed, ...f }),
    enabled: (lvl) => LOG_LEVELS.indexOf(lvl) >= min,
  };
}

/**
 * Wraps a logger so that a repeated message is written at most once per interval, with
 * the count of suppressed ones: for per-packet or per-line errors that could flood the log.
 */
export function rateLimited(
  log: Logger,
  intervalMs: number,
  now: () => number = Date.now,
): (level: LogLevel, msg: string, fields?: LogFields) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (level, msg, fields) => {
    const t = now();
    const seen = last.get(msg);
    if (seen && t - seen.at < intervalMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    last.set(msg, { at: t, suppressed: 0 });
    log[level](msg, suppressed ? { ...fields, suppressed } : fields);
  };
}
