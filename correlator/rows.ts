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
import { normalizeIp } from "./join.ts";
import type { JoinResult } from "./join.ts";
import { isIpAddress } from "./parse.ts";

/** A row as inserted (JSONEachRow). */
export type Row = Record<string, string | number | boolean | string[]>;

/** The tables the correlator writes. */
export const TABLES = ["http_logs", "tls_handshakes"] as const;
/** One of {@link TABLES}. */
export type TableName = (typeof TABLES)[number];

/**
 * A string column value. A lone UTF-16 surrogate (possible from a `\ud800` escape in an input
 * line) would make ClickHouse refuse the whole batch ("missing second part of surrogate pair"),
 * so it becomes U+FFFD here.
 */
function str(v: unknown): string {
  if (typeof v === "string") return v.isWellFormed() ? v : v.toWellFormed();
  return v === undefined || v === null ? "" : String(v);
}
/**
 * An address column value: the address as sent (IPv4 stays dotted; an IPv6 zone `%eth0`, which
 * ClickHouse does not parse, is cut), or `::` when it is not one.
 */
function ip(v: unknown): string {
  if (typeof v !== "string" || !isIpAddress(v)) return "::";
  const zone = v.indexOf("%");
  return normalizeIp(zone === -1 ? v : v.slice(0, zone));
}
const tsUs = (
  v: unknown,
): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.round(v) : 0);
const uint = (v: unknown, max: number): number =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max ? v : 0;

const UPPER = /[A-Z]/;

/**
 * Header value by lower-case name. mod_reqin_log sends lower-case names; a producer that does
 * not is still read, at the cost of one scan of its keys.
 */
class Headers {
  readonly #h: Record<string, string> | undefined;
  #lower: Map<string, string> | null | undefined;

  constructor(h: Record<string, string> | undefined) {
    this.#h = h !== null && typeof h === "object" ? h : undefined;
  }

  get(name: string): string {
    const h = this.#h;
    if (!h) return "";
    const direct = h[name];
    if (direct !== undefined) return str(direct);
    if (this.#lower === undefined) {
      const keys = Object.keys(h);
      this.#lower = keys.some((k) => UPPER.test(k))
        ? new Map(keys.map((k) => [k.toLowerCase(), h[k]]))
        : null;
    }
    return str(this.#lower?.get(name));
  }

  has(name: string): boolean {
    return this.#h !== undefined && (this.#h[name] !== undefined || this.get(name) !== "");
  }
}

function hasCookie(http: HttpEvent, headers: Headers): boolean {
  if (headers.has("cookie")) return true;
  const names = http.header_names;
  return Array.isArray(names) &&
    names.some((n) => typeof n === "string" && n.length === 6 && n.toLowerCase() === "cookie");
}

/** Sets the TLS columns shared by both tables on `row` (one place for both tables). */
function setTlsColumns(row: Row, tls: TlsEvent | undefined): void {
  row.ja4 = str(tls?.ja4);
  row.ja4_r = str(tls?.ja4_r);
  row.ja4_o = str(tls?.ja4_o);
  row.ja4_ro = str(tls?.ja4_ro);
  row.ja3 = str(tls?.ja3);
  row.ja4s = str(tls?.ja4s);
  row.ja4t = str(tls?.ja4t);
  row.tls_server_name = str(tls?.tls_server_name);
  row.tls_version = str(tls?.tls_version);
  row.alpn = str(tls?.alpn);
  row.tcp_window = uint(tls?.tcp_window, 2 ** 32 - 1);
  row.tcp_mss = uint(tls?.tcp_mss, 65535);
  row.tcp_window_scale = uint(tls?.tcp_window_scale, 255);
  row.ip_ttl = uint(tls?.ip_ttl, 255);
}

/** One `http_logs` row from a join result (a lone handshake gives a row with empty HTTP fields). */
export function httpLogRow(r: JoinResult): Row {
  const http = r.http;
  const side = http ?? r.tls!;
  const h = new Headers(http?.headers);
  const names = http?.header_names;
  const row: Row = {
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
    user_agent: h.get("user-agent"),
    accept: h.get("accept"),
    accept_language: h.get("accept-language"),
    accept_encoding: h.get("accept-encoding"),
    content_type: h.get("content-type"),
    referer: h.get("referer"),
    xff: h.get("x-forwarded-for"),
    sec_ch_ua: h.get("sec-ch-ua"),
    sec_ch_ua_mobile: h.get("sec-ch-ua-mobile"),
    sec_ch_ua_platform: h.get("sec-ch-ua-platform"),
    has_cookie: http && hasCookie(http, h) ? 1 : 0,
    header_names: Array.isArray(names) ? names.map(str) : [],
    ja4h: str(http?.ja4h),
    conn_request_index: uint(http?.conn_request_index, 2 ** 32 - 1),
    client_ip: ip(http?.client_ip),
    match_status: r.status,
    join_delay_us: Math.round(r.join_delay_us),
  };
  setTlsColumns(row, r.tls);
  return row;
}

/** One `tls_handshakes` row from a TLS event. */
export function tlsHandshakeRow(tls: TlsEvent): Row {
  const row: Row = {
    ts: tsUs(tls.ts_us),
    src_ip: ip(tls.src_ip),
    src_port: uint(tls.src_port, 65535),
    dst_ip: ip(tls.dst_ip),
    dst_port: uint(tls.dst_port, 65535),
    transport: str(tls.transport) || "tcp",
    ja3_full: str(tls.ja3_full),
    ja3s: str(tls.ja3s),
    cipher_count: uint(tls.cipher_count, 65535),
    extension_count: uint(tls.extension_count, 65535),
    is_update: tls.update === true ? 1 : 0,
  };
  setTlsColumns(row, tls);
  return row;
}
