/**
 * Traffic simulator: labeled client IP-hours, shaped like rows of the feature views, drawn from
 * realistic profiles. It drives the detector benchmark and the integration test; it is not used
 * in production.
 *
 * Benign profiles: desktop and mobile browsers (with the JA4s of the FoxIO conformance captures,
 * read at run time, or a few well-known public browser JA4s when those files are absent),
 * corporate users behind a proxy that adds X-Forwarded-For, and monitoring/API clients.
 * Bot scenarios: crawlers, credential stuffing, scrapers rotating JA4, headless browsers,
 * mobile-header mismatch, forged X-Forwarded-For. Bots come in campaigns: several IPs from one
 * /24 sharing JA4, JA4H and User-Agent.
 *
 * @example
 * ```ts
 * const sim = simulate({ benign: 10_000, bots: 500, seed: 1, browserJa4s: await loadBrowserJa4s() });
 * sim.rows[0].request_rate_per_min; sim.labels[0]; sim.scenario[0];
 * ```
 */
import type { FeatureRow } from "./features.ts";
import { createRng, type Rng } from "../lib/random.ts";

/** Scenario names of bot rows (label 1). */
export const BOT_SCENARIOS = [
  "crawler",
  "credential_stuffing",
  "scraper_rotating_ja4",
  "headless_browser",
  "mobile_header_mismatch",
  "forged_xff",
] as const;
export type BotScenario = typeof BOT_SCENARIOS[number];

/**
 * Well-known public browser JA4s, used only when the conformance captures are not on this host
 * (Chrome/Edge TLS 1.3 with h2 and HTTP/1.1 ALPN, Chrome over QUIC).
 */
export const FALLBACK_BROWSER_JA4S: readonly string[] = [
  "t13d1516h2_8daaf6152771_02713d6af862",
  "t13d1516h2_8daaf6152771_e5627efa2ab1",
  "t13d1517h2_8daaf6152771_b0da82dd1658",
  "q13d0310h3_55b375c5d22e_cd85d2d88918",
];

/**
 * Browser JA4s (TLS 1.3 with h2/h3 ALPN) from the FoxIO conformance records in `dir`; the
 * fallback list when the directory is absent or holds none.
 */
