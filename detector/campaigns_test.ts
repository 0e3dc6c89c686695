import { assert, assertEquals } from "../lib/testing.ts";
import {
  type CampaignInput,
  findCampaigns,
  networkPrefix,
  NO_CAMPAIGN,
  stableId,
} from "./campaigns.ts";

const row = (ip: string, over: Partial<CampaignInput> = {}): CampaignInput => ({
  src_ip: ip,
  window_start: "2026-01-01 10:00:00",
  top_ja4: "t13d1311h1_aaaaaaaaaaaa_bbbbbbbbbbbb",
  top_ja4h: "po11nn05enus_111111111111_222222222222_333333333333",
  top_ua: "python-requests/2.32",
  request_rate_per_min: 50,
  ...over,
});

Deno.test("networkPrefix: /24 for IPv4 and mapped IPv4, /64 for IPv6, empty for junk", () => {
  assertEquals(networkPrefix("203.0.113.77"), "203.0.113.0/24");
  assertEquals(networkPrefix("::ffff:203.0.113.77"), "203.0.113.0/24");
  assertEquals(networkPrefix("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  assertEquals(networkPrefix("2001:db8::1"), "2001:db8:0:0::/64");
  assertEquals(networkPrefix("not-an-ip"), "");
});

Deno.test("rows sharing two traits form one campaign; every member has the same positive id", () => {
  const rows = [
    row("198.51.100.1"),
    row("198.51.100.2", { top_ua: "other" }), // shares JA4 + JA4H + prefix with the first
    row("192.0.2.9", { top_ja4h: "x", window_start: "2026-01-01 11:00:00" }), // JA4 + UA
    row("8.8.4.4", {
      top_ja4: "t13d1516h2_8daaf6152771_02713d6af862",
      top_ja4h: "ge20cr10enus_aaaaaaaaaaaa_bbbbbbbbbbbb_cccccccccccc",
      top_ua: "Mozilla/5.0 Chrome",
      request_rate_per_min: 1,
    }),
  ];
  const { ids, campaigns } = findCampaigns(rows);
  assertEquals(campaigns.length, 1);
  assert(ids[0] > 0, "member id must be positive");
  assertEquals(ids[1], ids[0]);
  assertEquals(ids[2], ids[0]);
  assertEquals(ids[3], NO_CAMPAIGN);
  assertEquals(campaigns[0].ips, ["192.0.2.9", "198.51.100.1", "198.51.100.2"]);
  assert(campaigns[0].sharedTraits.includes("JA4 + User-Agent"), campaigns[0].sharedTraits.join());
});

Deno.test("a single shared trait (same JA4 only) does not link clients", () => {
  const rows = [
    row("10.0.1.1", { top_ja4h: "a", top_ua: "ua-a", window_start: "2026-01-01 01:00:00" }),
    row("10.0.2.1", { top_ja4h: "b", top_ua: "ua-b", window_start: "2026-01-01 02:00:00" }),
  ];
  const { ids, campaigns } = findCampaigns(rows);
  assertEquals(campaigns.length, 0);
  assertEquals(ids, [NO_CAMPAIGN, NO_CAMPAIGN]);
});

Deno.test("one IP over several hours is not a campaign by itself", () => {
  const rows = [row("10.9.9.9"), row("10.9.9.9", { window_start: "2026-01-01 11:00:00" })];
  assertEquals(findCampaigns(rows).ids, [NO_CAMPAIGN, NO_CAMPAIGN]);
});

Deno.test("campaign ids are stable across runs and input order", () => {
  const rows = [row("198.51.100.1"), row("198.51.100.2"), row("198.51.100.3")];
  const a = findCampaigns(rows).ids[0];
  const b = findCampaigns([...rows].reverse()).ids[0];
  assertEquals(a, b);
  assert(Number.isSafeInteger(stableId("x")) && stableId("x") > 0);
});
