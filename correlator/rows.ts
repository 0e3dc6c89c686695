/**
 * Join results and TLS events → rows of `http_logs` and `tls_handshakes` (migrations/), in ONE
 * place. Every column is given a value of its type, so a producer that omits an optional field
 * or sends a wrong type still yields an insertable row (strings default to "", numbers to 0,
 * addresses to `::`): one bad value must never make ClickHouse refuse a whole batch.
 * `ts` is the event's `ts_us` as an integer (DateTime64(6) ticks, see migrations/02).
 *
 * @example
 * ```ts
 * httpLogRow({ status: "matched", http, tls, join_delay_us: 120, wait_us: 0 });
 * // { ts: 1763707821223456, method: "GET", ja4: "t13d…", match_status: "matched", … }
 * ```
 */
import type { HttpEvent, TlsEvent } from "../lib/events.ts";
import { parseIp } from "../lib/ip_filter.ts";
import { normalizeIp } from "./join.ts";
import type { JoinResult } from "./join.ts";

/** A row as inserted (JSONEachRow). */
export type Row = Record<string, string | number | boolean | string[]>;

/** The tables the correlator writes. */
export const TABLES = ["http_logs", "tls_handshakes"] as const;
export type TableName = (typeof TABLES)[number];

const str = (
  v: unknown,
): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));
/** An address column value: the address as sent (IPv4 stays dotted), or `::` when it is not one. */
const ip = (v: unknown): string => (typeof v === "string" && parseIp(v) ? normalizeIp(v) : "::");
const tsUs = (
  v: unknown,
): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.round(v) : 0);
const uint = (v: unknown, max: number): number =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max ? v : 0;

/** Header lookup by lower-case name (mod_reqin_log sends lower case; be lenient anyway). */
function headerGetter(h: HttpEvent["headers"]): (name: string) => string | undefined {
  if (!h) return () => undefined;
  let lower: Map<string, string> | undefined;
  return (name) => {
    const direct = h[name];
    if (direct !== undefined) return direct;
    lower ??= new Map(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
    return lower.get(name);
  };
}

function hasCookie(http: HttpEvent, get: (n: string) => string | undefined): boolean {
  if (get("cookie") !== undefined) return true;
  return (http.header_names ?? []).some((n) =>
    typeof n === "string" && n.toLowerCase() === "cookie"
  );
}

/** The TLS columns shared by both tables. */
function tlsColumns(tls: TlsEvent | undefined): Row {
  return {
    ja4: str(tls?.ja4),
    ja4_r: str(tls?.ja4_r),
    ja4_o: str(tls?.ja4_o),
    ja4_ro: str(tls?.ja4_ro),
    ja3: str(tls?.ja3),
    ja4s: str(tls?.ja4s),
    ja4t: str(tls?.ja4t),
    tls_server_name: str(tls?.tls_server_name),
    tls_version: str(tls?.tls_version),
    alpn: str(tls?.alpn),
    tcp_window: uint(tls?.tcp_window, 2 ** 32 - 1),
    tcp_mss: uint(tls?.tcp_mss, 65535),
    tcp_window_scale: uint(tls?.tcp_window_scale, 255),
    ip_ttl: uint(tls?.ip_ttl, 255),
  };
}

/** One `http_logs` row from a join result (a lone handshake gives a row with empty HTTP fields). */
export function httpLogRow(r: JoinResult): Row {
  const http = r.http;
  const side = http ?? r.tls!;
  const get = headerGetter(http?.headers);
  return {
    ts: tsUs(side.ts_us),
    src_ip: ip(side.src_ip),
    src_port: uint(side.src_port, 65535),
    dst_ip: ip(side.dst_ip),
    dst_port: uint(side.dst_port, 65535),
    method: str(http?.method),
    host: str(http?.host),
    path: str(http?.path),
    query: str(http?.query),
    protocol: str(http?.protocol),
    status: uint(http?.status, 65535),
    user_agent: str(get("user-agent")),
    accept: str(get("accept")),
    accept_language: str(get("accept-language")),
    accept_encoding: str(get("accept-encoding")),
    content_type: str(get("content-type")),
    referer: str(get("referer")),
    xff: str(get("x-forwarded-for")),
    sec_ch_ua: str(get("sec-ch-ua")),
    sec_ch_ua_mobile: str(get("sec-ch-ua-mobile")),
    sec_ch_ua_platform: str(get("sec-ch-ua-platform")),
    has_cookie: http && hasCookie(http, get) ? 1 : 0,
    header_names: Array.isArray(http?.header_names) ? http.header_names.map(str) : [],
    ja4h: str(http?.ja4h),
    conn_request_index: uint(http?.conn_request_index, 2 ** 32 - 1),
    client_ip: ip(http?.client_ip),
    ...tlsColumns(r.tls),
    match_status: r.status,
    join_delay_us: Math.round(r.join_delay_us),
  };
}

/** One `tls_handshakes` row from a TLS event. */
export function tlsHandshakeRow(tls: TlsEvent): Row {
  return {
    ts: tsUs(tls.ts_us),
    src_ip: ip(tls.src_ip),
    src_port: uint(tls.src_port, 65535),
    dst_ip: ip(tls.dst_ip),
    dst_port: uint(tls.dst_port, 65535),
    transport: str(tls.transport) || "tcp",
    ...tlsColumns(tls),
    ja3_full: str(tls.ja3_full),
    ja3s: str(tls.ja3s),
    cipher_count: uint(tls.cipher_count, 65535),
    extension_count: uint(tls.extension_count, 65535),
    is_update: tls.update === true ? 1 : 0,
  };
}
