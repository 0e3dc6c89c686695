/**
 * The detector's HTTP API (Hono): health, Prometheus metrics, models, stored scores, on-demand
 * scoring of one feature vector, and on-demand runs. Auth is a bearer-token middleware factory;
 * `/health` stays open for probes. Every invalid request gets a 4xx JSON body
 * `{ "error": code, "message": what is wrong }`.
 *
 * @example
 * ```ts
 * const app = createApi({ token: "s3cret", state, storage, runNow });
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, app.fetch);
 * ```
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Storage } from "../lib/storage/mod.ts";
import { ApiError } from "./errors.ts";
import { FEATURE_NAMES, type FeatureRow } from "./features.ts";
import { type DetectorModel, scoreRows } from "./model.ts";
import type { RunSummary } from "./run.ts";

/** Counters and the latest state the API reports. */
export interface DetectorState {
  /** Model in use (latest run, or loaded from ml_models at start). */
  model?: DetectorModel;
  /** Summary of the last successful run. */
  lastRun?: RunSummary;
  /** Message of the last failed run, cleared by a success. */
  lastError?: string;
  /** Successful runs. */
  runs: number;
  /** Failed runs. */
  runFailures: number;
  /** IP-hours written by all runs. */
  rowsScored: number;
  /** A run is in progress. */
  running: boolean;
}

/** Dependencies of the API, passed in so that tests need no database or network. */
export interface ApiDeps {
  /** Required bearer token; empty disables auth (only allowed on loopback, see service.ts). */
  token: string;
  state: DetectorState;
  /** Storage for /models and /scores; without it those answer 503. */
  storage?: Storage;
  /** Starts a run now and resolves with its summary. */
  runNow: () => Promise<RunSummary>;
}

const constantTimeEqual = (a: string, b: string): boolean => {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
};

/**
 * Middleware factory: requires `Authorization: Bearer <token>`; an empty token lets every
 * request through. Comparison is constant-time so the token cannot be guessed byte by byte.
 */
export function bearerAuth(token: string): MiddlewareHandler {
  return async (c, next) => {
    if (token === "") return await next();
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m) {
      throw new ApiError(401, "UNAUTHORIZED", "missing 'Authorization: Bearer <token>' header");
    }
    if (!constantTimeEqual(m[1].trim(), token)) {
      throw new ApiError(401, "UNAUTHORIZED", "bearer token is not valid");
    }
    await next();
  };
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True for an IPv4 or IPv6 address in text form. */
export function isIpAddress(text: string): boolean {
  if (IPV4.test(text)) return true;
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false; // not an address; the caller answers 400 with the reason
  }
}

/** Validates a POST /score body into a feature row; ApiError 400 says what is wrong. */
export function parseScoreBody(body: unknown): FeatureRow {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ApiError(400, "BAD_BODY", 'body must be a JSON object: {"features": {...}}');
  }
  const b = body as Record<string, unknown>;
  const f = b.features;
  if (f === null || typeof f !== "object" || Array.isArray(f)) {
    throw new ApiError(
      400,
      "BAD_FEATURES",
      `"features" must be an object of feature name → number; known names: ${
        FEATURE_NAMES.join(", ")
      }`,
    );
  }
  const unknown = Object.keys(f).filter((k) => !FEATURE_NAMES.includes(k));
  if (unknown.length > 0) {
    throw new ApiError(
      400,
      "UNKNOWN_FEATURE",
      `unknown feature(s): ${unknown.join(", ")}; known names: ${FEATURE_NAMES.join(", ")}`,
    );
  }
  const row: FeatureRow = { src_ip: "", window_start: "" };
  for (const [k, v] of Object.entries(f as Record<string, unknown>)) {
    if (v !== null && (typeof v !== "number" || !Number.isFinite(v))) {
      throw new ApiError(
        400,
        "BAD_FEATURE_VALUE",
        `feature ${k} must be a finite number or null (null = unknown, imputed), got ${
          JSON.stringify(v)
        }`,
      );
    }
    row[k] = v;
  }
  for (const k of ["src_ip", "top_ja4", "top_ja4h", "top_ua", "window_start"] as const) {
    if (b[k] === undefined) continue;
    if (typeof b[k] !== "string") throw new ApiError(400, "BAD_FIELD", `${k} must be a string`);
    row[k] = b[k] as string;
  }
  if (row.src_ip !== "" && !isIpAddress(row.src_ip)) {
    throw new ApiError(400, "BAD_IP", `src_ip '${row.src_ip}' is not an IPv4 or IPv6 address`);
  }
  return row;
}

function intParam(raw: string | undefined, name: string, def: number, max: number): number {
  if (raw === undefined || raw === "") return def;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new ApiError(
      400,
      "BAD_PARAM",
      `${name} must be an integer from 1 to ${max}, got '${raw}'`,
    );
  }
  return Number(raw);
}

function needStorage(storage: Storage | undefined): Storage {
  if (!storage) throw new ApiError(503, "NO_STORAGE", "storage is not available to this API");
  return storage;
}

