import { assert, assertEquals } from "../lib/testing.ts";
import { createIpFilter } from "../lib/ip_filter.ts";
import type { TlsEvent } from "../lib/events.ts";
import { EventBuilder, type HandshakeRecord, ja4Version } from "./event_builder.ts";

/** The builder's lines as events (every line must be one JSON object). */
function add(b: EventBuilder, rec: HandshakeRecord): TlsEvent[] {
  return b.add(rec).map((line) => JSON.parse(line) as TlsEvent);
}

const T0 = 1_700_000_000_000_000;
const CLIENT = { src_ip: "192.0.2.10", src_port: 50000, dst_ip: "198.51.100.1", dst_port: 443 };
const SERVER = { src_ip: "198.51.100.1", src_port: 443, dst_ip: "192.0.2.10", dst_port: 50000 };

function syn(ts: number, over: Partial<HandshakeRecord> = {}): HandshakeRecord {
  return {
    kind: "syn",
    ts_us: ts,
    transport: "tcp",
    ...CLIENT,
    ja4t: "64240_2-4-8-1-3_1460_8",
    tcp_window: 64240,
    tcp_mss: 1460,
    tcp_window_scale: 8,
    ip_ttl: 64,
    ...over,
  };
}

function hello(ts: number, over: Partial<HandshakeRecord> = {}): HandshakeRecord {
  return {
    kind: "client_hello",
    ts_us: ts,
    transport: "tcp",
    ...CLIENT,
    ja4: "t13d1516h2_8daaf6152771_02713d6af862",
    ja4_r: "t13d1516h2_002f,0035_0005,000a_0403",
    ja4_o: "t13d1516h2_acb858a92679_1d3bb9a6fb8e",
    ja4_ro: "t13d1516h2_1301,1302_0000,0010_0403",
    ja3: "cd08e31494f9531f560d64c695473da9",
    ja3_full: "771,4865-4866,0-23,29-23,0",
    tls_server_name: "example.com",
    alpn: "h2",
    cipher_count: 15,
    extension_count: 16,
    ip_ttl: 63,
    ...over,
  };
}

function serverHello(ts: number, over: Partial<HandshakeRecord> = {}): HandshakeRecord {
  return {
    kind: "server_hello",
    ts_us: ts,
    transport: "tcp",
    ...SERVER,
    ja4s: "t130200_1301_234ea6891581",
    ja3s: "f4febc55ea12b31ae17cfb7e614afda8",
    ...over,
  };
}

Deno.test("ja4Version: the version part of TCP, QUIC and DTLS JA4", () => {
  assertEquals(ja4Version("t13d1516h2_8daaf6152771_02713d6af862"), "13");
  assertEquals(ja4Version("q13d0310h3_55b375c5d22e_cd85d2d88918"), "13");
  assertEquals(ja4Version("t12i0000_000000000000_000000000000"), "12");
  assertEquals(ja4Version("ts3d…"), "s3");
  assertEquals(ja4Version(""), undefined);
});

Deno.test("EventBuilder: a ClientHello yields one event at once, with the SYN's TCP values", () => {
  const b = new EventBuilder();
  assertEquals(add(b, syn(T0)), []);
  const [ev, ...rest] = add(b, hello(T0 + 500));
  assertEquals(rest, []);
  assertEquals(ev, {
    type: "tls",
    ts_us: T0 + 500,
    ...CLIENT,
    transport: "tcp",
    ja4: "t13d1516h2_8daaf6152771_02713d6af862",
    ja4_r: "t13d1516h2_002f,0035_0005,000a_0403",
    ja4_o: "t13d1516h2_acb858a92679_1d3bb9a6fb8e",
    ja4_ro: "t13d1516h2_1301,1302_0000,0010_0403",
    ja3: "cd08e31494f9531f560d64c695473da9",
    ja3_full: "771,4865-4866,0-23,29-23,0",
    tls_server_name: "example.com",
    tls_version: "13",
    alpn: "h2",
    cipher_count: 15,
    extension_count: 16,
    ja4t: "64240_2-4-8-1-3_1460_8",
    tcp_window: 64240,
    tcp_mss: 1460,
    tcp_window_scale: 8,
    ip_ttl: 64,
  });
});

Deno.test("EventBuilder: no SYN seen → no JA4T, TTL from the hello packet", () => {
  const b = new EventBuilder();
  const [ev] = add(b, hello(T0));
  assertEquals(ev.ja4t, undefined);
  assertEquals(ev.tcp_window, undefined);
  assertEquals(ev.ip_ttl, 63);
});

Deno.test("EventBuilder: the ServerHello yields one follow-up with JA4S, same 4-tuple and ts_us", () => {
  const b = new EventBuilder();
  add(b, syn(T0));
  const [first] = add(b, hello(T0 + 100));
  const [update, ...rest] = add(b, serverHello(T0 + 900));
  assertEquals(rest, []);
  assertEquals(update, {
    ...first,
    update: true,
    ja4s: "t130200_1301_234ea6891581",
    ja3s: "f4febc55ea12b31ae17cfb7e614afda8",
  });
  assertEquals(update.ts_us, T0 + 100);
  // A retransmitted ServerHello does not produce a second update.
  assertEquals(add(b, serverHello(T0 + 1900)), []);
  const s = b.stats();
  assertEquals([s.hellos, s.updates, s.syns, s.orphan_server_hellos], [1, 1, 1, 1]);
});

