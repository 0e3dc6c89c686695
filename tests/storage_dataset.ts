/**
 * A small dataset whose aggregates were computed by hand (see storage_views_test.ts for the
 * arithmetic). Hour H = 2026-01-01 10:00 UTC. Rows use the column names of migrations/02.
 */
export const H_US = Date.UTC(2026, 0, 1, 10) * 1000;
export const S = 1_000_000;

export const IP_A = "198.51.100.7";
export const IP_A_STORED = "::ffff:198.51.100.7";
export const IP_B = "2001:db8::5";

export const JA4_CHROMIUM = "t13d1516h2_8daaf6152771_02713d6af862";
export const JA4_FIREFOX = "t13d1715h2_5b57614c22b0_3d5424432f57";
export const JA4_SAFARI = "t13d2014h2_a09f3c656075_14788d8d241b";
export const JA4H_X = "ge20nn05enus_7cf2b917f4b0_000000000000_000000000000";
export const JA4H_Y = "po11nn06enus_6e12b917f4c1_000000000000_000000000000";
export const UA_CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
export const UA_CURL = "curl/8.5.0";
export const UA_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

function http(over: Record<string, unknown>): Record<string, unknown> {
  return {
    ts: H_US,
    src_ip: IP_A,
    src_port: 50000,
    dst_ip: "192.0.2.1",
    dst_port: 443,
    method: "GET",
    host: "example.com",
    path: "/",
    protocol: "HTTP/1.1",
    status: 200,
    user_agent: UA_CHROME,
    header_names: ["host", "user-agent", "accept"],
    match_status: "matched",
    ...over,
  };
}

/** http_logs rows: four requests of A in hour H (+ one tls_only), one of B, one of A in H+1. */
export const HTTP_ROWS: Record<string, unknown>[] = [
  http({
    ts: H_US,
    path: "/index.html",
    protocol: "HTTP/2.0",
    sec_ch_ua_mobile: "?0",
    ja4: JA4_CHROMIUM,
    ja4h: JA4H_X,
    alpn: "h2",
  }),
  http({
    ts: H_US + 10 * S,
    path: "/about",
    protocol: "HTTP/2.0",
    status: 404,
    sec_ch_ua_mobile: "?1", // contradicts a desktop UA
    ja4: JA4_CHROMIUM,
    ja4h: JA4H_X,
    alpn: "h2",
  }),
  http({
    ts: H_US + 30 * S,
    method: "POST",
    host: "www.example.com",
    path: "/login",
    dst_port: 8443,
    content_type: "application/x-custom; charset=utf-8",
    xff: "203.0.113.9",
    ja4: JA4_FIREFOX, // Chrome UA on a Firefox handshake
    ja4h: JA4H_Y,
    alpn: "h2", // but spoke HTTP/1.1
  }),
  http({
    ts: H_US + 70 * S,
    path: "/index.html",
    dst_port: 80,
    status: 500,
    user_agent: UA_CURL,
    content_type: "application/json",
    match_status: "no_tls",
  }),
  // A handshake whose connection carried no request: not a request.
  http({
    ts: H_US + 80 * S,
    method: "",
    path: "",
    protocol: "",
    status: 0,
    user_agent: "",
    ja4: JA4_CHROMIUM,
    match_status: "tls_only",
  }),
  http({
    ts: H_US + 5 * S,
    src_ip: IP_B,
    user_agent: UA_IPHONE,
    ja4: JA4_SAFARI,
    alpn: "http/1.1",
  }),
  http({ ts: H_US + 3600 * S + 5 * S, path: "/next-hour" }),
];

function tls(over: Record<string, unknown>): Record<string, unknown> {
  return {
    ts: H_US,
    src_ip: IP_A,
    src_port: 50000,
    dst_ip: "192.0.2.1",
    dst_port: 443,
    ja4: JA4_CHROMIUM,
    ja4_r: "r",
    ja4_o: "o",
    ja4_ro: "ro",
    ja3: "ja3",
    ja3_full: "full",
    tls_version: "1.3",
    alpn: "h2",
    tcp_mss: 1460,
    tcp_window_scale: 8,
    ip_ttl: 128,
    ...over,
  };
}

/** tls_handshakes rows of A in hour H (the third is an update: ignored by the aggregates). */
export const TLS_ROWS: Record<string, unknown>[] = [
  tls({ cipher_count: 16, extension_count: 18, tcp_window: 64240 }),
  tls({
    ts: H_US + 30 * S,
    src_port: 50001,
    dst_port: 8443,
    alpn: "http/1.1",
    cipher_count: 17,
    extension_count: 15,
    tcp_window: 65535,
  }),
  tls({
    ts: H_US + 31 * S,
    src_port: 50001,
    dst_port: 8443,
    ja4s: "t130200_1301_a56c5b993250",
    is_update: 1,
    tcp_window: 1,
    tcp_mss: 1,
    ip_ttl: 1,
  }),
];
