/**
 * The detector service over real HTTP on 127.0.0.1 (any free port) with embedded chDB:
 * POST /run trains and scores, /scores returns the stored rows, /models lists the model,
 * POST /score scores a vector, and stop() closes the server.
 */
import { assert, assertEquals } from "../lib/testing.ts";
import { loadConfig } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { openTestStorage } from "../lib/storage/testing.ts";
import { DETECTOR_CONFIG_KEYS } from "../detector/config.ts";
import { DEFAULT_PARAMS } from "../detector/model.ts";
import { startDetector } from "../detector/service.ts";
import { FALLBACK_BROWSER_JA4S, rawEvents, simulate } from "../detector/simulator.ts";

Deno.test("detector service: POST /run, GET /scores and /models, POST /score over HTTP", async () => {
  const start = new Date(Date.UTC(2026, 0, 1, 10));
  const sim = simulate({
    benign: 200,
    bots: 24,
    seed: 4,
    browserJa4s: FALLBACK_BROWSER_JA4S,
    start,
    hours: 1,
  });
  const { http, tls } = rawEvents(sim.rows, 4);
  const storage = await openTestStorage();
  const config = loadConfig(DETECTOR_CONFIG_KEYS, {
    flags: { "detector.port": 0, "detector.token": "tok" },
  });
  const svc = await startDetector({
    config,
    log: createLogger({ level: "error" }),
    storage,
    schedule: false,
    settings: {
      params: { ...DEFAULT_PARAMS, trees: 30 },
      trainingHours: 24,
      maxTrainingRows: 100_000,
      scoringHours: 2,
      learningHours: 0,
      allowlist: [],
      now: () => new Date(Date.UTC(2026, 0, 1, 10, 50)),
    },
  });
  const auth = { authorization: "Bearer tok" };
  try {
    await storage.insert("http_logs", http);
    await storage.insert("tls_handshakes", tls);
    assert(svc.url.startsWith("http://127.0.0.1:"), svc.url);

    const run = await fetch(`${svc.url}/run`, { method: "POST", headers: auth });
    const summary = await run.json();
    assertEquals(run.status, 200, JSON.stringify(summary));
    assert(summary.scored_rows >= 200, `scored ${summary.scored_rows}`);

    const ip = sim.rows[0].src_ip;
    const scores = await fetch(`${svc.url}/scores?ip=${ip}`, { headers: auth });
    const body = await scores.json();
    assertEquals(scores.status, 200);
    assert(body.scores.length >= 1, `no stored score for ${ip}`);
    assertEquals(body.scores[0].model_version, summary.model_version);

    const models = await (await fetch(`${svc.url}/models`, { headers: auth })).json();
    assertEquals(models.current, summary.model_version);
    assertEquals(models.models[0].version, summary.model_version);

    const scored = await fetch(`${svc.url}/score`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ features: { login_post_concentration: 1, error_ratio: 0.9 } }),
    });
    assertEquals(scored.status, 200);
    assert((await scored.json()).score > 0);

    const metrics = await (await fetch(`${svc.url}/metrics`, { headers: auth })).text();
    assert(metrics.includes("ja4_detector_runs_total 1"), metrics);
  } finally {
    await svc.stop();
    await storage.close();
  }
});
