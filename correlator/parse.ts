/**
 * One socket line → one event, or the reason it is rejected. The check is the contract of
 * lib/events.ts: `type`, `ts_us`, `src_ip`, `src_port`, `dst_ip`, `dst_port` are required and
 * typed; the rest is carried as sent and typed when rows are built (rows.ts).
 *
 * @example
 * ```ts
 * const r = parseEventLine('{"type":"http","ts_us":1,…}');
 * if (r.ok) joiner.addHttp(r.event, now); else bad[r.reason]++;
 * ```
 */
import type { SocketEvent } from "../lib/events.ts";
import { parseIp } from "../lib/ip_filter.ts";

/** Why a line was rejected (a metric label, so a small fixed set). */
export type RejectReason = "json" | "not_object" | "type" | "ts_us" | "address" | "port";

/** The event, or why the line was rejected. */
export type ParseResult = { ok: true; event: SocketEvent } | { ok: false; reason: RejectReason };

/** Whether `s` is a dotted-quad IPv4 address (no leading zeros), without regex or split. */
function isIpv4(s: string): boolean {
  let parts = 0;
  let i = 0;
  while (i <= s.length) {
    let n = 0;
    let digits = 0;
    const start = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
      n = n * 10 + s.charCodeAt(i) - 48;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || n > 255 || (digits > 1 && s.charCodeAt(start) === 48)) {
      return false;
    }
    parts++;
    if (i === s.length) return parts === 4;
    if (s.charCodeAt(i) !== 46 /* . */ || parts === 4) return false;
    i++;
  }
  return false;
}

/** Whether `s` is an IPv4 or IPv6 address (IPv4 checked on a fast path: it is the common case). */
export function isIpAddress(s: string): boolean {
  return s.includes(":") ? parseIp(s) !== undefined : isIpv4(s);
}

/**
 * 2200-01-01 in µs: far beyond any real event, inside DateTime64(6)'s range, so an absurd
 * timestamp is rejected here instead of making ClickHouse refuse the batch holding it.
 */
const MAX_TS_US = 7_258_118_400_000_000;

const isPort = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 65535;

/** Parses and checks one line; never throws. */
export function parseEventLine(line: string): ParseResult {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    // The line is not JSON: the caller counts it by this reason and goes on.
    return { ok: false, reason: "json" };
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    return { ok: false, reason: "not_object" };
  }
  const e = v as Record<string, unknown>;
  if (e.type !== "tls" && e.type !== "http") return { ok: false, reason: "type" };
  if (typeof e.ts_us !== "number" || !(e.ts_us >= 0 && e.ts_us < MAX_TS_US)) {
    return { ok: false, reason: "ts_us" };
  }
  if (
    typeof e.src_ip !== "string" || typeof e.dst_ip !== "string" || !isIpAddress(e.src_ip) ||
    !isIpAddress(e.dst_ip)
  ) {
    return { ok: false, reason: "address" };
  }
  if (!isPort(e.src_port) || !isPort(e.dst_port)) return { ok: false, reason: "port" };
  return { ok: true, event: e as unknown as SocketEvent };
}
