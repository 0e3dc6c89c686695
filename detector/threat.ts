/**
 * From an anomaly score to what an analyst reads: a threat level and reasons.
 *
 * Levels compare the Isolation Forest score with three ascending thresholds (configurable,
 * possibly calibrated from analyst labels, see feedback.ts). Reasons name the features that
 * lie furthest from the training median in robust z-units (features.ts), with the client's
 * value and the usual value in the feature's own unit.
 *
 * @example
 * ```ts
 * threatLevel(0.71, { medium: 0.55, high: 0.62, critical: 0.7 }); // "CRITICAL"
 * explain(row, scaler, FEATURES, { minZ: 3, max: 3 }); // ["request rate 240/min, usually 1.2/min …"]
 * ```
 */
import { type FeatureRow, type FeatureSpec, type Scaler, toNumber, zValue } from "./features.ts";

export type ThreatLevel = "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
export const THREAT_LEVELS: readonly ThreatLevel[] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];

/** Score thresholds; a score ≥ a threshold reaches that level. */
export interface Thresholds {
  medium: number;
  high: number;
  critical: number;
}

/** Checks medium < high < critical within (0, 1); returns what is wrong or undefined. */
export function checkThresholds(t: Thresholds): string | undefined {
  for (const k of ["medium", "high", "critical"] as const) {
    if (!(t[k] > 0 && t[k] < 1)) return `threshold ${k} = ${t[k]} must be between 0 and 1`;
  }
  if (!(t.medium < t.high && t.high < t.critical)) {
    return `thresholds must ascend: medium ${t.medium} < high ${t.high} < critical ${t.critical}`;
  }
  return undefined;
}

/** The level a score reaches. */
export function threatLevel(score: number, t: Thresholds): ThreatLevel {
  if (score >= t.critical) return "CRITICAL";
  if (score >= t.high) return "HIGH";
  if (score >= t.medium) return "MEDIUM";
  return "LOW";
}

/** Orders levels: LOW 0 … CRITICAL 3. */
export function levelRank(level: ThreatLevel): number {
  return THREAT_LEVELS.indexOf(level);
}

/** The higher of two levels. */
export function maxLevel(a: ThreatLevel, b: ThreatLevel): ThreatLevel {
  return levelRank(a) >= levelRank(b) ? a : b;
}

function fmt(spec: FeatureSpec, v: number): string {
  if (spec.ratio) return `${(v * 100).toFixed(v > 0 && v < 0.01 ? 1 : 0)}%`;
  const abs = Math.abs(v);
  const text = abs >= 100 || Number.isInteger(v)
    ? v.toFixed(0)
    : abs >= 1
    ? v.toFixed(1)
    : v.toFixed(2);
  return text + (spec.unit ?? "");
}

/** The usual (median) value of feature `j` in the feature's own unit. */
function usual(scaler: Scaler, j: number): number {
  const m = scaler.median[j];
  return scaler.transforms[j] === "log1p" ? Math.expm1(m) : m;
}

/** One feature's contribution to an explanation. */
export interface Deviation {
  feature: string;
  z: number;
  value: number;
  usual: number;
  text: string;
}

/**
 * The features of a row that deviate most from the training median, strongest first, limited
 * to |z| ≥ minZ and at most `max` of them, each with a sentence for the analyst.
 */
export function deviations(
  row: FeatureRow,
  scaler: Scaler,
  specs: readonly FeatureSpec[],
  opts: { minZ: number; max: number },
): Deviation[] {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out: Deviation[] = [];
  for (let j = 0; j < scaler.features.length; j++) {
    const name = scaler.features[j];
    const spec = byName.get(name) ?? { name, label: name, transform: scaler.transforms[j] };
    const value = toNumber(row[name]);
    if (!Number.isFinite(value)) continue;
    const z = zValue(scaler, j, value);
    if (Math.abs(z) < opts.minZ) continue;
    const u = usual(scaler, j);
    const dir = z > 0 ? "above" : "below";
    out.push({
      feature: name,
      z,
      value,
      usual: u,
      text: `${spec.label} ${fmt(spec, value)}, usually ${fmt(spec, u)} (far ${dir}: ${
        Math.abs(z).toFixed(1)
      } robust z)`,
    });
  }
  out.sort((a, b) => Math.abs(b.z) - Math.abs(a.z));
  return out.slice(0, opts.max);
}

/** Reason sentences for a row; a fallback sentence when no single feature stands out. */
export function explain(
  row: FeatureRow,
  scaler: Scaler,
  specs: readonly FeatureSpec[],
  opts: { minZ: number; max: number },
): string[] {
  const devs = deviations(row, scaler, specs, opts);
  if (devs.length > 0) return devs.map((d) => d.text);
  return ["unusual combination of several features (no single one stands out)"];
}
