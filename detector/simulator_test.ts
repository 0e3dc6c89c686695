import { assert, assertEquals } from "../lib/testing.ts";
import {
  BOT_SCENARIOS,
  FALLBACK_BROWSER_JA4S,
  loadBrowserJa4s,
  rawEvents,
  simulate,
} from "./simulator.ts";

const CONFORMANCE = new URL("../../shared/conformance/foxio/", import.meta.url).pathname;
const hasShared = await Deno.stat(CONFORMANCE).then(() => true, () => false);

Deno.test("browser JA4s fall back to the built-in list when the directory is absent", async () => {
  const { ja4s, source } = await loadBrowserJa4s("/nonexistent/conformance");
  assertEquals(source, "built-in fallback");
  assertEquals(ja4s, [...FALLBACK_BROWSER_JA4S]);
});

Deno.test({
  name: "browser JA4s are read from the conformance records (needs ../shared)",
  ignore: !hasShared,
  fn: async () => {
    const { ja4s, source } = await loadBrowserJa4s(CONFORMANCE);
    assertEquals(source, CONFORMANCE);
    assert(ja4s.length > 0 && ja4s.every((j) => /^[tq]13d\d{4}h[23]_/.test(j)), ja4s.join());
  },
});
if (!hasShared) console.warn(`skipping conformance JA4 test: ${CONFORMANCE} is absent`);

Deno.test("simulation is deterministic, labelled and covers every scenario", () => {
  const opts = { benign: 300, bots: 60, seed: 9, browserJa4s: FALLBACK_BROWSER_JA4S };
  const a = simulate(opts), b = simulate(opts);
  assertEquals(a.rows, b.rows);
  assertEquals(a.labels.reduce((x, y) => x + y, 0), 60);
  for (const s of BOT_SCENARIOS) assert(a.scenario.includes(s), `${s} missing`);
  a.labels.forEach((label, i) => {
    assertEquals(a.scenario[i].startsWith("benign:"), label === 0, a.scenario[i]);
  });
});

Deno.test("raw events: requests per IP-hour with the row's JA4 and UA, handshakes when known", () => {
  const sim = simulate({ benign: 20, bots: 6, seed: 2, browserJa4s: FALLBACK_BROWSER_JA4S });
  const { http, tls } = rawEvents(sim.rows, 2);
  assert(http.length >= 2 * sim.rows.length);
  const ips = new Set(http.map((h) => h.src_ip));
  assertEquals(ips.size, new Set(sim.rows.map((r) => r.src_ip)).size);
  const withTls = sim.rows.filter((r) => r.true_window_size !== null).length;
  assertEquals(tls.length, withTls);
  assert(http.every((h) => typeof h.ts === "number" && typeof h.path === "string"));
});
