/**
 * The detector's features: which columns of the feature views it uses, how each one is
 * transformed, how missing values are imputed and how values are scaled.
 *
 * - **Source**: one row per client IP × hour, `view_ai_features_1h` LEFT JOIN
 *   `view_thesis_features_1h` on (src_ip, window_start). See {@link FeatureRow}.
 * - **Transform**: heavy-tailed counts and rates (request rate, distinct paths/hosts, JA4 and
 *   User-Agent counts, TCP window) go through log1p, so one huge client does not squeeze every
 *   other value into a corner of the range.
 * - **Missing values**: a value that is null, absent or not a finite number (for example the TCP/TLS
 *   features of an IP-hour whose requests never matched a handshake) is imputed with the
 *   training median of that feature. The fact that it was missing is not lost: `unmatched_ratio`
 *   carries it as a feature of its own.
 * - **Robust scaling**: z = (x − median) / scale, with scale = 1.4826 × MAD (the median absolute
 *   deviation, consistent with σ for normal data); when MAD is 0 (a feature that is 0 for most
 *   clients, such as has_xff) the scale falls back to 1.2533 × mean absolute deviation from the
 *   median, and for a feature constant in training to max(0.1·|median|, 0.01). Medians and MADs ignore outliers, unlike mean and σ,
 *   so the bots being hunted do not shift the reference. The same z-units drive the reasons.
 *
 * @example
 * ```ts
 * const scaler = fitScaler(rows);
 * const matrix = toMatrix(rows, scaler); // Float64Array, rows × FEATURES.length
 * ```
 */

/** One client IP × hour as read from the feature views (numbers may be null when unknown). */
export interface FeatureRow {
  src_ip: string;
  /** Start of the hour, `YYYY-MM-DD hh:mm:ss` (UTC) or ISO text. */
  window_start: string;
  top_ja4?: string | null;
  top_ja4h?: string | null;
  top_ua?: string | null;
  /** Numeric features by column name; see {@link FEATURES}. */
  [column: string]: unknown;
}

/** How a feature's value is turned into the number the model sees. */
export type Transform = "none" | "log1p";

/** Declaration of one model feature and the words used to explain it. */
export interface FeatureSpec {
  /** Column name in the feature views (also the key in `features` of ml_all_scores). */
  name: string;
  /** What an analyst calls it. */
  label: string;
  transform: Transform;
  /** Shown after a value, e.g. "/min". */
  unit?: string;
  /** Values are 0..1 ratios, shown as percentages. */
  ratio?: boolean;
}

/**
 * The 25 model features, in column order of the model matrix. View column names as the
 * storage migrations define them.
 */
export const FEATURES: readonly FeatureSpec[] = [
  { name: "request_rate_per_min", label: "request rate", transform: "log1p", unit: "/min" },
  { name: "distinct_paths", label: "distinct paths", transform: "log1p" },
  { name: "path_diversity", label: "path diversity", transform: "none", ratio: true },
  { name: "distinct_hosts", label: "distinct Host headers", transform: "log1p" },
  { name: "error_ratio", label: "HTTP error share", transform: "none", ratio: true },
  { name: "has_xff", label: "X-Forwarded-For header present", transform: "none", ratio: true },
  {
    name: "unusual_content_type_ratio",
    label: "unusual Content-Type share",
    transform: "none",
    ratio: true,
  },
  {
    name: "non_standard_port_ratio",
    label: "requests to non-standard ports",
    transform: "none",
    ratio: true,
  },
  {
    name: "login_post_concentration",
    label: "POSTs concentrated on login endpoints",
    transform: "none",
    ratio: true,
  },
  {
    name: "sec_ch_mobile_mismatch",
    label: "Sec-CH-UA-Mobile contradicting the User-Agent",
    transform: "none",
    ratio: true,
  },
  { name: "ja4_count", label: "distinct JA4 fingerprints (rotation)", transform: "log1p" },
  { name: "ua_count", label: "distinct User-Agents", transform: "log1p" },
  {
    name: "ua_ja4_mismatch_ratio",
    label: "User-Agent not matching its TLS stack (JA4)",
    transform: "none",
    ratio: true,
  },
  {
    name: "alpn_http_mismatch_ratio",
    label: "ALPN not matching the HTTP version used",
    transform: "none",
    ratio: true,
  },
  {
    name: "interarrival_cv",
    label: "variability of time between requests (low = machine-regular)",
    transform: "none",
  },
  { name: "http2_share", label: "HTTP/2 share", transform: "none", ratio: true },
  {
    name: "unmatched_ratio",
    label: "requests without a matching TLS handshake",
    transform: "none",
    ratio: true,
  },
  { name: "true_window_size", label: "TCP window size", transform: "log1p" },
  { name: "window_mss_ratio", label: "TCP window / MSS ratio", transform: "none" },
  { name: "ip_ttl", label: "IP TTL", transform: "none" },
  { name: "tcp_window_scale", label: "TCP window scale", transform: "none" },
  { name: "tls_version", label: "TLS version", transform: "none" },
  { name: "cipher_count", label: "TLS cipher count", transform: "none" },
  { name: "extension_count", label: "TLS extension count", transform: "none" },
  {
    name: "alpn_h2_share",
    label: "handshakes offering h2 in ALPN",
    transform: "none",
    ratio: true,
  },
];

