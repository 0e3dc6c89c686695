/**
 * The events that travel as newline-delimited JSON over `network.socket` (from capture/)
 * and `http.socket` (from mod_reqin_log). Every event has `type`, `ts_us` (microseconds since
 * the epoch), `src_ip`, `src_port`, `dst_ip`, `dst_port`; `src_*` is always the TCP client.
 */

export interface EventBase {
  ts_us: number;
  src_ip: string;
  src_port: number;
  dst_ip: string;
  dst_port: number;
}

/** One TLS ClientHello seen by the sensor (and what it learned of the connection). */
export interface TlsEvent extends EventBase {
  type: "tls";
  /** "tcp" or "quic". */
  transport: string;
  ja4: string;
  ja4_r: string;
  ja4_o: string;
  ja4_ro: string;
  ja3: string;
  ja3_full: string;
  /** Empty until the ServerHello is seen. */
  ja4s?: string;
  ja3s?: string;
  /** From the connection's SYN, when it was seen. */
  ja4t?: string;
  tls_server_name?: string;
  tls_version?: string;
  alpn?: string;
  cipher_count?: number;
  extension_count?: number;
  tcp_window?: number;
  tcp_mss?: number;
  tcp_window_scale?: number;
  ip_ttl?: number;
  /** Set on a follow-up event that only adds late fields (JA4S) to an earlier one. */
  update?: boolean;
}

/** One HTTP request as logged by mod_reqin_log inside Apache. */
export interface HttpEvent extends EventBase {
  type: "http";
  method: string;
  host?: string;
  path: string;
  query?: string;
  protocol: string;
  status?: number;
  /** Chosen headers, lower-case names. */
  headers?: Record<string, string>;
  /** Every request header name in wire order (for JA4H). */
  header_names?: string[];
  /** Real client when mod_remoteip / PROXY protocol differs from the TCP peer. */
  client_ip?: string;
  /** 0-based index of this request on its connection (keep-alive). */
  conn_request_index?: number;
  ja4h?: string;
  tls_sni?: string;
  tls_protocol?: string;
  tls_cipher?: string;
  pid?: number;
}

export type SocketEvent = TlsEvent | HttpEvent;
