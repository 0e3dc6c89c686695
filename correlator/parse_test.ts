import { assertEquals } from "../lib/testing.ts";
import { parseIp } from "../lib/ip_filter.ts";
import { isIpAddress, parseEventLine } from "./parse.ts";

const ok = {
  type: "http",
  ts_us: 1_700_000_000_000_000,
  src_ip: "192.0.2.1",
  src_port: 51000,
  dst_ip: "198.51.100.2",
  dst_port: 443,
  method: "GET",
  path: "/",
  protocol: "HTTP/1.1",
};

Deno.test("parseEventLine: a valid line passes through with every field", () => {
  const r = parseEventLine(JSON.stringify(ok));
  assertEquals(r, { ok: true, event: ok as never });
  const tls = parseEventLine(JSON.stringify({ ...ok, type: "tls", ja4: "t13d" }));
  assertEquals(tls.ok && tls.event.type, "tls");
});

Deno.test("parseEventLine: each malformed shape is rejected with its reason, never thrown", () => {
  const cases: [string, string][] = [
    ["{not json", "json"],
    ["", "json"],
    ["[1,2]", "not_object"],
    ["null", "not_object"],
    ['"text"', "not_object"],
    [JSON.stringify({ ...ok, type: "dns" }), "type"],
    [JSON.stringify({ ...ok, ts_us: "soon" }), "ts_us"],
    [JSON.stringify({ ...ok, ts_us: -1 }), "ts_us"],
    [JSON.stringify({ ...ok, ts_us: 1e20 }), "ts_us"],
    [
      '{"type":"http","ts_us":1e999,"src_ip":"1.2.3.4","src_port":1,"dst_ip":"1.2.3.4","dst_port":2}',
      "ts_us",
    ],
    [JSON.stringify({ ...ok, src_ip: "" }), "address"],
    [JSON.stringify({ ...ok, dst_ip: 7 }), "address"],
    [JSON.stringify({ ...ok, src_ip: "999.1.1.1" }), "address"],
    [JSON.stringify({ ...ok, src_ip: "evil'); DROP" }), "address"],
    [JSON.stringify({ ...ok, src_port: 70000 }), "port"],
    [JSON.stringify({ ...ok, dst_port: 4.5 }), "port"],
    [JSON.stringify({ ...ok, src_port: "443" }), "port"],
  ];
  for (const [line, reason] of cases) {
    assertEquals(parseEventLine(line), { ok: false, reason } as never, line);
  }
});

Deno.test("isIpAddress: the IPv4 fast path agrees with lib/ip_filter's parseIp", () => {
  const cases = [
    "0.0.0.0",
    "1.2.3.4",
    "255.255.255.255",
    "256.1.1.1",
    "01.2.3.4",
    "1.2.3",
    "1.2.3.4.5",
    "1..2.3",
    ".1.2.3",
    "1.2.3.",
    "1.2.3.4 ",
    "a.b.c.d",
    "1234.1.1.1",
    "",
    "::1",
    "::ffff:10.0.0.1",
    "2001:db8::1",
    "2001:db8:::1",
    "fe80::1%eth0",
  ];
  for (const c of cases) {
    assertEquals(isIpAddress(c), parseIp(c) !== undefined && c.trim() === c, c);
  }
  for (let i = 0; i < 2000; i++) {
    const parts = Array.from({ length: 4 }, () => Math.floor(Math.random() * 300));
    const text = parts.join(".");
    assertEquals(isIpAddress(text), parseIp(text) !== undefined, text);
  }
});
