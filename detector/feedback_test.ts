import { assert, assertEquals } from "../lib/testing.ts";
import { calibrateThresholds, type Classification, labelFor, latestLabels } from "./feedback.ts";

const c = (
  type: Classification["target_type"],
  target: string,
  label: Classification["label"],
  at: string,
): Classification => ({ created_at: at, analyst: "bob", target_type: type, target, label });

Deno.test("latest classification per target wins; unknown never decides", () => {
  const idx = latestLabels([
    c("ip", "192.0.2.1", "benign", "2026-01-01 10:00:00"),
    c("ip", "192.0.2.1", "malicious", "2026-01-01 12:00:00"),
    c("ip", "192.0.2.1", "bot", "2026-01-01 11:00:00"),
    c("ja4", "t13d_x", "unknown", "2026-01-01 10:00:00"),
  ]);
  assertEquals(labelFor({ src_ip: "192.0.2.1" }, -1, idx)?.label, "malicious");
  assertEquals(labelFor({ src_ip: "192.0.2.2", top_ja4: "t13d_x" }, -1, idx), undefined);
});

Deno.test("most specific target first: IP, then combination, then campaign, then JA4", () => {
  const idx = latestLabels([
    c("ja4", "J", "bot", "2026-01-01 10:00:00"),
    c("ja4_combo", "J|UA", "benign", "2026-01-01 10:00:00"),
    c("campaign", "77", "malicious", "2026-01-01 10:00:00"),
  ]);
  assertEquals(
    labelFor({ src_ip: "1.1.1.1", top_ja4: "J", top_ua: "UA" }, 77, idx)?.label,
    "benign",
  );
  assertEquals(labelFor({ src_ip: "1.1.1.1", top_ja4: "J" }, 77, idx)?.label, "malicious");
  assertEquals(labelFor({ src_ip: "1.1.1.1", top_ja4: "J" }, -1, idx)?.label, "bot");
});

Deno.test("calibration puts HIGH between the classes and keeps the gaps", () => {
  const scores = [0.4, 0.42, 0.45, 0.5, 0.52, 0.7, 0.72, 0.75, 0.8, 0.85];
  const labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
  const base = { medium: 0.55, high: 0.6, critical: 0.7 };
  const cal = calibrateThresholds(scores, labels, base, 5)!;
  assertEquals(cal.f1, 1);
  assertEquals(cal.thresholds.high, 0.61);
  assert(
    Math.abs(cal.thresholds.medium - 0.56) < 1e-9 &&
      Math.abs(cal.thresholds.critical - 0.71) < 1e-9,
  );
  assertEquals(calibrateThresholds(scores, labels, base, 6), undefined);
});
