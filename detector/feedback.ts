/**
 * Analyst feedback from `soc_classifications` (append-only; the latest row per target wins).
 *
 * - **Suppression**: a row whose IP, JA4, fingerprint combination or campaign an analyst marked
 *   `benign` is kept at LOW, with the analyst's verdict as its reason.
 * - **Calibration**: once labels cover both classes (≥ `minPerClass` each), the HIGH threshold
 *   moves to the score that best separates labelled bots from labelled benign clients (max F1);
 *   MEDIUM and CRITICAL keep their distance from HIGH.
 * - **Training labels** for the supervised model (supervised.ts): `bot` and `malicious` are 1,
 *   `benign` is 0, `unknown` is left out.
 *
 * Targets: `ip` (the address), `ja4` (the JA4), `ja4_combo` (`JA4|JA4H`, `JA4|User-Agent` or
 * `JA4|JA4S`, joined by `|`), `campaign` (the campaign id in decimal).
 *
 * @example
 * ```ts
 * const labels = latestLabels(rowsFromSocClassifications);
 * labelFor({ src_ip: "192.0.2.1", top_ja4: "t13d…" }, -1, labels); // { label: "benign", … }
 * ```
 */
import type { Thresholds } from "./threat.ts";

export type Label = "benign" | "bot" | "malicious" | "unknown";
export type TargetType = "ip" | "ja4" | "ja4_combo" | "campaign";

/** One row of soc_classifications. */
export interface Classification {
  id?: string | number;
  created_at: string;
  analyst: string;
  target_type: TargetType;
  target: string;
  label: Label;
  note?: string;
}

/** The verdicts in force: target type + target → latest classification. */
export type LabelIndex = Map<string, Classification>;

const key = (type: string, target: string) => `${type}\u0000${target}`;

/** Keeps the latest classification per target (by created_at, then id). */
export function latestLabels(rows: readonly Classification[]): LabelIndex {
  const out: LabelIndex = new Map();
  for (const r of rows) {
    const k = key(r.target_type, r.target);
    const prev = out.get(k);
    if (
      !prev || r.created_at > prev.created_at ||
      (r.created_at === prev.created_at && String(r.id ?? "") > String(prev.id ?? ""))
    ) out.set(k, r);
  }
  return out;
}

/** What feedback looks at in a scored row. */
export interface FeedbackSubject {
  src_ip: string;
  top_ja4?: string | null;
  top_ja4h?: string | null;
  top_ua?: string | null;
  top_ja4s?: string | null;
}

/**
 * The verdict that applies to a row: the most specific target first (IP, then fingerprint
 * combination, then campaign, then JA4 alone), ignoring `unknown`.
 */
export function labelFor(
  row: FeedbackSubject,
  campaignId: number,
  labels: LabelIndex,
): Classification | undefined {
  const candidates: [TargetType, string | null | undefined][] = [["ip", row.src_ip]];
  if (row.top_ja4) {
    for (const other of [row.top_ja4h, row.top_ua, row.top_ja4s]) {
      if (other) candidates.push(["ja4_combo", `${row.top_ja4}|${other}`]);
    }
  }
  if (campaignId > 0) candidates.push(["campaign", String(campaignId)]);
  candidates.push(["ja4", row.top_ja4]);
  for (const [type, target] of candidates) {
    if (!target) continue;
    const c = labels.get(key(type, target));
    if (c && c.label !== "unknown") return c;
  }
  return undefined;
}

/** 1 for bot/malicious, 0 for benign, undefined otherwise. */
export function labelValue(c: Classification | undefined): 0 | 1 | undefined {
  if (!c) return undefined;
  if (c.label === "benign") return 0;
  if (c.label === "bot" || c.label === "malicious") return 1;
  return undefined;
}

/** The reason text of a suppressed row. */
export function suppressionReason(c: Classification): string {
  return `confirmed benign by analyst ${c.analyst} (${c.target_type} ${c.target}, ${c.created_at})`;
}

/** Result of {@link calibrateThresholds}. */
export interface Calibration {
  thresholds: Thresholds;
  f1: number;
  positives: number;
  negatives: number;
}

/**
 * Moves HIGH to the score cut with the best F1 on labelled rows (bot = 1), keeping the
 * configured gaps to MEDIUM and CRITICAL (clamped into (0, 1)). Undefined when either class
 * has fewer than `minPerClass` labels: too few to trust.
 */
export function calibrateThresholds(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  base: Thresholds,
  minPerClass: number,
): Calibration | undefined {
  const pairs: [number, number][] = [];
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    pairs.push([scores[i], labels[i]]);
    positives += labels[i];
  }
  const negatives = pairs.length - positives;
  if (positives < minPerClass || negatives < minPerClass) return undefined;
  pairs.sort((a, b) => b[0] - a[0]);
  let tp = 0, fp = 0, bestF1 = -1, bestCut = base.high;
  for (let i = 0; i < pairs.length; i++) {
    if (pairs[i][1]) tp++;
    else fp++;
    // Only cut between distinct scores: rows with equal scores share a level.
    if (i + 1 < pairs.length && pairs[i + 1][0] === pairs[i][0]) continue;
    const f1 = (2 * tp) / (2 * tp + fp + (positives - tp));
    if (f1 > bestF1) {
      bestF1 = f1;
      bestCut = i + 1 < pairs.length ? (pairs[i][0] + pairs[i + 1][0]) / 2 : pairs[i][0];
    }
  }
  const clamp = (v: number) => Math.min(0.99, Math.max(0.01, v));
  const high = clamp(bestCut);
  const medium = clamp(Math.min(high - 0.005, high - (base.high - base.medium)));
  const critical = clamp(Math.max(high + 0.005, high + (base.critical - base.high)));
  return { thresholds: { medium, high, critical }, f1: bestF1, positives, negatives };
}
