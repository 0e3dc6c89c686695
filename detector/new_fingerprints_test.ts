import { assertEquals } from "../lib/testing.ts";
import {
  combinationsOf,
  firstSeenIndex,
  newCombinationReasons,
  type NewFingerprintPolicy,
} from "./new_fingerprints.ts";

const ROW = { top_ja4: "J", top_ja4h: "H", top_ua: "UA", top_ja4s: "S" };
const POLICY: NewFingerprintPolicy = {
  siteFirstSeen: "2026-01-01 00:00:00",
  learningHours: 24,
  since: "2026-01-05 00:00:00",
  allowlist: [],
};

Deno.test("combinations pair the JA4 with JA4H, User-Agent and JA4S; no JA4, none", () => {
  assertEquals(combinationsOf(ROW), [["ja4+ja4h", "J|H"], ["ja4+ua", "J|UA"], ["ja4+ja4s", "J|S"]]);
  assertEquals(combinationsOf({ top_ua: "UA" }), []);
});

Deno.test("first-seen index keeps the earliest time", () => {
  const idx = firstSeenIndex([
    { kind: "ja4+ua", value: "J|UA", first_seen: "2026-01-03 00:00:00" },
    { kind: "ja4+ua", value: "J|UA", first_seen: "2026-01-02 00:00:00" },
  ]);
  assertEquals(idx.get("ja4+ua\u0000J|UA"), "2026-01-02 00:00:00");
});

Deno.test("new = unseen or first seen in the scoring window; old combinations are not", () => {
  const idx = firstSeenIndex([
    { kind: "ja4+ja4h", value: "J|H", first_seen: "2026-01-02 00:00:00" }, // known before
    { kind: "ja4+ua", value: "J|UA", first_seen: "2026-01-05 01:00:00" }, // first seen now
  ]);
  const reasons = newCombinationReasons(ROW, idx, POLICY);
  assertEquals(reasons, [
    "new fingerprint combination JA4 + User-Agent on this site (first seen 2026-01-05 01:00:00)",
    "new fingerprint combination JA4 + JA4S on this site (first seen now)",
  ]);
});

Deno.test("nothing is new while learning, for allowlisted JA4s or combinations, or without data", () => {
  const idx = firstSeenIndex([]);
  assertEquals(newCombinationReasons(ROW, idx, { ...POLICY, since: "2026-01-01 12:00:00" }), []);
  assertEquals(newCombinationReasons(ROW, idx, { ...POLICY, allowlist: ["J"] }), []);
  assertEquals(
    newCombinationReasons(ROW, idx, { ...POLICY, allowlist: ["J|H", "J|UA"] }).length,
    1, // only J|S remains
  );
  assertEquals(newCombinationReasons(ROW, idx, { ...POLICY, siteFirstSeen: undefined }), []);
});
