import { assert, assertEquals } from "../lib/testing.ts";
import { type FeatureRow, FEATURES, fitScaler } from "./features.ts";
import { checkThresholds, explain, maxLevel, threatLevel } from "./threat.ts";

const T = { medium: 0.55, high: 0.6, critical: 0.7 };

Deno.test("threat levels follow the thresholds (inclusive)", () => {
  assertEquals(threatLevel(0.3, T), "LOW");
  assertEquals(threatLevel(0.55, T), "MEDIUM");
  assertEquals(threatLevel(0.65, T), "HIGH");
  assertEquals(threatLevel(0.7, T), "CRITICAL");
  assertEquals(maxLevel("HIGH", "MEDIUM"), "HIGH");
});

Deno.test("checkThresholds says what is wrong", () => {
  assertEquals(checkThresholds(T), undefined);
  assert(checkThresholds({ medium: 0.7, high: 0.6, critical: 0.8 })?.includes("ascend"));
  assert(checkThresholds({ medium: 0, high: 0.6, critical: 0.8 })?.includes("between 0 and 1"));
});

Deno.test("reasons name the deviating features with value and usual value", () => {
  const rows: FeatureRow[] = [];
  for (let i = 0; i < 50; i++) {
    rows.push({
      src_ip: `10.0.0.${i}`,
      window_start: "2026-01-01 00:00:00",
      request_rate_per_min: 1 + (i % 5) / 10,
      login_post_concentration: 0,
      error_ratio: 0.01 * (i % 3),
    });
  }
  const scaler = fitScaler(rows);
  const bot: FeatureRow = {
    src_ip: "203.0.113.5",
    window_start: "2026-01-01 00:00:00",
    request_rate_per_min: 240,
    login_post_concentration: 0.95,
    error_ratio: 0.01,
  };
  const reasons = explain(bot, scaler, FEATURES, { minZ: 3, max: 3 });
  assertEquals(reasons.length, 2);
  assert(
    reasons.some((r) => r.startsWith("request rate 240/min, usually 1.2/min")),
    reasons.join(),
  );
  assert(reasons.some((r) => r.includes("login endpoints 95%")), reasons.join());
  const normal = explain(rows[3], scaler, FEATURES, { minZ: 3, max: 3 });
  assertEquals(normal, ["unusual combination of several features (no single one stands out)"]);
});