export async function loadBrowserJa4s(
  dir = new URL("../../shared/conformance/foxio/", import.meta.url).pathname,
): Promise<{ ja4s: string[]; source: string }> {
  const found = new Set<string>();
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.endsWith(".expected.json")) continue;
      const records = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`));
      if (!Array.isArray(records)) continue;
      for (const r of records) {
        const ja4 = typeof r?.ja4 === "string" ? r.ja4 : "";
        if (/^[tq]13d\d{4}h[23]_/.test(ja4)) found.add(ja4);
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (found.size === 0) return { ja4s: [...FALLBACK_BROWSER_JA4S], source: "built-in fallback" };
  return { ja4s: [...found].sort(), source: dir };
}

/** Simulation parameters. */
export interface SimOptions {
  /** Benign IP-hours. */
  benign: number;
  /** Bot IP-hours, split evenly over the scenarios. */
  bots: number;
  seed: number;
  browserJa4s: readonly string[];
  /** Scenarios to draw bots from (all by default). */
  scenarios?: readonly BotScenario[];
  /** Hour of the first window (all rows fall into `hours` consecutive hours). */
  start?: Date;
  hours?: number;
}

/** Simulated rows with their ground truth. */
export interface Simulation {
  rows: FeatureRow[];
  /** 1 = bot, 0 = benign. */
  labels: Uint8Array;
  /** "benign:<profile>" or the bot scenario. */
  scenario: string[];
}

const DESKTOP_UAS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
];
const MOBILE_UAS = [
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
];

function hex(rng: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += "0123456789abcdef"[rng.int(16)];
  return s;
}

/** A synthetic (not real-world) JA4 of a non-browser TLS stack, e.g. a scripting library. */
function toolJa4(rng: Rng): string {
  const ciphers = String(8 + rng.int(20)).padStart(2, "0");
  const exts = String(6 + rng.int(8)).padStart(2, "0");
  const alpn = rng.next() < 0.7 ? "h1" : "00";
  return `t${rng.next() < 0.6 ? "13" : "12"}d${ciphers}${exts}${alpn}_${hex(rng, 12)}_${
    hex(rng, 12)
  }`;
}

function ja4h(rng: Rng, method: "ge" | "po", version: "11" | "20", cookie: boolean): string {
  const c = cookie ? "c" : "n";
  const headers = String(5 + rng.int(10)).padStart(2, "0");
  return `${method}${version}${c}r${headers}enus_${hex(rng, 12)}_${hex(rng, 12)}_${hex(rng, 12)}`;
}

const u = (rng: Rng, a: number, b: number) => a + rng.next() * (b - a);
const logU = (rng: Rng, a: number, b: number) => Math.exp(u(rng, Math.log(a), Math.log(b)));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

function hourText(d: Date): string {
  return d.toISOString().slice(0, 19).replace("T", " ");
}

function randomIpv4(rng: Rng): string {
  return `${1 + rng.int(222)}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`;
}

/** TCP/TLS stack of a client OS: window, MSS, window scale, initial TTL. */
interface Stack {
  window: number;
  mss: number;
  wscale: number;
  ttl: number;
}
const STACKS: readonly Stack[] = [
  { window: 64240, mss: 1460, wscale: 8, ttl: 128 }, // Windows 10/11
  { window: 65535, mss: 1460, wscale: 6, ttl: 64 }, // macOS
  { window: 64240, mss: 1460, wscale: 7, ttl: 64 }, // Linux
  { window: 65535, mss: 1400, wscale: 9, ttl: 64 }, // Android on mobile networks
];

function network(rng: Rng, stack: Stack, row: FeatureRow, missingTls: number): void {
  if (rng.next() < missingTls) {
    // The requests of this hour never matched a handshake: the thesis view has no row.
    for (
      const k of [
        "true_window_size",
        "window_mss_ratio",
        "ip_ttl",
        "tcp_window_scale",
        "tls_version",
        "cipher_count",
        "extension_count",
        "alpn_h2_share",
      ]
    ) row[k] = null;
    return;
  }
  const window = stack.window * (rng.next() < 0.1 ? 0.5 : 1);
  // As view_thesis_features_1h defines them: SYN window × 2^scale, and window / MSS.
  row.true_window_size = window * 2 ** stack.wscale;
  row.window_mss_ratio = round(window / stack.mss);
  row.ip_ttl = stack.ttl - (4 + rng.int(14)); // hops on the way
  row.tcp_window_scale = stack.wscale;
}

interface Base {
  ip: string;
  hour: string;
}

function browser(rng: Rng, base: Base, ja4s: readonly string[], mobile: boolean): FeatureRow {
  const rate = logU(rng, 0.05, 6);
  const requests = Math.max(1, Math.round(rate * 60 * u(rng, 0.05, 0.6)));
  const paths = Math.max(1, Math.round(requests * u(rng, 0.1, 0.6)));
  const h2 = rng.next() < 0.9;
  const row: FeatureRow = {
    src_ip: base.ip,
    window_start: base.hour,
    top_ja4: pick(rng, ja4s),
    top_ja4h: ja4h(rng, "ge", h2 ? "20" : "11", rng.next() < 0.8),
    top_ua: pick(rng, mobile ? MOBILE_UAS : DESKTOP_UAS),
    requests,
    request_rate_per_min: round(requests / 60),
    distinct_paths: paths,
    path_diversity: round(paths / requests),
    distinct_hosts: rng.next() < 0.9 ? 1 : 2,
    error_ratio: round(rng.next() < 0.7 ? 0 : u(rng, 0, 0.12)),
    has_xff: 0,
    unusual_content_type_ratio: rng.next() < 0.97 ? 0 : round(u(rng, 0, 0.05)),
    non_standard_port_ratio: 0,
    login_post_concentration: rng.next() < 0.9 ? 0 : round(u(rng, 0.01, 0.15)),
    sec_ch_mobile_mismatch: 0,
    ja4_count: rng.next() < 0.85 ? 1 : 2,
    ua_count: rng.next() < 0.95 ? 1 : 2,
    ua_ja4_mismatch_ratio: 0,
    alpn_http_mismatch_ratio: rng.next() < 0.97 ? 0 : round(u(rng, 0, 0.1)),
    interarrival_cv: round(u(rng, 1.0, 3.5)),
    http2_share: round(h2 ? u(rng, 0.85, 1) : u(rng, 0, 0.2)),
    unmatched_ratio: round(rng.next() < 0.8 ? 0 : u(rng, 0, 0.1)),
    tls_version: 13,
    cipher_count: 15 + rng.int(3),
    extension_count: 16 + rng.int(3),
    alpn_h2_share: round(u(rng, 0.9, 1)),
  };
  network(rng, mobile ? STACKS[3] : pick(rng, STACKS.slice(0, 3)), row, 0.03);
  return row;
}

/** One benign IP-hour from a weighted mix of profiles. */
function benignRow(rng: Rng, base: Base, ja4s: readonly string[]): [FeatureRow, string] {
  const p = rng.next();
  if (p < 0.6) return [browser(rng, base, ja4s, false), "benign:desktop_browser"];
  if (p < 0.88) return [browser(rng, base, ja4s, true), "benign:mobile_browser"];
  if (p < 0.96) {
    const row = browser(rng, base, ja4s, false);
    row.has_xff = 1; // corporate proxy adding X-Forwarded-For: common, not malicious
    return [row, "benign:corporate_proxy"];
  }
  // Monitoring and API clients: regular but slow, few paths, own TLS stack.
  const row = browser(rng, base, ja4s, false);
  Object.assign(row, {
    top_ja4: pick(rng, ja4s),
    top_ua: "Mozilla/5.0 (compatible; UptimeMonitor/2.1)",
    request_rate_per_min: round(u(rng, 0.2, 2)),
    distinct_paths: 1 + rng.int(3),
    path_diversity: round(u(rng, 0.01, 0.1)),
    interarrival_cv: round(u(rng, 0.6, 1.2)),
  });
  return [row, "benign:monitoring"];
}

/** Shared traits of one bot campaign. */
interface Campaign {
  prefix: string;
  ja4: string;
  ja4h: string;
  ua: string;
  stack: Stack;
}

function newCampaign(rng: Rng, scenario: BotScenario, ja4s: readonly string[]): Campaign {
  const browserTls = scenario === "headless_browser" || scenario === "mobile_header_mismatch";
  const ua = scenario === "crawler"
    ? `Mozilla/5.0 (compatible; ${pick(rng, ["DataHarvest", "SEOspider", "Bytebot"])}/1.${
      rng.int(9)
    })`
    : scenario === "headless_browser"
    ? DESKTOP_UAS[2].replace("Chrome/", "HeadlessChrome/")
    : scenario === "mobile_header_mismatch"
    ? pick(rng, MOBILE_UAS)
    : pick(rng, DESKTOP_UAS);
  return {
    prefix: `${11 + rng.int(200)}.${rng.int(256)}.${rng.int(256)}`,
    ja4: browserTls ? pick(rng, ja4s) : toolJa4(rng),
    ja4h: ja4h(rng, scenario === "credential_stuffing" ? "po" : "ge", "11", false),
    ua,
    stack: STACKS[2], // bots mostly run on Linux servers in data centres
  };
}

function botRow(rng: Rng, scenario: BotScenario, c: Campaign, hour: string): FeatureRow {
  const row: FeatureRow = {
    src_ip: `${c.prefix}.${1 + rng.int(254)}`,
    window_start: hour,
    top_ja4: c.ja4,
    top_ja4h: c.ja4h,
    top_ua: c.ua,
    distinct_hosts: 1,
    has_xff: 0,
    unusual_content_type_ratio: 0,
    non_standard_port_ratio: 0,
    login_post_concentration: 0,
    sec_ch_mobile_mismatch: 0,
    ja4_count: 1,
    ua_count: 1,
    ua_ja4_mismatch_ratio: 0,
    alpn_http_mismatch_ratio: 0,
    http2_share: 0,
    unmatched_ratio: round(u(rng, 0, 0.05)),
    tls_version: 13,
    cipher_count: 8 + rng.int(20),
    extension_count: 6 + rng.int(8),
    alpn_h2_share: 0,
    error_ratio: round(u(rng, 0, 0.1)),
    interarrival_cv: round(u(rng, 0.05, 0.6)),
  };
  let rate = logU(rng, 5, 60);
  let diversity = u(rng, 0.3, 0.9);
  switch (scenario) {
    case "crawler":
      diversity = u(rng, 0.85, 1);
      row.error_ratio = round(u(rng, 0.05, 0.3)); // follows dead links
      row.distinct_hosts = 1 + rng.int(3);
      break;
    case "credential_stuffing":
      rate = logU(rng, 10, 200);
      diversity = u(rng, 0.001, 0.02);
      row.login_post_concentration = round(u(rng, 0.8, 1));
      row.error_ratio = round(u(rng, 0.4, 0.95)); // failed logins
      row.ua_ja4_mismatch_ratio = round(u(rng, 0.8, 1)); // claims Chrome, speaks a library's TLS
      break;
    case "scraper_rotating_ja4":
      row.ja4_count = 4 + rng.int(30);
      row.ua_count = 3 + rng.int(20);
      row.ua_ja4_mismatch_ratio = round(u(rng, 0.3, 0.9));
      diversity = u(rng, 0.6, 1);
      break;
    case "headless_browser":
      // Real Chrome TLS stack: the tell is behaviour (volume, regular timing, no browsing shape).
      rate = logU(rng, 3, 40);
      row.http2_share = round(u(rng, 0.85, 1));
      row.alpn_h2_share = 1;
      row.cipher_count = 16;
      row.extension_count = 17;
      row.interarrival_cv = round(u(rng, 0.1, 0.5));
      diversity = u(rng, 0.7, 1);
      break;
    case "mobile_header_mismatch":
      rate = logU(rng, 1, 20);
      row.sec_ch_mobile_mismatch = round(u(rng, 0.6, 1));
      row.ua_ja4_mismatch_ratio = round(u(rng, 0.3, 1));
      row.http2_share = round(u(rng, 0.6, 1));
      row.alpn_h2_share = 1;
      row.cipher_count = 16;
      row.extension_count = 17;
      row.interarrival_cv = round(u(rng, 0.2, 0.9));
      break;
    case "forged_xff":
      row.has_xff = 1;
      row.unusual_content_type_ratio = round(u(rng, 0.2, 0.8));
      row.non_standard_port_ratio = round(u(rng, 0.1, 0.6));
      row.alpn_http_mismatch_ratio = round(u(rng, 0.2, 0.8));
      rate = logU(rng, 2, 30);
      break;
  }
  const requests = Math.max(1, Math.round(rate * 60));
  row.requests = requests;
  row.request_rate_per_min = round(rate);
  row.distinct_paths = Math.max(1, Math.round(requests * diversity));
  row.path_diversity = round(row.distinct_paths as number / requests);
  network(rng, c.stack, row, 0.02);
  return row;
}

/** Generates benign and bot IP-hours, deterministically from the seed. */
export function simulate(opts: SimOptions): Simulation {
  const rng = createRng(opts.seed);
  const start = opts.start ?? new Date(Date.UTC(2026, 0, 1));
  const hours = opts.hours ?? 24;
  const hourOf = () => hourText(new Date(start.getTime() + rng.int(hours) * 3_600_000));
  const rows: FeatureRow[] = [];
  const scenario: string[] = [];
  const labels = new Uint8Array(opts.benign + opts.bots);
  for (let i = 0; i < opts.benign; i++) {
    const [row, name] = benignRow(rng, { ip: randomIpv4(rng), hour: hourOf() }, opts.browserJa4s);
    rows.push(row);
    scenario.push(name);
  }
  const scenarios = opts.scenarios ?? BOT_SCENARIOS;
  const campaigns = new Map<string, Campaign>();
  for (let k = 0; k < opts.bots; k++) {
    // Campaigns of ~8 IP-hours: consecutive bots of a scenario share one campaign.
    const s = scenarios[k % scenarios.length];
    const campaignIndex = Math.floor(k / scenarios.length / 8);
    const key = `${s}#${campaignIndex}`;
    let c = campaigns.get(key);
    if (!c) campaigns.set(key, c = newCampaign(rng, s, opts.browserJa4s));
    rows.push(botRow(rng, s, c, hourOf()));
    scenario.push(s);
    labels[opts.benign + k] = 1;
  }
  return { rows, labels, scenario };
}

