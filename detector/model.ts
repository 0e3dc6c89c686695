/**
 * The detector model and one scoring pass, as pure functions (no I/O): training turns feature
 * rows (+ analyst labels) into a {@link DetectorModel}; scoring turns feature rows into
 * `ml_all_scores` records with threat level, reasons, campaign and supervised probability.
 * The model is stored in `ml_models` ({@link modelRecord}) and restored from it
 * ({@link modelFromRecord}); training the same rows with the same params reproduces it exactly.
 *
 * @example
 * ```ts
 * const model = trainModel(rows, new Map(), DEFAULT_PARAMS, new Date());
 * const scored = scoreRows(model, rows, { labels: new Map() });
 * ```
 */
import { findCampaigns, NO_CAMPAIGN } from "./campaigns.ts";
import {
  type FeatureRow,
  FEATURES,
  type FeatureSpec,
  fitScaler,
  rawFeatureMap,
  type Scaler,
  toMatrix,
} from "./features.ts";
import {
  calibrateThresholds,
  type Calibration,
  labelFor,
  type LabelIndex,
  labelValue,
  suppressionReason,
} from "./feedback.ts";
import { type ForestJson, IsolationForest } from "./isolation_forest.ts";
import {
  type FirstSeenIndex,
  newCombinationReasons,
  type NewFingerprintPolicy,
} from "./new_fingerprints.ts";
import { RandomForest, type RandomForestJson } from "./supervised.ts";
import {
  checkThresholds,
  explain,
  levelRank,
  maxLevel,
  type ThreatLevel,
  threatLevel,
  type Thresholds,
} from "./threat.ts";

/** Everything that shapes a model and a scoring pass (from detector config). */
export interface DetectorParams {
  /** Isolation Forest trees. */
  trees: number;
  /** Subsample size ψ per tree. */
  sampleSize: number;
  /** PRNG seed of the forest and the supervised model. */
  seed: number;
  /** Configured level thresholds (calibration may move them, see DetectorModel.thresholds). */
  thresholds: Thresholds;
  /** Campaigns with at least this many distinct IPs escalate HIGH → CRITICAL. */
  campaignEscalateSize: number;
  /** Reasons list features with |robust z| ≥ this. */
  reasonMinZ: number;
  /** At most this many feature reasons per row. */
  reasonMax: number;
  /** Labels per class needed before thresholds are calibrated. */
  calibrationMinPerClass: number;
  /** Labelled rows (both classes ≥ calibrationMinPerClass) needed for the supervised model. */
  supervisedMinLabels: number;
}

/** Defaults tuned on the simulator (bench/detector.ts); see detector/README.md. */
export const DEFAULT_PARAMS: DetectorParams = {
  trees: 100,
  sampleSize: 256,
  seed: 1,
  thresholds: { medium: 0.53, high: 0.56, critical: 0.62 },
  campaignEscalateSize: 5,
  reasonMinZ: 3,
  reasonMax: 3,
  calibrationMinPerClass: 10,
  supervisedMinLabels: 50,
};

/** A trained detector. */
export interface DetectorModel {
  /** `if-<UTC time>-s<seed>`, the key in ml_models and model_version in ml_all_scores. */
  version: string;
  /** ClickHouse DateTime text (UTC) of the run that trained it. */
  createdAt: string;
  algorithm: "isolation_forest";
  params: DetectorParams;
  /** Feature names in model column order. */
  features: string[];
  /** Medians and robust scales learned from the training rows. */
  scaler: Scaler;
  forest: IsolationForest;
  /** Thresholds in force: the configured ones, or calibrated from labels. */
  thresholds: Thresholds;
  /** Present when analyst labels moved the thresholds. */
  calibration?: Calibration;
  /** Present when enough labels trained the supervised random forest. */
  supervised?: RandomForest;
  /** IP-hours the model was trained on. */
  trainingRows: number;
  /** Score quantiles, share at HIGH, labelled rows, calibration F1, supervised model. */
  metrics: Record<string, number | string | null>;
}

/** A row of `ml_all_scores`. */
export interface ScoreRecord {
  /** When the run scored it (UTC); the newest wins in view_ml_latest_scores. */
  scored_at: string;
  /** Client address (IPv4 shown unmapped). */
  src_ip: string;
  /** Start of the hour scored (UTC). */
  window_start: string;
  model_version: string;
  /** Isolation Forest score, 2^(−E(h)/c(ψ)): ~1 anomalous, ≤ 0.5 normal. */
  score: number;
  threat_level: ThreatLevel;
  /** Positive campaign id, or −1 when the row belongs to no campaign. */
  campaign_id: number;
  /** Why, in an analyst's words, strongest first. */
  reasons: string[];
  /** P(bot) from the supervised model, null until enough labels exist. */
  supervised_probability: number | null;
  /** Raw (untransformed) feature values; missing ones left out. */
  features: Record<string, number>;
  top_ja4: string;
  top_ua: string;
}

