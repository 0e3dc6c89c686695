/**
 * New-fingerprint flagging. A JA4 alone is shared by every client of one TLS library build, so
 * "new" is judged over combinations: JA4 with JA4H (the HTTP client), JA4 with the User-Agent
 * (does this TLS stack usually claim to be that browser?) and JA4 with JA4S (server response,
 * when known). A combination first seen on this site inside the scoring window is flagged,
 * except during the learning period (the site's first `learningHours` of data, when everything
 * is new) and for allowlisted JA4s or combinations.
 *
 * @example
 * ```ts
 * const index = firstSeenIndex(historyRows);
 * newCombinationReasons(row, index, { siteFirstSeen, learningHours: 168, since, allowlist: [] });
 * ```
 */

/** Kinds of combinations reasoned over. */
export type ComboKind = "ja4+ja4h" | "ja4+ua" | "ja4+ja4s";

const LABELS: Record<ComboKind, string> = {
  "ja4+ja4h": "JA4 + JA4H",
  "ja4+ua": "JA4 + User-Agent",
  "ja4+ja4s": "JA4 + JA4S",
};

/** When a combination was first seen (window_start text, comparable as text). */
export interface ComboFirstSeen {
  kind: ComboKind;
  /** `JA4|other`. */
  value: string;
  first_seen: string;
}

/** kind + value → first seen. */
export type FirstSeenIndex = Map<string, string>;

/** Builds the lookup from history rows (earliest wins if a combination repeats). */
export function firstSeenIndex(rows: readonly ComboFirstSeen[]): FirstSeenIndex {
  const out: FirstSeenIndex = new Map();
  for (const r of rows) {
    const k = `${r.kind}\u0000${r.value}`;
    const prev = out.get(k);
    if (prev === undefined || r.first_seen < prev) out.set(k, r.first_seen);
  }
  return out;
}

/** The combinations present in a row, as `[kind, "JA4|other"]`. */
export function combinationsOf(row: {
  top_ja4?: string | null;
  top_ja4h?: string | null;
  top_ua?: string | null;
  top_ja4s?: string | null;
}): [ComboKind, string][] {
  if (!row.top_ja4) return [];
  const out: [ComboKind, string][] = [];
  if (row.top_ja4h) out.push(["ja4+ja4h", `${row.top_ja4}|${row.top_ja4h}`]);
  if (row.top_ua) out.push(["ja4+ua", `${row.top_ja4}|${row.top_ua}`]);
  if (row.top_ja4s) out.push(["ja4+ja4s", `${row.top_ja4}|${row.top_ja4s}`]);
  return out;
}

/** Policy for {@link newCombinationReasons}. */
export interface NewFingerprintPolicy {
  /** Earliest data on the site (window_start text); undefined when there is none yet. */
  siteFirstSeen: string | undefined;
  learningHours: number;
  /** Start of the scoring window: combinations first seen at or after it are new. */
  since: string;
  /** JA4s or `JA4|other` combinations never flagged. */
  allowlist: readonly string[];
}

function addHours(text: string, hours: number): string {
  const t = Date.parse(text.includes("T") ? text : text.replace(" ", "T") + "Z");
  if (!Number.isFinite(t)) return text;
  return new Date(t + hours * 3_600_000).toISOString().slice(0, 19).replace("T", " ");
}

/** Reasons for the new combinations of one row (empty when none, or while learning). */
export function newCombinationReasons(
  row: Parameters<typeof combinationsOf>[0],
  index: FirstSeenIndex,
  policy: NewFingerprintPolicy,
): string[] {
  if (policy.siteFirstSeen === undefined) return [];
  const learnedAt = addHours(policy.siteFirstSeen, policy.learningHours);
  if (policy.since < learnedAt) return []; // still learning what is normal here
  if (row.top_ja4 && policy.allowlist.includes(row.top_ja4)) return [];
  const reasons: string[] = [];
  for (const [kind, value] of combinationsOf(row)) {
    if (policy.allowlist.includes(value)) continue;
    const first = index.get(`${kind}\u0000${value}`);
    if (first === undefined || first >= policy.since) {
      reasons.push(
        `new fingerprint combination ${LABELS[kind]} on this site (first seen ${first ?? "now"})`,
      );
    }
  }
  return reasons;
}