/** http_logs and tls_handshakes rows (column names of migrations/02) for simulated IP-hours. */
export interface RawEvents {
  http: Record<string, unknown>[];
  tls: Record<string, unknown>[];
}

/**
 * Expands simulated IP-hours into raw requests and handshakes whose hourly aggregates roughly
 * reproduce the rows' features (request counts are compressed ten-fold to keep tests small),
 * so that a test can drive the real pipeline: raw tables → materialized aggregates → feature
 * views → detector.
 */
export function rawEvents(rows: readonly FeatureRow[], seed: number): RawEvents {
  const rng = createRng(seed);
  const http: Record<string, unknown>[] = [];
  const tls: Record<string, unknown>[] = [];
  const num = (v: unknown, d = 0) => (typeof v === "number" && Number.isFinite(v) ? v : d);
  for (const row of rows) {
    const hourUs = Date.parse(row.window_start.replace(" ", "T") + "Z") * 1000;
    const k = Math.min(60, Math.max(2, Math.round(num(row.request_rate_per_min) * 6)));
    const paths = Math.max(1, Math.round(k * num(row.path_diversity, 0.5)));
    const ja4s = Math.max(1, Math.round(num(row.ja4_count, 1)));
    const uas = Math.max(1, Math.round(num(row.ua_count, 1)));
    const regular = num(row.interarrival_cv, 1) < 0.8;
    const gap = Math.floor(3_000_000_000 / k); // spread over ~50 minutes
    let ts = hourUs + rng.int(60_000_000);
    for (let i = 0; i < k; i++) {
      ts += regular ? gap : Math.floor(gap * 2 * rng.next() ** 3);
      const login = rng.next() < num(row.login_post_concentration);
      const h2 = rng.next() < num(row.http2_share);
      const matched = rng.next() >= num(row.unmatched_ratio);
      const ua = (i % uas === 0 ? row.top_ua : `${row.top_ua} v${i % uas}`) ?? "";
      http.push({
        ts: Math.min(ts, hourUs + 3_599_000_000),
        src_ip: row.src_ip,
        src_port: 40000 + (i % 20000),
        dst_ip: "192.0.2.1",
        dst_port: rng.next() < num(row.non_standard_port_ratio) ? 8443 : 443,
        method: login ? "POST" : "GET",
        host: "shop.example",
        path: login ? "/login" : `/p/${i % paths}`,
        protocol: h2 ? "HTTP/2.0" : "HTTP/1.1",
        status: rng.next() < num(row.error_ratio) ? (login ? 401 : 404) : 200,
        user_agent: ua,
        content_type: rng.next() < num(row.unusual_content_type_ratio) ? "application/x-evil" : "",
        xff: num(row.has_xff) > 0 ? "10.1.2.3" : "",
        sec_ch_ua_mobile: rng.next() < num(row.sec_ch_mobile_mismatch)
          ? (/Mobi/.test(ua) ? "?0" : "?1")
          : "",
        header_names: ["host", "user-agent", "accept"],
        ja4h: row.top_ja4h ?? "",
        ja4: matched ? (i % ja4s === 0 ? row.top_ja4 : `${row.top_ja4}_${i % ja4s}`) : "",
        alpn: matched ? (h2 ? "h2" : "http/1.1") : "",
        match_status: matched ? "matched" : "no_tls",
      });
    }
    if (row.true_window_size !== null && row.true_window_size !== undefined) {
      const wscale = num(row.tcp_window_scale, 7);
      const window = Math.round(num(row.true_window_size) / 2 ** wscale);
      tls.push({
        ts: hourUs + 1000,
        src_ip: row.src_ip,
        src_port: 40000,
        dst_ip: "192.0.2.1",
        dst_port: 443,
        ja4: row.top_ja4 ?? "",
        ja4_r: "",
        ja4_o: "",
        ja4_ro: "",
        ja3: "",
        ja3_full: "",
        tls_version: String(num(row.tls_version, 13)),
        alpn: num(row.alpn_h2_share) >= 0.5 ? "h2" : "http/1.1",
        cipher_count: Math.round(num(row.cipher_count)),
        extension_count: Math.round(num(row.extension_count)),
        tcp_window: window,
        tcp_mss: Math.max(1, Math.round(window / num(row.window_mss_ratio, 44))),
        tcp_window_scale: wscale,
        ip_ttl: Math.round(num(row.ip_ttl, 64)),
      });
    }
  }
  return { http, tls };
}
