import { assert, assertEquals, assertThrows } from "../lib/testing.ts";
import type { FeatureRow } from "./features.ts";
import { type Classification, latestLabels } from "./feedback.ts";
import {
  DEFAULT_PARAMS,
  type DetectorParams,
  modelFromRecord,
  modelRecord,
  scoreRows,
  trainModel,
} from "./model.ts";
import { firstSeenIndex } from "./new_fingerprints.ts";
import { FALLBACK_BROWSER_JA4S, simulate } from "./simulator.ts";

const NOW = new Date(Date.UTC(2026, 0, 2));
const sim = simulate({ benign: 3000, bots: 150, seed: 5, browserJa4s: FALLBACK_BROWSER_JA4S });
const PARAMS: DetectorParams = { ...DEFAULT_PARAMS, trees: 60 };

function label(
  type: Classification["target_type"],
  target: string,
  l: Classification["label"],
  at = "2026-01-01 12:00:00",
): Classification {
  return { created_at: at, analyst: "alice", target_type: type, target, label: l };
}

Deno.test("training is repeatable from the seed, and the stored record restores the same model", () => {
  const a = trainModel(sim.rows, new Map(), PARAMS, NOW);
  const b = trainModel(sim.rows, new Map(), PARAMS, NOW);
  assertEquals(modelRecord(a), modelRecord(b));
  const c = trainModel(sim.rows, new Map(), { ...PARAMS, seed: 2 }, NOW);
  assert(modelRecord(c).model !== modelRecord(a).model, "another seed must give another forest");
  const restored = modelFromRecord(JSON.parse(JSON.stringify(modelRecord(a))));
  const s1 = scoreRows(a, sim.rows.slice(0, 200), { labels: new Map(), now: NOW });
  const s2 = scoreRows(restored, sim.rows.slice(0, 200), { labels: new Map(), now: NOW });
  assertEquals(s1, s2);
});

Deno.test("bots score above benign rows; levels, reasons and features are filled", () => {
  const model = trainModel(sim.rows, new Map(), PARAMS, NOW);
  const scored = scoreRows(model, sim.rows, { labels: new Map(), now: NOW });
  let botHigh = 0, benignHigh = 0;
  scored.forEach((s, i) => {
    const high = s.threat_level === "HIGH" || s.threat_level === "CRITICAL";
    if (sim.labels[i]) botHigh += high ? 1 : 0;
    else benignHigh += high ? 1 : 0;
  });
  assert(botHigh / 150 > 0.5, `only ${botHigh}/150 bots at HIGH or above`);
  assert(benignHigh / 3000 < 0.02, `${benignHigh}/3000 benign rows at HIGH or above`);
  const top = scored.reduce((a, b) => (b.score > a.score ? b : a));
  assert(top.reasons.length > 0, "an anomalous row must have reasons");
  assertEquals(typeof top.features.request_rate_per_min, "number");
  assertEquals(top.supervised_probability, null);
});

Deno.test("a campaign of ≥ 5 clients escalates HIGH to CRITICAL; members never get -1", () => {
  const model = trainModel(sim.rows, new Map(), PARAMS, NOW);
  const scored = scoreRows(model, sim.rows, { labels: new Map(), now: NOW });
  const inCampaign = scored.filter((s) => s.campaign_id !== -1);
  assert(inCampaign.length > 0, "the simulated bot campaigns must be found");
  for (const s of inCampaign) {
    assert(s.campaign_id > 0);
    assert(s.threat_level !== "LOW", "only anomalous rows join campaigns");
  }
  const sizes = new Map<number, Set<string>>();
  for (const s of inCampaign) {
    sizes.set(s.campaign_id, (sizes.get(s.campaign_id) ?? new Set()).add(s.src_ip));
  }
  const escalated = scored.filter((s) => s.reasons.some((r) => r.startsWith("escalated")));
  assert(escalated.length > 0, "some HIGH member of a large campaign must be escalated");
  for (const s of escalated) {
    assertEquals(s.threat_level, "CRITICAL");
    assert(sizes.get(s.campaign_id)!.size >= 5);
  }
  // With the escalation size out of reach nothing is escalated.
  const model2 = trainModel(sim.rows, new Map(), { ...PARAMS, campaignEscalateSize: 100000 }, NOW);
  const none = scoreRows(model2, sim.rows, { labels: new Map(), now: NOW });
  assertEquals(none.filter((s) => s.reasons.some((r) => r.startsWith("escalated"))).length, 0);
});