/** ClickHouse DateTime text (UTC) of a date. */
export function chTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace("T", " ");
}

function quantile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))];
}

/** Supervised input: the robust z-features plus the IF score. */
function supervisedMatrix(x: Float64Array, scores: Float64Array, d: number): Float64Array {
  const n = scores.length;
  const out = new Float64Array(n * (d + 1));
  for (let i = 0; i < n; i++) {
    out.set(x.subarray(i * d, i * d + d), i * (d + 1));
    out[i * (d + 1) + d] = scores[i];
  }
  return out;
}

/**
 * Trains a model on feature rows. Labels (soc_classifications) calibrate thresholds and, when
 * enough, train the supervised model. Throws RangeError when there are no rows.
 */
export function trainModel(
  rows: readonly FeatureRow[],
  labels: LabelIndex,
  params: DetectorParams,
  now: Date,
  features: readonly FeatureSpec[] = FEATURES,
): DetectorModel {
  if (rows.length === 0) {
    throw new RangeError("no feature rows to train on (is traffic reaching the feature views?)");
  }
  const problem = checkThresholds(params.thresholds);
  if (problem) throw new RangeError(problem);
  const scaler = fitScaler(rows, features);
  const d = scaler.features.length;
  const x = toMatrix(rows, scaler);
  const forest = IsolationForest.fit(x, rows.length, d, {
    trees: params.trees,
    sampleSize: params.sampleSize,
    seed: params.seed,
  });
  const scores = forest.score(x, rows.length);

  // Labelled training rows, for calibration and the supervised model.
  const labelled: number[] = [];
  const y: number[] = [];
  rows.forEach((r, i) => {
    const v = labelValue(labelFor(r, NO_CAMPAIGN, labels));
    if (v !== undefined) {
      labelled.push(i);
      y.push(v);
    }
  });
  const calibration = calibrateThresholds(
    labelled.map((i) => scores[i]),
    y,
    params.thresholds,
    params.calibrationMinPerClass,
  );
  let supervised: RandomForest | undefined;
  const positives = y.reduce((a, b) => a + b, 0);
  if (
    labelled.length >= params.supervisedMinLabels &&
    positives >= params.calibrationMinPerClass &&
    labelled.length - positives >= params.calibrationMinPerClass
  ) {
    const lx = new Float64Array(labelled.length * d);
    const ls = new Float64Array(labelled.length);
    labelled.forEach((i, k) => {
      lx.set(x.subarray(i * d, i * d + d), k * d);
      ls[k] = scores[i];
    });
    supervised = RandomForest.fit(
      supervisedMatrix(lx, ls, d),
      Uint8Array.from(y),
      labelled.length,
      d + 1,
      { seed: params.seed },
    );
  }
  const sorted = Float64Array.from(scores).sort();
  const version = `if-${now.toISOString().replace(/[-:]/g, "").slice(0, 15)}-s${params.seed}`;
  return {
    version,
    createdAt: chTime(now),
    algorithm: "isolation_forest",
    params,
    features: [...scaler.features],
    scaler,
    forest,
    thresholds: calibration?.thresholds ?? params.thresholds,
    calibration,
    supervised,
    trainingRows: rows.length,
    metrics: {
      score_p50: quantile(sorted, 0.5),
      score_p90: quantile(sorted, 0.9),
      score_p99: quantile(sorted, 0.99),
      share_high: sorted.filter((s) => s >= (calibration?.thresholds ?? params.thresholds).high)
        .length / sorted.length,
      labelled_rows: labelled.length,
      calibrated_f1: calibration?.f1 ?? null,
      supervised: supervised ? "random_forest" : null,
    },
  };
}

/** Inputs of a scoring pass besides the model and rows. */
export interface ScoreContext {
  labels: LabelIndex;
  firstSeen?: FirstSeenIndex;
  newFingerprints?: NewFingerprintPolicy;
  now?: Date;
}

