/**
 * One detection run against storage (the I/O shell around model.ts): read the feature views,
 * analyst labels and fingerprint history, train, score the latest hours, write `ml_models` and
 * `ml_all_scores`.
 *
 * @example
 * ```ts
 * const { model, summary } = await runDetection(storage, settings, log);
 * ```
 */
import type { Logger } from "../lib/log.ts";
import type { Storage } from "../lib/storage/mod.ts";
import { DetectorError } from "./errors.ts";
import { type FeatureRow, FEATURES } from "./features.ts";
import { type Classification, latestLabels } from "./feedback.ts";
import {
  chTime,
  type DetectorModel,
  type DetectorParams,
  modelFromRecord,
  type ModelRecord,
  modelRecord,
  type ScoreRecord,
  scoreRows,
  trainModel,
} from "./model.ts";
import { type ComboFirstSeen, firstSeenIndex } from "./new_fingerprints.ts";
import type { ThreatLevel } from "./threat.ts";

/** What a run needs besides storage. */
export interface RunSettings {
  params: DetectorParams;
  trainingHours: number;
  /** Cap on training rows (a seeded sample beyond it). */
  maxTrainingRows: number;
  scoringHours: number;
  learningHours: number;
  allowlist: readonly string[];
  /** Clock, for tests. */
  now?: () => Date;
}

/** What a run did, for logs, /metrics and POST /run. */
export interface RunSummary {
  /** Model trained by the run. */
  model_version: string;
  /** The run's clock (UTC). */
  started_at: string;
  duration_ms: number;
  /** IP-hours trained on. */
  training_rows: number;
  /** IP-hours written to ml_all_scores. */
  scored_rows: number;
  /** Scored IP-hours per threat level. */
  by_level: Record<ThreatLevel, number>;
  /** Distinct campaigns among the scored rows. */
  campaigns: number;
  /** Thresholds were calibrated from analyst labels. */
  calibrated: boolean;
  /** A supervised probability was added. */
  supervised: boolean;
}

const THESIS_COLUMNS = [
  "true_window_size",
  "window_mss_ratio",
  "ip_ttl",
  "tcp_window_scale",
  "tls_version",
  "cipher_count",
  "extension_count",
  "alpn_h2_share",
];

/**
 * The feature rows of [from, to): view_ai_features_1h LEFT JOIN view_thesis_features_1h.
 * join_use_nulls makes an IP-hour without a handshake NULL (imputed later), not 0. IPv4
 * clients are stored as IPv4-mapped IPv6 and shown in their IPv4 form.
 */
export const FEATURE_SQL = `
SELECT if(startsWith(toString(a.src_ip), '::ffff:') AND position(toString(a.src_ip), '.') > 0,
          substring(toString(a.src_ip), 8), toString(a.src_ip)) AS src_ip, toString(a.window_start) AS window_start,
       a.top_ja4 AS top_ja4, a.top_ja4h AS top_ja4h, a.top_ua AS top_ua,
       ${
  FEATURES.filter((f) => !THESIS_COLUMNS.includes(f.name)).map((f) => `a.${f.name} AS ${f.name}`)
    .join(", ")
},
       ${THESIS_COLUMNS.map((c) => `t.${c} AS ${c}`).join(", ")}
FROM view_ai_features_1h AS a
LEFT JOIN view_thesis_features_1h AS t
  ON t.src_ip = a.src_ip AND t.window_start = a.window_start
WHERE a.window_start >= {from:DateTime} AND a.window_start < {to:DateTime}
ORDER BY src_ip, window_start
SETTINGS join_use_nulls = 1`;

/**
 * The same rows, at most {limit} of them, chosen by a seeded hash of (IP, hour): a
 * deterministic sample, so a run stays repeatable from its seed, and a busy site's week of
 * IP-hours does not have to fit in memory (the forest only ever looks at ψ × trees rows).
 */
export const FEATURE_SAMPLE_SQL = FEATURE_SQL.replace(
  "ORDER BY src_ip, window_start",
  "ORDER BY cityHash64(src_ip, window_start, {seed:UInt64}), src_ip, window_start\n" +
    "LIMIT {limit:UInt64}",
);

const LABELS_SQL = `
SELECT toString(id) AS id, toString(created_at) AS created_at, analyst, target_type, target, label
FROM soc_classifications`;

const FIRST_SEEN_SQL = `
SELECT 'ja4+ja4h' AS kind, concat(top_ja4, '|', top_ja4h) AS value,
       toString(min(window_start)) AS first_seen
FROM view_ai_features_1h WHERE top_ja4 != '' AND top_ja4h != '' GROUP BY value
UNION ALL
SELECT 'ja4+ua' AS kind, concat(top_ja4, '|', top_ua) AS value,
       toString(min(window_start)) AS first_seen
FROM view_ai_features_1h WHERE top_ja4 != '' AND top_ua != '' GROUP BY value`;