Deno.test("confirmed-benign IP and JA4 are suppressed to LOW with the analyst's verdict", () => {
  const model = trainModel(sim.rows, new Map(), PARAMS, NOW);
  const before = scoreRows(model, sim.rows, { labels: new Map(), now: NOW });
  const i = before.findIndex((s) => s.threat_level === "CRITICAL" || s.threat_level === "HIGH");
  const ip = sim.rows[i].src_ip;
  const ja4 = sim.rows.find((r, k) => sim.labels[k] && r.top_ja4 !== sim.rows[i].top_ja4)!.top_ja4!;
  const labels = latestLabels([
    label("ip", ip, "bot", "2026-01-01 10:00:00"),
    label("ip", ip, "benign", "2026-01-01 11:00:00"), // later verdict wins
    label("ja4", ja4, "benign"),
  ]);
  const after = scoreRows(model, sim.rows, { labels, now: NOW });
  for (const s of after.filter((s) => s.src_ip === ip || s.top_ja4 === ja4)) {
    assertEquals(s.threat_level, "LOW");
    assertEquals(s.campaign_id, -1);
    assert(s.reasons[0].startsWith("confirmed benign by analyst alice"), s.reasons[0]);
  }
});

Deno.test("labels calibrate thresholds and, when enough, add a supervised probability", () => {
  const labelled: Classification[] = [];
  sim.rows.forEach((r, i) => {
    if (i % 10 === 0 || sim.labels[i]) {
      labelled.push(label("ip", r.src_ip, sim.labels[i] ? "bot" : "benign"));
    }
  });
  const model = trainModel(sim.rows, latestLabels(labelled), PARAMS, NOW);
  assert(model.calibration !== undefined, "both classes have enough labels");
  assert(model.thresholds.high !== PARAMS.thresholds.high || model.calibration!.f1 > 0);
  assert(
    model.thresholds.medium < model.thresholds.high &&
      model.thresholds.high < model.thresholds.critical,
  );
  assert(model.supervised !== undefined, "enough labels for the supervised model");
  const scored = scoreRows(model, sim.rows, { labels: new Map(), now: NOW });
  let bot = 0, benign = 0;
  scored.forEach((
    s,
    i,
  ) => (sim.labels[i]
    ? (bot += s.supervised_probability!)
    : (benign += s.supervised_probability!))
  );
  assert(
    bot / 150 > 0.7 && benign / 3000 < 0.1,
    `mean P(bot): bots ${bot / 150}, benign ${benign / 3000}`,
  );
  // Too few labels: configured thresholds, no supervised model.
  const few = trainModel(sim.rows, latestLabels(labelled.slice(0, 5)), PARAMS, NOW);
  assertEquals(few.thresholds, PARAMS.thresholds);
  assertEquals(few.supervised, undefined);
});

Deno.test("a new JA4 + User-Agent combination is flagged at least MEDIUM after learning", () => {
  const model = trainModel(sim.rows, new Map(), PARAMS, NOW);
  const benignIndex = sim.labels.findIndex((l) => l === 0);
  const row: FeatureRow = { ...sim.rows[benignIndex], top_ua: "BrandNewAgent/1.0" };
  const known = firstSeenIndex([
    {
      kind: "ja4+ja4h",
      value: `${row.top_ja4}|${row.top_ja4h}`,
      first_seen: "2025-06-01 00:00:00",
    },
  ]);
  const policy = {
    siteFirstSeen: "2025-06-01 00:00:00",
    learningHours: 168,
    since: "2026-01-01 00:00:00",
    allowlist: [],
  };
  const [s] = scoreRows(model, [row], {
    labels: new Map(),
    firstSeen: known,
    newFingerprints: policy,
  });
  assert(s.threat_level !== "LOW");
  assert(s.reasons.some((r) => r.includes("JA4 + User-Agent")), s.reasons.join());
  assert(!s.reasons.some((r) => r.includes("JA4 + JA4H")), "the known combination is not new");
  const learning = { ...policy, siteFirstSeen: "2025-12-31 12:00:00" };
  const [l] = scoreRows(model, [row], {
    labels: new Map(),
    firstSeen: known,
    newFingerprints: learning,
  });
  assert(!l.reasons.some((r) => r.includes("new fingerprint")), "nothing is new while learning");
  const allowed = { ...policy, allowlist: [row.top_ja4!] };
  const [a] = scoreRows(model, [row], {
    labels: new Map(),
    firstSeen: known,
    newFingerprints: allowed,
  });
  assert(!a.reasons.some((r) => r.includes("new fingerprint")), "allowlisted JA4 is never new");
});

Deno.test("training rejects no rows and bad thresholds with a message", () => {
  assertThrows(() => trainModel([], new Map(), PARAMS, NOW), RangeError, "no feature rows");
  const bad = { ...PARAMS, thresholds: { medium: 0.7, high: 0.6, critical: 0.8 } };
  assertThrows(() => trainModel(sim.rows, new Map(), bad, NOW), RangeError, "ascend");
});
