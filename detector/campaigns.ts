/**
 * Campaign clustering: anomalous clients that share traits are one campaign.
 *
 * Traits of a row: its IP, JA4, JA4H, User-Agent, network prefix (/24 for IPv4, /64 for IPv6)
 * and a timing trait (same hour at the same order of magnitude of request rate). One shared
 * trait is weak evidence (thousands of honest Chrome users share one JA4), so two rows are
 * linked when they share at least two traits (any pair, e.g. JA4 + User-Agent, or /24 + JA4H),
 * or the same IP. Linked rows are merged transitively (union–find); every group of ≥ 2 distinct
 * IPs is a campaign. Each member gets the campaign's id: a positive integer derived from the
 * campaign's smallest member key, so a campaign keeps its id across runs while its first member
 * stays in it. Rows outside any campaign get {@link NO_CAMPAIGN} (−1); a member never does.
 *
 * @example
 * ```ts
 * const { ids, campaigns } = findCampaigns(rows);
 * ids[3]; // campaign id of rows[3], or -1
 * ```
 */

/** campaign_id of a row that belongs to no campaign. */
export const NO_CAMPAIGN = -1;

/** What campaign clustering looks at in a row. */
export interface CampaignInput {
  src_ip: string;
  window_start: string;
  top_ja4?: string | null;
  top_ja4h?: string | null;
  top_ua?: string | null;
  request_rate_per_min?: unknown;
}

/** A campaign found in one run. */
export interface Campaign {
  id: number;
  /** Distinct member IPs. */
  ips: string[];
  /** Indexes of the member rows in the input. */
  rows: number[];
  /** Trait pairs that linked members, most frequent first, e.g. "JA4 + User-Agent". */
  sharedTraits: string[];
}

/**
 * Network prefix of an address: /24 for IPv4 (and IPv4-mapped IPv6), /64 for IPv6. Returns ""
 * for text that is not an address.
 */
export function networkPrefix(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped ? mapped[1] : ip;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(v4);
  if (m) return `${m[1]}.${m[2]}.${m[3]}.0/24`;
  if (!ip.includes(":")) return "";
  // Expand "::" to get the first four hextets.
  const [head, tail] = ip.toLowerCase().split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined ? (tail ? tail.split(":") : []) : [];
  const groups = tail !== undefined
    ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t]
    : h;
  if (groups.length < 4 || groups.slice(0, 4).some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return "";
  return groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":") + "::/64";
}

const TRAIT_NAMES = ["JA4", "JA4H", "User-Agent", "network prefix", "timing"] as const;

function traits(r: CampaignInput): (string | undefined)[] {
  const rate = Number(r.request_rate_per_min);
  const timing = Number.isFinite(rate) && rate > 0
    ? `${r.window_start}@${Math.round(Math.log10(rate) * 2)}`
    : undefined;
  const nonEmpty = (v: string | null | undefined) => (v ? v : undefined);
  return [
    nonEmpty(r.top_ja4),
    nonEmpty(r.top_ja4h),
    nonEmpty(r.top_ua),
    nonEmpty(networkPrefix(r.src_ip)),
    timing,
  ];
}

/** FNV-1a over UTF-16 code units, folded to a positive integer below 2^53. */
export function stableId(text: string): number {
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  const hi = (h2 >>> 0) & 0x1fffff; // 21 bits
  return hi * 4294967296 + (h1 >>> 0) || 1;
}

/**
 * Groups rows into campaigns. Only pass the anomalous rows (the caller decides which);
 * returns one id per input row and the campaigns, largest first.
 */
export function findCampaigns(
  rows: readonly CampaignInput[],
): { ids: number[]; campaigns: Campaign[] } {
  const parent = rows.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const union = (a: number, b: number) => {
    const ra = find(a), rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  // First row seen for each link key; later rows with the key join it.
  const firstWithKey = new Map<string, number>();
  const linkCounts = new Map<number, Map<string, number>>(); // row → pair name → count
  const allTraits = rows.map(traits);
  rows.forEach((r, i) => {
    const keys: [string, string][] = [[`ip\u0000${r.src_ip}`, "same IP"]];
    const t = allTraits[i];
    for (let a = 0; a < t.length; a++) {
      for (let b = a + 1; b < t.length; b++) {
        if (t[a] === undefined || t[b] === undefined) continue;
        keys.push([`${a}.${b}\u0000${t[a]}\u0000${t[b]}`, `${TRAIT_NAMES[a]} + ${TRAIT_NAMES[b]}`]);
      }
    }
    for (const [key, pairName] of keys) {
      const first = firstWithKey.get(key);
      if (first === undefined) {
        firstWithKey.set(key, i);
        continue;
      }
      union(first, i);
      if (pairName !== "same IP") {
        const m = linkCounts.get(i) ?? new Map<string, number>();
        m.set(pairName, (m.get(pairName) ?? 0) + 1);
        linkCounts.set(i, m);
      }
    }
  });

  const groups = new Map<number, number[]>();
  rows.forEach((_, i) => {
    const root = find(i);
    const g = groups.get(root);
    if (g) g.push(i);
    else groups.set(root, [i]);
  });
  const ids = rows.map(() => NO_CAMPAIGN);
  const campaigns: Campaign[] = [];
  for (const members of groups.values()) {
    const ips = [...new Set(members.map((i) => rows[i].src_ip))].sort();
    if (ips.length < 2) continue; // one client over several hours is not a campaign
    const pairCounts = new Map<string, number>();
    for (const i of members) {
      for (const [name, n] of linkCounts.get(i) ?? []) {
        pairCounts.set(name, (pairCounts.get(name) ?? 0) + n);
      }
    }
    const sharedTraits = [...pairCounts.entries()].sort((a, b) =>
      b[1] - a[1] || (a[0] < b[0] ? -1 : 1)
    )
      .map(([name]) => name);
    const id = stableId(`${ips[0]}|${sharedTraits[0] ?? ""}`);
    for (const i of members) ids[i] = id;
    campaigns.push({ id, ips, rows: members, sharedTraits });
  }
  campaigns.sort((a, b) => b.ips.length - a.ips.length || a.id - b.id);
  return { ids, campaigns };
}
