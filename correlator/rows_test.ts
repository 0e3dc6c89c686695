import { assertEquals } from "../lib/testing.ts";
import type { HttpEvent, TlsEvent } from "../lib/events.ts";
import { httpLogRow, tlsHandshakeRow } from "./rows.ts";

const tls: TlsEvent = {
  type: "tls",
  ts_us: 1_763_707_821_123_456,
  src_ip: "::ffff:192.0.2.9",
  src_port: 50123,
  dst_ip: "198.51.100.1",
  dst_port: 443,
  transport: "tcp",
  ja4: "t13d1516h2_8daaf6152771_02713d6af862",
  ja4_r: "t13d1516h2_002f,0035_0005,000a_0403,0804",
  ja4_o: "t13d1516h2_acb858a92679_e4bd3c8b4ea5",
  ja4_ro: "t13d1516h2_1301,1302_0000,0017_0403",
  ja3: "773906b0efdefa24a7f2b8eb6985bf37",
  ja3_full: "771,4865-4866,0-23,29-23,0",
  ja4t: "64240_2-4-8-1-3_1460_7",
  tls_server_name: "example.test",
  tls_version: "1.3",
  alpn: "h2",
  cipher_count: 16,
  extension_count: 15,
  tcp_window: 64240,
  tcp_mss: 1460,
  tcp_window_scale: 7,
  ip_ttl: 64,
};

const http: HttpEvent = {
  type: "http",
  ts_us: 1_763_707_821_223_456,
  src_ip: "192.0.2.9",
  src_port: 50123,
  dst_ip: "198.51.100.1",
  dst_port: 443,
  method: "POST",
  host: "example.test",
  path: "/login",
  query: "a=1",
  protocol: "HTTP/2",
  status: 302,
  headers: {
    "user-agent": "curl/8.5.0",
    "Accept": "*/*",
    "x-forwarded-for": "203.0.113.5",
    "sec-ch-ua-mobile": "?0",
    cookie: "(present)",
  },
  header_names: ["Host", "User-Agent", "Accept", "Cookie"],
  conn_request_index: 3,
  client_ip: "203.0.113.5",
  ja4h: "po20cr04enus_a1b2c3d4e5f6_000000000000_000000000000",
};

Deno.test("httpLogRow: a matched request carries HTTP and TLS columns", () => {
  const row = httpLogRow({ status: "matched", http, tls, join_delay_us: 100_000, wait_us: 0 });
  assertEquals(row, {
    ts: 1_763_707_821_223_456,
    src_ip: "192.0.2.9",
    src_port: 50123,
    dst_ip: "198.51.100.1",
    dst_port: 443,
    method: "POST",
    host: "example.test",
    path: "/login",
    query: "a=1",
    protocol: "HTTP/2",
    status: 302,
    user_agent: "curl/8.5.0",
    accept: "*/*",
    accept_language: "",
    accept_encoding: "",
    content_type: "",
    referer: "",
    xff: "203.0.113.5",
    sec_ch_ua: "",
    sec_ch_ua_mobile: "?0",
    sec_ch_ua_platform: "",
    has_cookie: 1,
    header_names: ["Host", "User-Agent", "Accept", "Cookie"],
    ja4h: "po20cr04enus_a1b2c3d4e5f6_000000000000_000000000000",
    conn_request_index: 3,
    client_ip: "203.0.113.5",
    ja4: tls.ja4,
    ja4_r: tls.ja4_r,
    ja4_o: tls.ja4_o,
    ja4_ro: tls.ja4_ro,
    ja3: tls.ja3,
    ja4s: "",
    ja4t: "64240_2-4-8-1-3_1460_7",
    tls_server_name: "example.test",
    tls_version: "1.3",
    alpn: "h2",
    tcp_window: 64240,
    tcp_mss: 1460,
    tcp_window_scale: 7,
    ip_ttl: 64,
    match_status: "matched",
    join_delay_us: 100_000,
  });
});

Deno.test("httpLogRow: no_tls has empty TLS columns; tls_only has empty HTTP columns", () => {
  const noTls = httpLogRow({ status: "no_tls", http, join_delay_us: 0, wait_us: 5 });
  assertEquals([noTls.ja4, noTls.tcp_window, noTls.match_status, noTls.path], [
    "",
    0,
    "no_tls",
    "/login",
  ]);
  const only = httpLogRow({ status: "tls_only", tls, join_delay_us: 0, wait_us: 0 });
  assertEquals(
    [only.ts, only.src_ip, only.method, only.path, only.has_cookie, only.header_names, only.ja4],
    [1_763_707_821_123_456, "192.0.2.9", "", "", 0, [], tls.ja4],
  );
});

Deno.test("rows: wrong or missing optional types become the column's zero value", () => {
  const odd = {
    ...http,
    status: "200",
    conn_request_index: -1,
    headers: undefined,
    header_names: undefined,
    host: undefined,
  } as unknown as HttpEvent;
  const row = httpLogRow({ status: "no_tls", http: odd, join_delay_us: 0, wait_us: 0 });
  assertEquals(
    [row.status, row.conn_request_index, row.host, row.has_cookie, row.header_names],
    [0, 0, "", 0, []],
  );
  assertEquals(row.client_ip, "203.0.113.5");
  const bad = httpLogRow({
    status: "no_tls",
    http: { ...http, client_ip: "not-an-ip", ts_us: -5 } as HttpEvent,
    join_delay_us: 0,
    wait_us: 0,
  });
  assertEquals([bad.client_ip, bad.ts], ["::", 0]);
  const zoned = httpLogRow({
    status: "no_tls",
    http: { ...http, src_ip: "FE80::1%eth0", client_ip: "::ffff:203.0.113.5" },
    join_delay_us: 0,
    wait_us: 0,
  });
  assertEquals([zoned.src_ip, zoned.client_ip], ["fe80::1", "203.0.113.5"]);
  const noClient = httpLogRow({
    status: "no_tls",
    http: { ...http, client_ip: undefined },
    join_delay_us: 0,
    wait_us: 0,
  });
  assertEquals(noClient.client_ip, "::");
  const t = tlsHandshakeRow({ ...tls, tcp_mss: 70_000, transport: "" } as TlsEvent);
  assertEquals([t.tcp_mss, t.transport, t.ja3_full, t.cipher_count, t.is_update], [
    0,
    "tcp",
    tls.ja3_full,
    16,
    0,
  ]);
  assertEquals(tlsHandshakeRow({ ...tls, update: true, ja4s: "s" }).is_update, 1);
});

Deno.test("rows: lone surrogates become U+FFFD (ClickHouse refuses a batch holding one)", () => {
  const row = httpLogRow({
    status: "no_tls",
    http: {
      ...http,
      path: "/a\ud800b",
      headers: { "user-agent": "\udfffx" },
      header_names: ["X\ud83d"],
    },
    join_delay_us: 0,
    wait_us: 0,
  });
  assertEquals([row.path, row.user_agent, row.header_names], ["/a\ufffdb", "\ufffdx", ["X\ufffd"]]);
  // A proper pair is kept.
  const ok = httpLogRow({
    status: "no_tls",
    http: { ...http, path: "/\u{1F600}" },
    join_delay_us: 0,
    wait_us: 0,
  });
  assertEquals(ok.path, "/\u{1F600}");
});
