/**
 * Detector end to end on embedded chDB: simulated IP-hours → raw http_logs/tls_handshakes →
 * materialized aggregates → feature views → detection run → ml_models and ml_all_scores; then
 * analyst feedback in soc_classifications changes the next run.
 */
import { assert, assertEquals } from "../lib/testing.ts";
import { createLogger } from "../lib/log.ts";
import { openTestStorage } from "../lib/storage/testing.ts";
import { DEFAULT_PARAMS, modelRecord, scoreRows } from "../detector/model.ts";
import { latestModel, readFeatureRows, runDetection, type RunSettings } from "../detector/run.ts";
import { FALLBACK_BROWSER_JA4S, rawEvents, simulate } from "../detector/simulator.ts";

const START = new Date(Date.UTC(2026, 0, 1, 10));
const NOW = new Date(Date.UTC(2026, 0, 1, 11, 30));
const log = createLogger({ level: "error" });

const settings: RunSettings = {
  params: { ...DEFAULT_PARAMS, trees: 50 },
  trainingHours: 24,
  maxTrainingRows: 100_000,
  scoringHours: 2,
  learningHours: 0,
  allowlist: [],
  now: () => NOW,
};

Deno.test("detector: raw traffic in chDB → feature views → scores, model registry, feedback", async () => {
  const sim = simulate({
    benign: 400,
    bots: 48,
    seed: 11,
    browserJa4s: FALLBACK_BROWSER_JA4S,
    start: START,
    hours: 2,
  });
  const { http, tls } = rawEvents(sim.rows, 11);
  const storage = await openTestStorage();
  try {
    await storage.insert("http_logs", http);
    await storage.insert("tls_handshakes", tls);
    const features = await readFeatureRows(storage, START, NOW);
    assert(features.length >= 440, `feature rows: ${features.length}`);
    assert(
      features.some((f) => f.true_window_size === null),
      "IP-hours without a handshake must read as NULL, not 0",
    );

    const { model, summary, scores } = await runDetection(storage, settings, log);
    assertEquals(summary.scored_rows, features.length);
    const stored = await storage.query<{ n: string | number; critical_or_high: string | number }>(
      `SELECT count() AS n, countIf(threat_level IN ('HIGH', 'CRITICAL')) AS critical_or_high
       FROM ml_all_scores`,
    );
    assertEquals(Number(stored[0].n), features.length);

    // Bots (by IP) score higher than benign clients on average.
    const botIps = new Set(sim.rows.filter((_, i) => sim.labels[i]).map((r) => r.src_ip));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const bot = scores.filter((s) => botIps.has(s.src_ip)).map((s) => s.score);
    const benign = scores.filter((s) => !botIps.has(s.src_ip)).map((s) => s.score);
    assert(mean(bot) > mean(benign) + 0.05, `bots ${mean(bot)} vs benign ${mean(benign)}`);

    // The model is in the registry and scores exactly as the run did.
    const restored = await latestModel(storage);
    assertEquals(restored?.version, model.version);
    const again = scoreRows(restored!, features.slice(0, 50), { labels: new Map(), now: NOW });
    assertEquals(again.map((s) => s.score), scores.slice(0, 50).map((s) => s.score));

    // Repeating the run (same rows, params, seed and time) reproduces the model exactly.
    const repeat = await runDetection(storage, settings, log);
    assertEquals(modelRecord(repeat.model), modelRecord(model));

    // A capped training set is a seeded sample; every row of the scoring window is still scored.
    const capped = { ...settings, maxTrainingRows: 150 };
    const sampled = await runDetection(storage, capped, log);
    assertEquals(sampled.summary.training_rows, 150);
    assertEquals(sampled.summary.scored_rows, features.length);
    const sampledAgain = await runDetection(storage, capped, log);
    assertEquals(modelRecord(sampledAgain.model), modelRecord(sampled.model));

    // An analyst marks the highest-scoring client benign: the next run keeps it LOW.
    const top = scores.reduce((a, b) => (b.score > a.score ? b : a));
    await storage.insert("soc_classifications", [
      {
        analyst: "carol",
        target_type: "ip",
        target: top.src_ip,
        label: "benign",
        note: "our monitor",
      },
    ]);
    // A later run (scored_at decides which score view_ml_latest_scores shows).
    const later = new Date(NOW.getTime() + 60_000);
    const second = await runDetection(storage, { ...settings, now: () => later }, log);
    const mine = second.scores.filter((s) => s.src_ip === top.src_ip);
    assert(mine.length > 0);
    for (const s of mine) {
      assertEquals(s.threat_level, "LOW");
      assert(s.reasons[0].includes("confirmed benign by analyst carol"), s.reasons[0]);
    }
    const latest = await storage.query<{ threat_level: string }>(
      `SELECT threat_level FROM view_ml_latest_scores WHERE src_ip = toIPv6({ip:String})`,
      { ip: top.src_ip },
    );
    assert(latest.length > 0 && latest.every((r) => r.threat_level === "LOW"));
  } finally {
    await storage.close();
  }
});
