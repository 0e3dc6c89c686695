import { assertEquals } from "../lib/testing.ts";
import { CAP_NET_RAW, hasEffectiveCapability } from "./privileges.ts";

const status = (capEff: string) =>
  `Name:\tdeno\nCapInh:\t0000000000000000\nCapPrm:\t${capEff}\nCapEff:\t${capEff}\n`;

Deno.test("hasEffectiveCapability: CAP_NET_RAW bit in CapEff", () => {
  assertEquals(hasEffectiveCapability(status("000001ffffffffff"), CAP_NET_RAW), true);
  // CAP_NET_RAW (13) + CAP_NET_ADMIN (12) only: 0x3000.
  assertEquals(hasEffectiveCapability(status("0000000000003000"), CAP_NET_RAW), true);
  assertEquals(hasEffectiveCapability(status("0000000000001000"), CAP_NET_RAW), false);
  assertEquals(hasEffectiveCapability(status("0000000000000000"), CAP_NET_RAW), false);
  assertEquals(hasEffectiveCapability("Name:\tdeno\n", CAP_NET_RAW), false);
});