/** Prometheus text exposition of the state. */
export function metricsText(s: DetectorState): string {
  const lines = [
    "# HELP ja4_detector_runs_total Detection runs completed.",
    "# TYPE ja4_detector_runs_total counter",
    `ja4_detector_runs_total ${s.runs}`,
    "# HELP ja4_detector_run_failures_total Detection runs that failed.",
    "# TYPE ja4_detector_run_failures_total counter",
    `ja4_detector_run_failures_total ${s.runFailures}`,
    "# HELP ja4_detector_rows_scored_total IP-hours written to ml_all_scores.",
    "# TYPE ja4_detector_rows_scored_total counter",
    `ja4_detector_rows_scored_total ${s.rowsScored}`,
    "# HELP ja4_detector_running 1 while a run is in progress.",
    "# TYPE ja4_detector_running gauge",
    `ja4_detector_running ${s.running ? 1 : 0}`,
  ];
  if (s.lastRun) {
    lines.push(
      "# HELP ja4_detector_last_run_duration_seconds Duration of the last successful run.",
      "# TYPE ja4_detector_last_run_duration_seconds gauge",
      `ja4_detector_last_run_duration_seconds ${s.lastRun.duration_ms / 1000}`,
      "# HELP ja4_detector_last_run_clients Clients per threat level in the last run.",
      "# TYPE ja4_detector_last_run_clients gauge",
      ...Object.entries(s.lastRun.by_level).map(([level, n]) =>
        `ja4_detector_last_run_clients{level="${level}"} ${n}`
      ),
      "# HELP ja4_detector_last_run_campaigns Campaigns found in the last run.",
      "# TYPE ja4_detector_last_run_campaigns gauge",
      `ja4_detector_last_run_campaigns ${s.lastRun.campaigns}`,
    );
  }
  if (s.model) {
    lines.push(
      "# HELP ja4_detector_model_info The model in use.",
      "# TYPE ja4_detector_model_info gauge",
      `ja4_detector_model_info{version="${s.model.version}",training_rows="${s.model.trainingRows}"} 1`,
    );
  }
  return lines.join("\n") + "\n";
}

/** Builds the API application. */
export function createApi(deps: ApiDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      return c.json({ error: err.code, message: err.message }, err.status);
    }
    return c.json({ error: "INTERNAL", message: err.message }, 500);
  });
  app.notFound((c) =>
    c.json({
      error: "NOT_FOUND",
      message:
        `no route ${c.req.method} ${c.req.path}; routes: GET /health, /metrics, /models, /scores?ip=…, POST /score, /run`,
    }, 404)
  );

  app.get("/health", async (c) => {
    const storageOk = deps.storage ? await deps.storage.ping().catch(() => false) : null;
    return c.json({
      status: storageOk === false ? "degraded" : "ok",
      storage: storageOk,
      model: deps.state.model?.version ?? null,
      last_run: deps.state.lastRun ?? null,
      last_error: deps.state.lastError ?? null,
      running: deps.state.running,
    });
  });

  app.use("*", bearerAuth(deps.token));

  app.get("/metrics", (c) => {
    c.header("content-type", "text/plain; version=0.0.4; charset=utf-8");
    return c.body(metricsText(deps.state));
  });

  app.get("/models", async (c) => {
    const limit = intParam(c.req.query("limit"), "limit", 20, 1000);
    const rows = await needStorage(deps.storage).query(
      `SELECT version, toString(created_at) AS created_at, algorithm, params, features,
              training_rows, seed, metrics
       FROM ml_models ORDER BY created_at DESC, version DESC LIMIT {limit:UInt32}`,
      { limit },
    );
    return c.json({
      current: deps.state.model?.version ?? null,
      models: rows.map((r) => ({
        ...r,
        params: JSON.parse(String(r.params)),
        metrics: JSON.parse(String(r.metrics || "{}")),
      })),
    });
  });

  app.get("/scores", async (c) => {
    const ip = c.req.query("ip");
    if (!ip) {
      throw new ApiError(400, "MISSING_IP", "query parameter ip is required: /scores?ip=192.0.2.1");
    }
    if (!isIpAddress(ip)) {
      throw new ApiError(400, "BAD_IP", `ip '${ip}' is not an IPv4 or IPv6 address`);
    }
    const limit = intParam(c.req.query("limit"), "limit", 100, 10_000);
    const rows = await needStorage(deps.storage).query(
      `SELECT toString(scored_at) AS scored_at, {ip:String} AS src_ip,
              toString(window_start) AS window_start, model_version, score, threat_level,
              campaign_id, reasons, supervised_probability, features, top_ja4, top_ua
       FROM ml_all_scores WHERE src_ip = toIPv6({ip:String})
       ORDER BY scored_at DESC, window_start DESC LIMIT {limit:UInt32}`,
      { ip, limit },
    );
    return c.json({ ip, scores: rows });
  });

  app.post("/score", async (c) => {
    const model = deps.state.model;
    if (!model) {
      throw new ApiError(
        503,
        "NO_MODEL",
        "no model trained yet: POST /run or wait for the first run",
      );
    }
    if (!(c.req.header("content-type") ?? "").includes("application/json")) {
      throw new ApiError(
        415,
        "BAD_CONTENT_TYPE",
        "send the body as Content-Type: application/json",
      );
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch (err) {
      throw new ApiError(400, "BAD_JSON", `body is not valid JSON: ${(err as Error).message}`);
    }
    const row = parseScoreBody(body);
    const [s] = scoreRows(model, [row], { labels: new Map() });
    return c.json({
      model_version: s.model_version,
      score: s.score,
      threat_level: s.threat_level,
      reasons: s.reasons,
      supervised_probability: s.supervised_probability,
    });
  });

  app.post("/run", async (c) => {
    if (deps.state.running) {
      throw new ApiError(
        409,
        "RUN_IN_PROGRESS",
        "a detection run is already in progress; retry later",
      );
    }
    const summary = await deps.runNow();
    return c.json(summary);
  });

  return app;
}
