import { assert, assertEquals, assertThrows } from "./testing.ts";
import { createIpFilter, parseCidr, parseIp } from "./ip_filter.ts";
import { ConfigError } from "./errors.ts";

Deno.test("parseIp: IPv4, IPv6, mapped, zone, and rejects", () => {
  assertEquals(parseIp("192.0.2.1"), { v4: true, words: [0, 0, 0, 0xc0000201] });
  assertEquals(parseIp("::ffff:192.0.2.1"), { v4: true, words: [0, 0, 0, 0xc0000201] });
  assertEquals(parseIp("::ffff:c000:201"), { v4: true, words: [0, 0, 0, 0xc0000201] });
  assertEquals(parseIp("2001:db8::1")?.words, [0x20010db8, 0, 0, 1]);
  assertEquals(parseIp("fe80::1%eth0")?.words, [0xfe800000, 0, 0, 1]);
  assertEquals(parseIp("::")?.words, [0, 0, 0, 0]);
  assertEquals(parseIp("1:2:3:4:5:6:7:8")?.words, [0x10002, 0x30004, 0x50006, 0x70008]);
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.-4",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "12345::",
      "g::1",
      "::1.2.3.256",
      "1:2:3:4:5:6:7::8",
      "example.com",
    ]
  ) assertEquals(parseIp(bad), undefined, bad);
});

Deno.test("/0 matches every address of its family only", () => {
  const v4all = createIpFilter({ deny: ["0.0.0.0/0"] });
  assert(!v4all.allows("8.8.8.8"));
  assert(!v4all.allows("::ffff:8.8.8.8"), "mapped IPv4 is IPv4");
  assert(v4all.allows("2001:db8::1"), "an IPv4 /0 does not cover IPv6");
  const v6all = createIpFilter({ deny: ["::/0"] });
  assert(!v6all.allows("2001:db8::1"));
  assert(v6all.allows("8.8.8.8"));
});

Deno.test("/32 and /128 match exactly one address; bare addresses are host routes", () => {
  const f = createIpFilter({ deny: ["192.0.2.10/32", "2001:db8::10/128", "198.51.100.7"] });
  assert(!f.allows("192.0.2.10"));
  assert(f.allows("192.0.2.11"));
  assert(f.allows("192.0.2.9"));
  assert(!f.allows("2001:db8::10"));
  assert(f.allows("2001:db8::11"));
  assert(!f.allows("198.51.100.7"));
  assert(f.allows("198.51.100.8"));
});

Deno.test("prefix boundaries: /31, /25, /1, /127, /65", () => {
  const f = createIpFilter({
    deny: ["10.0.0.0/31", "10.1.0.128/25", "128.0.0.0/1", "2001:db8::/127", "2001:db8:0:1::/65"],
  });
  assert(!f.allows("10.0.0.1"));
  assert(f.allows("10.0.0.2"));
  assert(f.allows("10.1.0.127"));
  assert(!f.allows("10.1.0.128"));
  assert(!f.allows("10.1.0.255"));
  assert(!f.allows("200.1.1.1"));
  assert(f.allows("127.255.255.255"));
  assert(!f.allows("2001:db8::1"));
  assert(f.allows("2001:db8::2"));
  assert(!f.allows("2001:db8:0:1:7fff::1"));
  assert(f.allows("2001:db8:0:1:8000::1"));
});

Deno.test("mapped IPv6 CIDRs and addresses meet IPv4 ones", () => {
  const f = createIpFilter({ deny: ["::ffff:10.0.0.0/104"] });
  assert(!f.allows("10.9.9.9"));
  assert(!f.allows("::ffff:10.9.9.9"));
  assert(f.allows("11.0.0.1"));
  const g = createIpFilter({ deny: ["10.0.0.0/8"] });
  assert(!g.allows("::ffff:10.2.3.4"));
  assert(!g.allows("::FFFF:0A02:0304"));
});

Deno.test("allow list: only listed traffic passes, deny wins over allow", () => {
  const f = createIpFilter({ allow: ["192.0.2.0/24", "2001:db8::/32"], deny: ["192.0.2.66"] });
  assert(f.allows("192.0.2.1"));
  assert(!f.allows("192.0.2.66"));
  assert(!f.allows("198.51.100.1"));
  assert(f.allows("2001:db8:ffff::1"));
  assert(!f.allows("2001:db9::1"));
  assert(!f.allows("not-an-ip"), "unparsable text is not in the allow list");
  assert(createIpFilter({ deny: ["10.0.0.0/8"] }).allows("not-an-ip"));
  assertEquals([f.allowCount, f.denyCount], [2, 1]);
});

Deno.test("bad CIDRs are ConfigErrors that name the entry and what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["10.0.0.0/33", /prefix length 33 is out of range \(0–32\)/],
    ["2001:db8::/129", /out of range \(0–128\)/],
    ["::ffff:10.0.0.0/95", /at least 96/],
    ["10.0.0.0/x", /'x' is not a number/],
    ["10.0.0.0/", /'' is not a number/],
    ["10.0.0.1/8", /host bits set; did you mean 10.0.0.0\/8/],
    ["2001:db8::1/32", /did you mean 2001:db8:0:0:0:0:0:0\/32/],
    ["10.0.0.0/8/8", /not an IP address or CIDR/],
    ["", /not an IP address or CIDR/],
    ["300.0.0.0/8", /not an IP address or CIDR/],
  ];
  for (const [text, re] of cases) {
    const err = assertThrows(() => parseCidr(text), ConfigError);
    assert(re.test(err.message), `${text}: ${err.message}`);
  }
  const err = assertThrows(
    () => createIpFilter({ allow: ["10.0.0.0/8"], deny: ["1.2.3.4", "bogus"] }),
    ConfigError,
  );
  assertEquals(err.message, "deny list entry 2: 'bogus' is not an IP address or CIDR range");
});

Deno.test("many entries stay correct (hash per prefix length)", () => {
  const deny: string[] = [];
  for (let i = 0; i < 5000; i++) deny.push(`10.${(i >> 8) & 255}.${i & 255}.0/24`);
  const f = createIpFilter({ deny });
  assert(!f.allows("10.19.135.77"));
  assert(f.allows("10.20.136.1"), "5000 /24s end at 10.19.135.0/24");
  assert(f.allows("11.0.0.1"));
});