/** Feature names in model column order. */
export const FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);

/** Per-feature robust statistics learned from the training rows. */
export interface Scaler {
  features: string[];
  transforms: Transform[];
  /** Median of the transformed value (also the imputation value). */
  median: number[];
  /** Robust scale of the transformed value (> 0). */
  scale: number[];
}

/**
 * Reads a view value as a number: numbers as is, numeric text (ClickHouse JSON renders
 * 64-bit integers as text), TLS versions such as "1.3" or "0x0304"; anything else is NaN.
 */
export function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return Number(v);
  if (typeof v !== "string") return NaN;
  const s = v.trim();
  if (s === "") return NaN;
  const tls = /^(?:tls\s*)?1\.([0-3])$/i.exec(s);
  if (tls) return 10 + Number(tls[1]); // "1.3" → 13, the JA4 notation
  if (/^0x0?30[0-4]$/i.test(s)) return 9 + (parseInt(s, 16) & 0xff); // 0x0304 → 13
  return Number(s);
}

function transform(x: number, t: Transform): number {
  if (!Number.isFinite(x)) return NaN;
  return t === "log1p" ? Math.log1p(Math.max(0, x)) : x;
}

/** Median of the finite values in `values` (sorted copy); NaN when there are none. */
export function median(values: ArrayLike<number>): number {
  const finite = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

/**
 * Robust scale of values around `m`: 1.4826·MAD, else 1.2533·mean |x − m|, else (constant
 * feature) max(0.1·|m|, 0.01).
 */
export function robustScale(values: ArrayLike<number>, m: number): number {
  const dev: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) dev.push(Math.abs(values[i] - m));
  }
  if (dev.length === 0) return 1;
  const mad = median(dev);
  if (mad > 0) return 1.4826 * mad;
  const meanAbs = dev.reduce((a, b) => a + b, 0) / dev.length;
  if (meanAbs > 0) return 1.2533 * meanAbs;
  // Constant in training: any change is news, so use a small scale rather than 1 (which
  // would hide a 0 → 0.95 jump of a ratio).
  return Math.max(Math.abs(m) * 0.1, 0.01);
}

/** Learns medians and scales from training rows (at least one row). */
export function fitScaler(
  rows: readonly FeatureRow[],
  features: readonly FeatureSpec[] = FEATURES,
): Scaler {
  const med: number[] = [];
  const scale: number[] = [];
  const column = new Float64Array(rows.length);
  for (const f of features) {
    for (let i = 0; i < rows.length; i++) {
      column[i] = transform(toNumber(rows[i][f.name]), f.transform);
    }
    let m = median(column);
    if (!Number.isFinite(m)) m = 0; // never observed: impute 0 and leave it neutral
    med.push(m);
    scale.push(robustScale(column, m));
  }
  return {
    features: features.map((f) => f.name),
    transforms: features.map((f) => f.transform),
    median: med,
    scale,
  };
}

/**
 * Robust z of one raw value of feature `j`: transformed, missing imputed with the median (z 0),
 * centred and divided by the scale.
 */
export function zValue(scaler: Scaler, j: number, raw: unknown): number {
  const x = transform(toNumber(raw), scaler.transforms[j]);
  if (!Number.isFinite(x)) return 0;
  return (x - scaler.median[j]) / scaler.scale[j];
}

/** The model matrix: row-major robust z-values, rows × features. */
export function toMatrix(rows: readonly FeatureRow[], scaler: Scaler): Float64Array {
  const d = scaler.features.length;
  const out = new Float64Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    for (let j = 0; j < d; j++) out[i * d + j] = zValue(scaler, j, row[scaler.features[j]]);
  }
  return out;
}

/** Raw feature values of a row as a name → number map (missing values left out). */
export function rawFeatureMap(row: FeatureRow, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of names) {
    const v = toNumber(row[name]);
    if (Number.isFinite(v)) out[name] = v;
  }
  return out;
}
