import { assert, assertEquals } from "../lib/testing.ts";
import {
  FEATURE_NAMES,
  type FeatureRow,
  FEATURES,
  fitScaler,
  median,
  robustScale,
  toMatrix,
  toNumber,
  zValue,
} from "./features.ts";

const row = (over: Record<string, unknown>): FeatureRow => ({
  src_ip: "192.0.2.1",
  window_start: "2026-01-01 00:00:00",
  ...over,
});

Deno.test("25 features, unique names, covering the issue's required ones", () => {
  assertEquals(FEATURES.length, 25);
  assertEquals(new Set(FEATURE_NAMES).size, 25);
  for (
    const f of [
      "has_xff",
      "unusual_content_type_ratio",
      "non_standard_port_ratio",
      "login_post_concentration",
      "sec_ch_mobile_mismatch",
      "true_window_size",
      "window_mss_ratio",
    ]
  ) assert(FEATURE_NAMES.includes(f), `${f} missing`);
});

Deno.test("toNumber reads numbers, numeric text, TLS versions; junk is NaN", () => {
  assertEquals(toNumber(3), 3);
  assertEquals(toNumber("42"), 42);
  assertEquals(toNumber("1.3"), 13);
  assertEquals(toNumber("0x0303"), 12);
  assertEquals(toNumber(true), 1);
  assert(Number.isNaN(toNumber(null)));
  assert(Number.isNaN(toNumber("")));
  assert(Number.isNaN(toNumber("abc")));
});

Deno.test("median and robust scale: MAD, then mean-absolute fallback, then a small constant-feature scale", () => {
  assertEquals(median([5, 1, 3]), 3);
  assertEquals(median([4, 1, 3, 2]), 2.5);
  assert(Number.isNaN(median([NaN])));
  // MAD of [1,2,3,4,100] around 3 is 1 → 1.4826; the outlier does not inflate it.
  assertEquals(robustScale([1, 2, 3, 4, 100], 3), 1.4826);
  // Mostly zeros: MAD 0, falls back to 1.2533 × mean |x − 0| = 1.2533 × 0.25.
  assertEquals(robustScale([0, 0, 0, 1], 0), 1.2533 * 0.25);
  assertEquals(robustScale([7, 7, 7], 7), 0.7000000000000001);
  assertEquals(robustScale([0, 0], 0), 0.01);
});

Deno.test("missing values are imputed with the training median (z = 0); log1p on counts", () => {
  const rows = [1, 2, 3, 4, 5].map((v) => row({ error_ratio: v / 10, request_rate_per_min: v }));
  const scaler = fitScaler(rows);
  const j = scaler.features.indexOf("error_ratio");
  assertEquals(scaler.median[j], 0.3);
  assertEquals(zValue(scaler, j, null), 0);
  assertEquals(zValue(scaler, j, undefined), 0);
  const k = scaler.features.indexOf("request_rate_per_min");
  assertEquals(scaler.median[k], Math.log1p(3));
  const m = toMatrix([row({ error_ratio: null })], scaler);
  assertEquals(m.length, FEATURES.length);
  assert(m.every(Number.isFinite), "matrix must hold only finite values");
  assertEquals(m[j], 0);
});