/** Scores feature rows: level, reasons, campaigns, feedback, supervised probability. */
export function scoreRows(
  model: DetectorModel,
  rows: readonly FeatureRow[],
  ctx: ScoreContext,
): ScoreRecord[] {
  const n = rows.length;
  if (n === 0) return [];
  const p = model.params;
  const d = model.scaler.features.length;
  const x = toMatrix(rows, model.scaler);
  const scores = model.forest.score(x, n);
  const probability = model.supervised
    ? model.supervised.predict(supervisedMatrix(x, scores, d), n)
    : undefined;
  const scoredAt = chTime(ctx.now ?? new Date());
  const levels: ThreatLevel[] = [];
  const reasons: string[][] = [];
  const suppressed: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    let level = threatLevel(scores[i], model.thresholds);
    const why = levelRank(level) >= 1
      ? explain(row, model.scaler, FEATURES, { minZ: p.reasonMinZ, max: p.reasonMax })
      : [];
    if (ctx.firstSeen && ctx.newFingerprints) {
      const fresh = newCombinationReasons(row, ctx.firstSeen, ctx.newFingerprints);
      if (fresh.length > 0) {
        level = maxLevel(level, "MEDIUM");
        why.push(...fresh);
      }
    }
    const verdict = labelFor(row, NO_CAMPAIGN, ctx.labels);
    const isBenign = verdict?.label === "benign";
    suppressed.push(isBenign);
    levels.push(isBenign ? "LOW" : level);
    reasons.push(isBenign ? [suppressionReason(verdict)] : why);
  }

  // Campaigns among anomalous, unsuppressed rows.
  const members: number[] = [];
  for (let i = 0; i < n; i++) if (!suppressed[i] && levelRank(levels[i]) >= 1) members.push(i);
  const { ids, campaigns } = findCampaigns(members.map((i) => rows[i]));
  const campaignOf = new Array<number>(n).fill(NO_CAMPAIGN);
  members.forEach((i, k) => (campaignOf[i] = ids[k]));
  for (const c of campaigns) {
    const escalate = c.ips.length >= p.campaignEscalateSize;
    const traits = c.sharedTraits.slice(0, 2).join(", ") || "shared traits";
    for (const k of c.rows) {
      const i = members[k];
      // A campaign-level verdict applies to every member.
      const verdict = labelFor(rows[i], c.id, ctx.labels);
      if (verdict?.label === "benign") {
        levels[i] = "LOW";
        reasons[i] = [suppressionReason(verdict)];
        continue;
      }
      reasons[i].push(`campaign ${c.id}: ${c.ips.length} clients sharing ${traits}`);
      if (escalate && levels[i] === "HIGH") {
        levels[i] = "CRITICAL";
        reasons[i].push(
          `escalated to CRITICAL: campaign of ${c.ips.length} ≥ ${p.campaignEscalateSize} clients`,
        );
      }
    }
  }

  const out: ScoreRecord[] = [];
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    out.push({
      scored_at: scoredAt,
      src_ip: row.src_ip,
      window_start: String(row.window_start),
      model_version: model.version,
      score: scores[i],
      threat_level: levels[i],
      campaign_id: campaignOf[i],
      reasons: reasons[i],
      supervised_probability: probability ? probability[i] : null,
      features: rawFeatureMap(row, model.features),
      top_ja4: row.top_ja4 ?? "",
      top_ua: row.top_ua ?? "",
    });
  }
  return out;
}

/** Stored form of the model's internals (the `model` column of ml_models). */
interface ModelBlob {
  scaler: Scaler;
  forest: ForestJson;
  thresholds: Thresholds;
  supervised?: RandomForestJson;
}

/** A row of `ml_models`. */
export interface ModelRecord {
  version: string;
  created_at: string;
  algorithm: string;
  params: string;
  features: string[];
  training_rows: number;
  seed: number;
  metrics: string;
  model: string;
}

/** The `ml_models` row of a model. */
export function modelRecord(m: DetectorModel): ModelRecord {
  const blob: ModelBlob = {
    scaler: m.scaler,
    forest: m.forest.toJSON(),
    thresholds: m.thresholds,
    supervised: m.supervised?.toJSON(),
  };
  return {
    version: m.version,
    created_at: m.createdAt,
    algorithm: m.algorithm,
    params: JSON.stringify(m.params),
    features: m.features,
    training_rows: m.trainingRows,
    seed: m.params.seed,
    metrics: JSON.stringify({ ...m.metrics, calibration: m.calibration ?? null }),
    model: JSON.stringify(blob),
  };
}

/** Restores a model from its `ml_models` row; TypeError names what is malformed. */
export function modelFromRecord(r: ModelRecord): DetectorModel {
  let params: DetectorParams, blob: ModelBlob, metrics: Record<string, unknown>;
  try {
    params = JSON.parse(r.params);
    blob = JSON.parse(r.model);
    metrics = JSON.parse(r.metrics || "{}");
  } catch (err) {
    throw new TypeError(
      `ml_models ${r.version}: stored JSON is malformed: ${(err as Error).message}`,
    );
  }
  if (!blob?.scaler || !Array.isArray(blob.scaler.median)) {
    throw new TypeError(`ml_models ${r.version}: model has no scaler`);
  }
  const { calibration, ...rest } = metrics;
  return {
    version: r.version,
    createdAt: r.created_at,
    algorithm: "isolation_forest",
    params,
    features: [...r.features],
    scaler: blob.scaler,
    forest: IsolationForest.fromJSON(blob.forest),
    thresholds: blob.thresholds,
    calibration: (calibration ?? undefined) as Calibration | undefined,
    supervised: blob.supervised ? RandomForest.fromJSON(blob.supervised) : undefined,
    trainingRows: Number(r.training_rows),
    metrics: rest as Record<string, number | string | null>,
  };
}