Deno.test("EventBuilder: HelloRetryRequest → two hellos, each completed by its own update", () => {
  const b = new EventBuilder();
  const [h1] = add(b, hello(T0, { ja4: "t13d1516h2_aaaaaaaaaaaa_bbbbbbbbbbbb" }));
  const [u1] = add(b, serverHello(T0 + 10, { ja4s: "t130100_1301_hrr" }));
  const [h2] = add(b, hello(T0 + 20, { ja4: "t13d1516h2_cccccccccccc_dddddddddddd" }));
  const [u2] = add(b, serverHello(T0 + 30));
  assertEquals([u1.ja4, u1.ja4s, u1.ts_us], [h1.ja4, "t130100_1301_hrr", T0]);
  assertEquals([u2.ja4, u2.ja4s, u2.ts_us], [h2.ja4, "t130200_1301_234ea6891581", T0 + 20]);
});

Deno.test("EventBuilder: a ServerHello without a hello is an orphan; QUIC flows are separate", () => {
  const b = new EventBuilder();
  assertEquals(add(b, serverHello(T0)), []);
  add(b, hello(T0 + 1, { transport: "quic", ja4: "q13d0310h3_55b375c5d22e_cd85d2d88918" }));
  // A TCP ServerHello on the same 4-tuple does not complete the QUIC hello.
  assertEquals(add(b, serverHello(T0 + 2)), []);
  const [u] = add(b, serverHello(T0 + 3, { transport: "quic", ja4s: "q130200_1301_x" }));
  assertEquals([u.transport, u.ja4s, u.tls_version], ["quic", "q130200_1301_x", "13"]);
  assertEquals(b.stats().orphan_server_hellos, 2);
});

Deno.test("EventBuilder: the IP filter drops denied clients, their SYNs and server replies", () => {
  const b = new EventBuilder({ filter: createIpFilter({ deny: ["192.0.2.0/24"] }) });
  assertEquals(add(b, syn(T0)), []);
  assertEquals(add(b, hello(T0 + 1)), []);
  assertEquals(add(b, serverHello(T0 + 2)), []);
  const other = { src_ip: "203.0.113.5" };
  assertEquals(add(b, hello(T0 + 3, other)).length, 1);
  const s = b.stats();
  assertEquals([s.filtered, s.hellos, s.orphan_server_hellos, s.flows], [3, 1, 0, 1]);
});

Deno.test("EventBuilder: a new SYN on a reused port forgets the previous connection", () => {
  const b = new EventBuilder();
  add(b, syn(T0, { tcp_window: 1000 }));
  add(b, hello(T0 + 1));
  add(b, syn(T0 + 50, { tcp_window: 2000 }));
  assertEquals(add(b, serverHello(T0 + 51)), []); // the old hello is not completed by the new flow
  const [ev] = add(b, hello(T0 + 52));
  assertEquals(ev.tcp_window, 2000);
});

Deno.test("EventBuilder: flow state is bounded in entries and in age", () => {
  const b = new EventBuilder({ maxFlows: 100, flowTtlUs: 1e6 });
  for (let i = 0; i < 1000; i++) add(b, syn(T0 + i, { src_port: 1000 + i }));
  let s = b.stats();
  assertEquals([s.flows, s.evicted, s.syns], [100, 900, 1000]);
  // Ten seconds later every entry is past its TTL and is forgotten on the next record.
  add(b, syn(T0 + 10e6, { src_port: 9 }));
  s = b.stats();
  assertEquals(s.flows, 1);
  // The newest SYN still applies to its hello.
  const [ev] = add(b, hello(T0 + 10e6 + 1, { src_port: 9 }));
  assert(ev.ja4t !== undefined);
});

Deno.test("EventBuilder: the update line is the hello's line with the late fields appended", () => {
  const b = new EventBuilder({ filter: createIpFilter({ allow: [], deny: [] }) });
  const [line] = b.add(hello(T0, { tls_server_name: 'quote"d.example' }));
  const [update] = b.add(serverHello(T0 + 1));
  assert(update.startsWith(line.slice(0, -1) + ","));
  const parsed = JSON.parse(update);
  assertEquals([parsed.tls_server_name, parsed.update, parsed.ja4s], [
    'quote"d.example',
    true,
    "t130200_1301_234ea6891581",
  ]);
});

Deno.test("EventBuilder: filter verdicts stay right for many addresses (memo refills)", () => {
  const b = new EventBuilder({ filter: createIpFilter({ deny: ["10.0.0.0/8"] }) });
  let kept = 0;
  for (let i = 0; i < 70_000; i++) {
    const ip = i % 2 ? `10.1.${(i >> 8) & 255}.${i & 255}` : `192.0.${(i >> 8) & 255}.${i & 255}`;
    kept += b.add(hello(T0 + i, { src_ip: ip, src_port: 1000 + (i % 60000) })).length;
  }
  assertEquals(kept, 35_000);
  assertEquals(b.stats().filtered, 35_000);
});