const SITE_FIRST_SQL =
  `SELECT toString(min(window_start)) AS first, count() AS n FROM view_ai_features_1h`;

function hourFloor(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 3_600_000) * 3_600_000);
}

async function read<T>(
  storage: Storage,
  what: string,
  sql: string,
  params?: Record<string, unknown>,
) {
  try {
    return await storage.query<T>(sql, params);
  } catch (err) {
    throw new DetectorError(
      "READ_FAILED",
      `detector could not read ${what}: ${
        (err as Error).message
      } (are the migrations applied? 'ja4 migrate --status')`,
      { cause: err },
    );
  }
}

/**
 * Feature rows with window_start in [from, to), ordered by IP and hour; with `sample`, at most
 * `sample.limit` rows picked deterministically from `sample.seed`.
 */
export function readFeatureRows(
  storage: Storage,
  from: Date,
  to: Date,
  sample?: { limit: number; seed: number },
): Promise<FeatureRow[]> {
  const range = { from: chTime(from), to: chTime(to) };
  return sample
    ? read<FeatureRow>(storage, "the feature views", FEATURE_SAMPLE_SQL, { ...range, ...sample })
    : read<FeatureRow>(storage, "the feature views", FEATURE_SQL, range);
}

/** Trains on the last `trainingHours`, scores the last `scoringHours`, writes both tables. */
export async function runDetection(
  storage: Storage,
  settings: RunSettings,
  log: Logger,
): Promise<{ model: DetectorModel; summary: RunSummary; scores: ScoreRecord[] }> {
  const started = performance.now();
  const now = (settings.now ?? (() => new Date()))();
  const end = new Date(hourFloor(now).getTime() + 3_600_000); // include the current hour
  const trainFrom = new Date(end.getTime() - settings.trainingHours * 3_600_000);
  const scoreFrom = new Date(end.getTime() - settings.scoringHours * 3_600_000);

  const training = await readFeatureRows(storage, trainFrom, end, {
    limit: settings.maxTrainingRows,
    seed: settings.params.seed,
  });
  if (training.length === 0) {
    throw new DetectorError(
      "NO_DATA",
      `no feature rows between ${chTime(trainFrom)} and ${chTime(end)} UTC: nothing to train on ` +
        "(is the correlator writing http_logs/tls_handshakes?)",
    );
  }
  const labels = latestLabels(
    await read<Classification>(storage, "soc_classifications", LABELS_SQL),
  );
  const model = trainModel(training, labels, settings.params, now);
  const since = chTime(scoreFrom);
  // Every row of the scoring window is scored, sampled into training or not.
  const toScore = await readFeatureRows(storage, scoreFrom, end);
  const firstSeen = firstSeenIndex(
    await read<ComboFirstSeen>(storage, "fingerprint history", FIRST_SEEN_SQL),
  );
  const [site] = await read<{ first: string; n: number | string }>(
    storage,
    "fingerprint history",
    SITE_FIRST_SQL,
  );
  const scores = scoreRows(model, toScore, {
    labels,
    firstSeen,
    newFingerprints: {
      siteFirstSeen: site && Number(site.n) > 0 ? site.first : undefined,
      learningHours: settings.learningHours,
      since,
      allowlist: settings.allowlist,
    },
    now,
  });
  try {
    await storage.insert("ml_models", [modelRecord(model) as unknown as Record<string, unknown>]);
    if (scores.length > 0) {
      await storage.insert("ml_all_scores", scores as unknown as Record<string, unknown>[]);
    }
  } catch (err) {
    throw new DetectorError(
      "WRITE_FAILED",
      `detector could not write ml_models/ml_all_scores: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const byLevel: Record<ThreatLevel, number> = { LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 };
  for (const s of scores) byLevel[s.threat_level]++;
  const summary: RunSummary = {
    model_version: model.version,
    started_at: chTime(now),
    duration_ms: Math.round(performance.now() - started),
    training_rows: training.length,
    scored_rows: scores.length,
    by_level: byLevel,
    campaigns: new Set(scores.filter((s) => s.campaign_id > 0).map((s) => s.campaign_id)).size,
    calibrated: model.calibration !== undefined,
    supervised: model.supervised !== undefined,
  };
  log.info("detection run done", { ...summary });
  return { model, summary, scores };
}

/** The most recent model in ml_models, or undefined when none is stored. */
export async function latestModel(storage: Storage): Promise<DetectorModel | undefined> {
  const rows = await read<ModelRecord>(
    storage,
    "ml_models",
    `SELECT version, toString(created_at) AS created_at, algorithm, params, features,
            training_rows, seed, metrics, model
     FROM ml_models ORDER BY created_at DESC, version DESC LIMIT 1`,
  );
  if (rows.length === 0) return undefined;
  try {
    return modelFromRecord(rows[0]);
  } catch (err) {
    throw new DetectorError(
      "BAD_MODEL",
      `stored model ${rows[0].version} cannot be loaded: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
