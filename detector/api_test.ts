import { assert, assertEquals } from "../lib/testing.ts";
import type { Storage } from "../lib/storage/mod.ts";
import { createApi, type DetectorState, isIpAddress, metricsText } from "./api.ts";
import { DEFAULT_PARAMS, trainModel } from "./model.ts";
import type { RunSummary } from "./run.ts";
import { FALLBACK_BROWSER_JA4S, simulate } from "./simulator.ts";

const sim = simulate({ benign: 1500, bots: 60, seed: 3, browserJa4s: FALLBACK_BROWSER_JA4S });
const model = trainModel(
  sim.rows,
  new Map(),
  { ...DEFAULT_PARAMS, trees: 40 },
  new Date(Date.UTC(2026, 0, 2)),
);
const TOKEN = "test-token";

const SUMMARY: RunSummary = {
  model_version: model.version,
  started_at: "2026-01-02 00:00:00",
  duration_ms: 5,
  training_rows: 10,
  scored_rows: 4,
  by_level: { LOW: 1, MEDIUM: 1, HIGH: 1, CRITICAL: 1 },
  campaigns: 1,
  calibrated: false,
  supervised: false,
};

/** A storage double that records queries and answers from a table of canned rows. */
function fakeStorage(): Storage & { queries: { sql: string; params?: Record<string, unknown> }[] } {
  const queries: { sql: string; params?: Record<string, unknown> }[] = [];
  return {
    kind: "embedded",
    database: "ja4_processing",
    queries,
    query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
      queries.push({ sql, params });
      if (sql.includes("FROM ml_models")) {
        return Promise.resolve([{ version: "v1", params: '{"seed":1}', metrics: "{}" }] as T[]);
      }
      return Promise.resolve([{ src_ip: String(params?.ip), score: 0.7 }] as T[]);
    },
    command: () => Promise.resolve(),
    insert: () => Promise.resolve(),
    ping: () => Promise.resolve(true),
    close: () => Promise.resolve(),
  };
}

function setup(state: Partial<DetectorState> = {}) {
  const st: DetectorState = {
    runs: 0,
    runFailures: 0,
    rowsScored: 0,
    running: false,
    model,
    ...state,
  };
  const storage = fakeStorage();
  let runs = 0;
  const app = createApi({
    token: TOKEN,
    state: st,
    storage,
    runNow: () => {
      runs++;
      return Promise.resolve(SUMMARY);
    },
  });
  const call = (path: string, init: RequestInit = {}, auth = true) =>
    app.request(path, {
      ...init,
      headers: { ...(auth ? { authorization: `Bearer ${TOKEN}` } : {}), ...(init.headers ?? {}) },
    });
  return { app, call, storage, runs: () => runs, state: st };
}

const postJson = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

Deno.test("/health is open; everything else needs the bearer token", async () => {
  const { call } = setup();
  const health = await call("/health", {}, false);
  assertEquals(health.status, 200);
  assertEquals((await health.json()).model, model.version);
  const noAuth = await call("/metrics", {}, false);
  assertEquals(noAuth.status, 401);
  assert((await noAuth.json()).message.includes("Authorization: Bearer"));
  const wrong = await call("/metrics", { headers: { authorization: "Bearer nope" } }, false);
  assertEquals(wrong.status, 401);
  assertEquals((await call("/metrics")).status, 200);
});

Deno.test("POST /score returns score, level and reasons for a feature vector", async () => {
  const { call } = setup();
  const res = await call(
    "/score",
    postJson({
      features: { request_rate_per_min: 400, login_post_concentration: 1, error_ratio: 0.9 },
    }),
  );
  assertEquals(res.status, 200);
  const body = await res.json();
  assert(body.score > 0 && body.score < 1);
  assert(["MEDIUM", "HIGH", "CRITICAL"].includes(body.threat_level), body.threat_level);
  assert(
    body.reasons.some((r: string) => r.startsWith("request rate 400/min")),
    body.reasons.join(),
  );
  assertEquals(body.model_version, model.version);
});

Deno.test("POST /score rejects bad input with a 4xx that says what is wrong", async () => {
  const { call } = setup();
  const cases: [RequestInit, number, string][] = [
    [postJson("{not json"), 400, "not valid JSON"],
    [postJson([1, 2]), 400, "JSON object"],
    [postJson({ features: 3 }), 400, "feature name → number"],
    [postJson({ features: { bogus: 1 } }), 400, "unknown feature(s): bogus"],
    [postJson({ features: { error_ratio: "high" } }), 400, "error_ratio must be a finite number"],
    [postJson({ features: {}, src_ip: "999.1.1.1" }), 400, "not an IPv4 or IPv6"],
    [
      { method: "POST", body: "{}", headers: { "content-type": "text/plain" } },
      415,
      "application/json",
    ],
  ];
  for (const [init, status, text] of cases) {
    const res = await call("/score", init);
    const body = await res.json();
    assertEquals(
      res.status,
      status,
      `${JSON.stringify(init.body)} → ${res.status} ${body.message}`,
    );
    assert(body.message.includes(text), `message '${body.message}' should mention '${text}'`);
  }
});

Deno.test("POST /score without a model is 503 with a hint", async () => {
  const { call } = setup({ model: undefined });
  const res = await call("/score", postJson({ features: {} }));
  assertEquals(res.status, 503);
  assert((await res.json()).message.includes("POST /run"));
});

Deno.test("GET /scores validates ip and limit, and queries with parameters", async () => {
  const { call, storage } = setup();
  assertEquals((await call("/scores")).status, 400);
  const bad = await call("/scores?ip=not-an-ip");
  assertEquals(bad.status, 400);
  assert((await bad.json()).message.includes("not-an-ip"));
  assertEquals((await call("/scores?ip=192.0.2.1&limit=0")).status, 400);
  const ok = await call("/scores?ip=2001:db8::1&limit=5");
  assertEquals(ok.status, 200);
  assertEquals((await ok.json()).ip, "2001:db8::1");
  const q = storage.queries.at(-1)!;
  assertEquals(q.params, { ip: "2001:db8::1", limit: 5 });
  assert(!q.sql.includes("2001:db8::1"), "the IP must be a parameter, never SQL text");
});

Deno.test("GET /models, POST /run, 409 while running, /metrics text, unknown route 404", async () => {
  const { call, runs } = setup();
  const models = await (await call("/models")).json();
  assertEquals(models.models[0].params, { seed: 1 });
  const run = await call("/run", { method: "POST" });
  assertEquals(run.status, 200);
  assertEquals((await run.json()).scored_rows, 4);
  assertEquals(runs(), 1);
  const busy = setup({ running: true });
  assertEquals((await busy.call("/run", { method: "POST" })).status, 409);
  const text = metricsText({
    runs: 2,
    runFailures: 1,
    rowsScored: 9,
    running: false,
    lastRun: SUMMARY,
    model,
  });
  assert(text.includes("ja4_detector_runs_total 2"));
  assert(text.includes('ja4_detector_last_run_clients{level="CRITICAL"} 1'));
  const missing = await call("/nope");
  assertEquals(missing.status, 404);
  assert((await missing.json()).message.includes("/scores?ip="));
});

Deno.test("isIpAddress accepts IPv4/IPv6 and rejects the rest", () => {
  for (const ok of ["192.0.2.1", "::1", "2001:db8::1", "::ffff:192.0.2.1"]) {
    assert(isIpAddress(ok), ok);
  }
  for (const bad of ["", "1.2.3", "256.1.1.1", "abc", "1.2.3.4; DROP", "::g"]) {
    assert(!isIpAddress(bad), bad);
  }
});
