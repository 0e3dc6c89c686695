/**
 * Migrations from zero on chDB, then a small dataset (tests/storage_dataset.ts) whose
 * aggregates and feature vectors were computed by hand below.
 */
import { assert, assertEquals } from "../lib/testing.ts";
import { openTestStorage } from "../lib/storage/testing.ts";
import {
  H_US,
  HTTP_ROWS,
  IP_A_STORED,
  IP_B,
  JA4_CHROMIUM,
  JA4H_X,
  TLS_ROWS,
  UA_CHROME,
} from "./storage_dataset.ts";

const HOUR = "2026-01-01 10:00:00";
const NEXT_HOUR = "2026-01-01 11:00:00";

function close(actual: unknown, expected: number, what: string): void {
  assert(typeof actual === "number", `${what}: expected a number, got ${JSON.stringify(actual)}`);
  assert(Math.abs(actual - expected) < 1e-9, `${what}: expected ${expected}, got ${actual}`);
}

Deno.test("views: hand-computed feature vectors, thesis features, JA4 signals, overview", async (t) => {
  const storage = await openTestStorage();
  try {
    await storage.insert("http_logs", HTTP_ROWS);
    await storage.insert("tls_handshakes", TLS_ROWS);

    await t.step("view_ai_features_1h for A in hour H", async () => {
      const rows = await storage.query(
        "SELECT * FROM view_ai_features_1h WHERE src_ip = {ip:IPv6} ORDER BY window_start",
        { ip: IP_A_STORED },
      );
      assertEquals(rows.length, 2);
      const a = rows[0];
      assertEquals(a.window_start, HOUR);
      assertEquals(a.requests, 4); // the tls_only row is not a request
      close(a.request_rate_per_min, 4 / 60, "request_rate_per_min");
      assertEquals(a.distinct_paths, 3); // /index.html, /about, /login
      close(a.path_diversity, 3 / 4, "path_diversity");
      assertEquals(a.distinct_hosts, 2); // example.com, www.example.com
      close(a.error_ratio, 2 / 4, "error_ratio"); // 404 and 500
      assertEquals(a.has_xff, 1);
      close(a.unusual_content_type_ratio, 1 / 4, "unusual_content_type_ratio"); // x-custom only
      close(a.non_standard_port_ratio, 1 / 4, "non_standard_port_ratio"); // 8443
      close(a.login_post_concentration, 1 / 4, "login_post_concentration"); // POST /login
      close(a.sec_ch_mobile_mismatch, 1 / 4, "sec_ch_mobile_mismatch"); // ?1 on desktop UA
      assertEquals(a.ja4_count, 2); // chromium, firefox ('' of the no_tls row not counted)
      assertEquals(a.ua_count, 2); // Chrome, curl
      close(a.ua_ja4_mismatch_ratio, 1 / 4, "ua_ja4_mismatch_ratio"); // Chrome UA, Firefox JA4
      close(a.alpn_http_mismatch_ratio, 1 / 4, "alpn_http_mismatch_ratio"); // h2 → HTTP/1.1
      // Arrivals 0, 10, 30, 70 s → gaps 10, 20, 40: mean 70/3, population sd √14·10/3 → √14/7.
      close(a.interarrival_cv, Math.sqrt(14) / 7, "interarrival_cv");
      close(a.http2_share, 2 / 4, "http2_share");
      close(a.unmatched_ratio, 1 / 4, "unmatched_ratio");
      assertEquals(a.top_ja4, JA4_CHROMIUM);
      assertEquals(a.top_ja4h, JA4H_X);
      assertEquals(a.top_ua, UA_CHROME);
      const next = rows[1];
      assertEquals(next.window_start, NEXT_HOUR);
      assertEquals(next.requests, 1);
      assertEquals(next.interarrival_cv, 0);
    });

    await t.step("view_ai_features_1h for B: a consistent iPhone Safari", async () => {
      const [b] = await storage.query(
        "SELECT * FROM view_ai_features_1h WHERE src_ip = toIPv6({ip:String})",
        { ip: IP_B },
      );
      assertEquals(b.src_ip, IP_B);
      assertEquals(b.requests, 1);
      assertEquals(b.path_diversity, 1);
      assertEquals(b.sec_ch_mobile_mismatch, 0);
      assertEquals(b.ua_ja4_mismatch_ratio, 0);
      assertEquals(b.alpn_http_mismatch_ratio, 0);
      assertEquals(b.has_xff, 0);
      assertEquals(b.unmatched_ratio, 0);
    });

    await t.step("the feature view has exactly the contract's columns", async () => {
      const cols = await storage.query<{ name: string }>(
        "SELECT name FROM system.columns WHERE database = currentDatabase() " +
          "AND table = 'view_ai_features_1h' ORDER BY position",
      );
      assertEquals(cols.map((c) => c.name), [
        "src_ip",
        "window_start",
        "requests",
        "request_rate_per_min",
        "distinct_paths",
        "path_diversity",
        "distinct_hosts",
        "error_ratio",
        "has_xff",
        "unusual_content_type_ratio",
        "non_standard_port_ratio",
        "login_post_concentration",
        "sec_ch_mobile_mismatch",
        "ja4_count",
        "ua_count",
        "ua_ja4_mismatch_ratio",
        "alpn_http_mismatch_ratio",
        "interarrival_cv",
        "http2_share",
        "unmatched_ratio",
        "top_ja4",
        "top_ja4h",
        "top_ua",
      ]);
    });

    await t.step("aggregate counters in agg_http_1h", async () => {
      const [agg] = await storage.query(
        "SELECT sum(count_xff) AS xff, sum(count_unusual_ct) AS ct, sum(count_non_std_port) AS port, " +
          "sum(count_login_post) AS login, sum(sec_ch_mobile_mismatch) AS mobile " +
          "FROM agg_http_1h WHERE src_ip = {ip:IPv6} AND window_start = {h:DateTime}",
        { ip: IP_A_STORED, h: HOUR },
      );
      assertEquals(agg, { xff: 1, ct: 1, port: 1, login: 1, mobile: 1 });
    });

    await t.step("view_thesis_features_1h: update events ignored", async () => {
      const [th] = await storage.query(
        "SELECT * FROM view_thesis_features_1h WHERE src_ip = {ip:IPv6}",
        { ip: IP_A_STORED },
      );
      assertEquals(th.handshakes, 2);
      close(th.true_window_size, (64240 * 256 + 65535 * 256) / 2, "true_window_size");
      close(th.window_mss_ratio, (64240 / 1460 + 65535 / 1460) / 2, "window_mss_ratio");
      assertEquals(th.ip_ttl, 128);
      assertEquals(th.tcp_mss, 1460);
      assertEquals(th.tcp_window_scale, 8);
      assertEquals(th.tls_version, "1.3");
      close(th.cipher_count, 16.5, "cipher_count");
      close(th.extension_count, 16.5, "extension_count");
      close(th.alpn_h2_share, 0.5, "alpn_h2_share");
    });

    await t.step("view_ja4_signals_1h: what is this JA4 on my site", async () => {
      const [sig] = await storage.query(
        "SELECT * FROM view_ja4_signals_1h WHERE ja4 = {ja4:String}",
        { ja4: JA4_CHROMIUM },
      );
      assertEquals(sig.requests, 2);
      assertEquals(sig.distinct_ips, 1);
      assertEquals(sig.top_user_agents, [UA_CHROME]);
      assertEquals(sig.http2_share, 1);
      assertEquals(sig.error_ratio, 0.5);
      assertEquals(sig.first_seen, "2026-01-01 10:00:00.000000");
      const apps = sig.known_applications as string[];
      assert(apps.some((a) => a.startsWith("Chromium browser")), `known: ${apps}`);
    });

    await t.step("view_overview_1h", async () => {
      const [ov] = await storage.query(
        "SELECT * FROM view_overview_1h WHERE window_start = {h:DateTime}",
        { h: HOUR },
      );
      assertEquals(ov.requests, 5);
      assertEquals(ov.unique_ips, 2);
      close(ov.error_ratio, 2 / 5, "error_ratio");
      close(ov.http2_share, 2 / 5, "http2_share");
      close(ov.unmatched_ratio, 1 / 5, "unmatched_ratio");
      assertEquals(ov.xff_requests, 1);
      assertEquals(ov.handshakes, 2);
      assertEquals(ov.distinct_ja4, 1);
    });

    await t.step("unmerged parts and merged parts give the same vector", async () => {
      await storage.insert("http_logs", [HTTP_ROWS[0]]); // a second part for the same key
      const sql = "SELECT requests, distinct_paths, top_ja4, ja4_count, interarrival_cv " +
        "FROM view_ai_features_1h WHERE src_ip = {ip:IPv6} AND window_start = {h:DateTime}";
      const params = { ip: IP_A_STORED, h: HOUR };
      const [parts] = await storage.query<{ n: number }>(
        "SELECT count() AS n FROM agg_http_1h WHERE src_ip = {ip:IPv6}",
        params,
      );
      assert(parts.n >= 2, "the key must be in two unmerged rows for this step to mean anything");
      // Arrivals 0, 0, 10, 30, 70 s → gaps 0, 10, 20, 40: mean 17.5, population sd √218.75.
      const expected = {
        requests: 5,
        distinct_paths: 3,
        top_ja4: JA4_CHROMIUM,
        ja4_count: 2,
        interarrival_cv: Math.sqrt(218.75) / 17.5,
      };
      const [before] = await storage.query(sql, params);
      close(before.interarrival_cv, expected.interarrival_cv, "interarrival_cv before merge");
      assertEquals({ ...before, interarrival_cv: expected.interarrival_cv } as unknown, expected);
      await storage.command("OPTIMIZE TABLE agg_http_1h FINAL");
      const [after] = await storage.query(sql, params);
      close(after.interarrival_cv, expected.interarrival_cv, "interarrival_cv after merge");
      assertEquals({ ...after, interarrival_cv: expected.interarrival_cv } as unknown, expected);
    });

    await t.step("ML and SOC tables: latest label per target wins", async () => {
      await storage.insert("soc_classifications", [
        { created_at: H_US / 1000, analyst: "ann", target_type: "ip", target: IP_B, label: "bot" },
        {
          created_at: H_US / 1000 + 1,
          analyst: "bob",
          target_type: "ip",
          target: IP_B,
          label: "benign",
          note: "our monitor",
        },
      ]);
      const [cur] = await storage.query("SELECT * FROM view_soc_current_labels");
      assertEquals(cur.label, "benign");
      assertEquals(cur.analyst, "bob");
      assertEquals(cur.history_count, 2);
      await storage.insert("ml_all_scores", [
        {
          scored_at: 1,
          src_ip: IP_B,
          window_start: HOUR,
          model_version: "v1",
          score: 0.4,
          threat_level: "low",
          features: { requests: 1 },
        },
        {
          scored_at: 2,
          src_ip: IP_B,
          window_start: HOUR,
          model_version: "v2",
          score: 0.7,
          threat_level: "high",
          reasons: ["ua_ja4_mismatch"],
          supervised_probability: 0.9,
          features: { requests: 1 },
        },
      ]);
      const [latest] = await storage.query("SELECT * FROM view_ml_latest_scores");
      assertEquals(latest.model_version, "v2");
      assertEquals(latest.reasons, ["ua_ja4_mismatch"]);
      assertEquals(latest.supervised_probability, 0.9);
    });

    await t.step("a bad label is refused by the table's constraint", async () => {
      let refused = false;
      try {
        await storage.insert("soc_classifications", [
          { analyst: "x", target_type: "ip", target: IP_B, label: "evil" },
        ]);
      } catch (err) {
        refused = (err as Error).message.includes("known_label");
      }
      assert(refused, "label 'evil' should violate CONSTRAINT known_label");
    });
  } finally {
    await storage.close();
  }
});

Deno.test("views: tops are exact and deterministic (ties → smallest value; '' never a top JA4)", async () => {
  const storage = await openTestStorage();
  try {
    const base = {
      src_ip: "192.0.2.77",
      src_port: 1,
      dst_ip: "192.0.2.1",
      dst_port: 443,
      method: "GET",
      path: "/",
      protocol: "HTTP/1.1",
      match_status: "matched",
    };
    await storage.insert("http_logs", [
      { ...base, ts: H_US, ja4: "t13d_b", user_agent: "ua-b" },
      { ...base, ts: H_US + 1, ja4: "t13d_a", user_agent: "ua-a" },
      { ...base, ts: H_US + 2, ja4: "", user_agent: "ua-b", match_status: "no_tls" },
      { ...base, ts: H_US + 3, ja4: "", user_agent: "ua-c", match_status: "no_tls" },
    ]);
    const [row] = await storage.query(
      "SELECT top_ja4, top_ja4h, top_ua, ja4_count, ua_count FROM view_ai_features_1h",
    );
    assertEquals(row, {
      top_ja4: "t13d_a",
      top_ja4h: "",
      top_ua: "ua-b",
      ja4_count: 2,
      ua_count: 3,
    });
  } finally {
    await storage.close();
  }
});
