/**
 * Synthetic event streams with a known join outcome, for the integration tests and the
 * benchmark. Every request's path names its connection and index, and every handshake's JA4
 * names its connection, so a test can check each joined row, not only the counts.
 *
 * @example
 * ```ts
 * const s = syntheticStream({ connections: 100, requestsPerConnection: 3, noTls: 10, tlsOnly: 5 });
 * s.expected; // { matched: 300, no_tls: 10, tls_only: 5, tls_rows: 105 }
 * ```
 */
import type { HttpEvent, TlsEvent } from "../lib/events.ts";

/** Shape of a synthetic stream. */
export interface SyntheticOptions {
  /** TLS connections that carry requests. */
  connections: number;
  requestsPerConnection: number;
  /** Requests on connections with no handshake (plain HTTP). */
  noTls?: number;
  /** Handshakes whose connection carries no request. */
  tlsOnly?: number;
  /** Event time of the first event, µs. */
  baseUs?: number;
  /** Distinguishes the streams of several runs (goes into the client address). */
  clientNet?: number;
}

/** The events, and the join outcome they must give. */
export interface SyntheticStream {
  tls: TlsEvent[];
  http: HttpEvent[];
  expected: { matched: number; no_tls: number; tls_only: number; tls_rows: number };
}

/** Client address and port of connection `i` (distinct for up to ~4 billion connections). */
export function syntheticClient(i: number, net = 10): { ip: string; port: number } {
  const host = Math.floor(i / 50_000);
  return {
    ip: `${net}.${(host >> 16) & 255}.${(host >> 8) & 255}.${host & 255}`,
    port: 10_000 + (i % 50_000),
  };
}

/** A TLS event of connection `i` shaped like capture's. */
export function syntheticTls(i: number, ts: number, net = 10): TlsEvent {
  const c = syntheticClient(i, net);
  return {
    type: "tls",
    ts_us: ts,
    src_ip: c.ip,
    src_port: c.port,
    dst_ip: "127.0.0.1",
    dst_port: 443,
    transport: "tcp",
    ja4: `t13d1516h2_8daaf6152771_c${i}`,
    ja4_r: "t13d1516h2_002f,0035,009c,009d,1301,1302,1303_0005,000a,000b,000d,0017,0023_0403,0804",
    ja4_o: "t13d1516h2_acb858a92679_e4bd3c8b4ea5",
    ja4_ro: "t13d1516h2_1301,1302,1303,c02b_0000,0005,000a_0403,0804",
    ja3: "773906b0efdefa24a7f2b8eb6985bf37",
    ja3_full: "771,4865-4866-4867-49195,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0",
    ja4t: "64240_2-4-8-1-3_1460_7",
    tls_server_name: "bench.example",
    tls_version: "1.3",
    alpn: "h2",
    cipher_count: 16,
    extension_count: 15,
    tcp_window: 64240,
    tcp_mss: 1460,
    tcp_window_scale: 7,
    ip_ttl: 64,
  };
}

/** An HTTP event (request `k` on connection `i`) shaped like mod_reqin_log's. */
export function syntheticHttp(i: number, k: number, ts: number, net = 10): HttpEvent {
  const c = syntheticClient(i, net);
  return {
    type: "http",
    ts_us: ts,
    src_ip: c.ip,
    src_port: c.port,
    dst_ip: "127.0.0.1",
    dst_port: 443,
    method: "GET",
    host: "bench.example",
    path: `/c${i}/r${k}`,
    query: "q=1",
    protocol: "HTTP/1.1",
    status: 200,
    headers: {
      "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
      accept: "text/html,application/xhtml+xml",
      "accept-language": "en-US,en;q=0.9",
      "accept-encoding": "gzip, deflate, br",
    },
    header_names: ["Host", "User-Agent", "Accept", "Accept-Language", "Accept-Encoding"],
    conn_request_index: k,
    ja4h: "ge11nn05enus_9ed1ff1f7b03_000000000000_000000000000",
    pid: 4242,
  };
}

/** Builds the stream; events of a connection are 1 ms apart, handshake first. */
export function syntheticStream(opts: SyntheticOptions): SyntheticStream {
  const base = opts.baseUs ?? Date.now() * 1000;
  const net = opts.clientNet ?? 10;
  const tls: TlsEvent[] = [];
  const http: HttpEvent[] = [];
  const n = opts.connections;
  for (let i = 0; i < n; i++) {
    tls.push(syntheticTls(i, base + i, net));
    for (let k = 0; k < opts.requestsPerConnection; k++) {
      http.push(syntheticHttp(i, k, base + i + 1000 * (k + 1), net));
    }
  }
  const noTls = opts.noTls ?? 0;
  for (let j = 0; j < noTls; j++) http.push(syntheticHttp(n + j, 0, base + j, net));
  const tlsOnly = opts.tlsOnly ?? 0;
  for (let j = 0; j < tlsOnly; j++) tls.push(syntheticTls(n + noTls + j, base + j, net));
  return {
    tls,
    http,
    expected: {
      matched: n * opts.requestsPerConnection,
      no_tls: noTls,
      tls_only: tlsOnly,
      tls_rows: n + tlsOnly,
    },
  };
}
