/**
 * Seeded fuzzing of the engine in the suite (a few thousand deterministic cases), plus unit
 * tests of the fuzzer's own pieces: determinism, corpus splitting, mutation invariants,
 * the output-shape oracle and hang detection.
 */
import { assert, assertEquals, assertThrows } from "../lib/testing.ts";
import {
  caseSeed,
  checkRecord,
  findHellos,
  formatReport,
  FuzzFinding,
  generateCase,
  loadCorpus,
  MEMORY_CAP_BYTES,
  mutateInPlace,
  pcapFrames,
  pcapngBlocks,
  rng,
  runFuzz,
  syntheticHellos,
  toCorpusCapture,
} from "./fuzz.ts";
import { clientHello, ether, ipv4, pcap, pcapng, tcp, tlsRecord } from "./test_util.ts";
import type { EngineRecord } from "./mod.ts";

const CAPTURES = new URL("../../shared/conformance/foxio", import.meta.url).pathname;
const haveCaptures = await Deno.stat(CAPTURES).then(() => true, (err) => {
  if (err instanceof Deno.errors.NotFound) return false;
  throw err;
});
if (!haveCaptures) {
  console.warn(`fuzz_test: ${CAPTURES} is absent: fuzzing synthetic inputs only`);
}

/** The suite's fuzz run: fixed seed, so a failure reproduces with the printed command. */
const SUITE_SEED = 20261121;
const SUITE_CASES = 3000;

Deno.test({
  name:
    `seeded fuzz: ${SUITE_CASES} cases (seed ${SUITE_SEED}) finish without trap, bad output or memory growth`,
  // The worker is terminated by runFuzz; its engine compile is not a leak.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const report = await runFuzz({ cases: SUITE_CASES, seed: SUITE_SEED, timeoutMs: 60_000 });
    console.log(formatReport(report));
    assertEquals(
      report.failures.map((f) =>
        `${f.outcome} in case ${f.case} (${f.kind}): ${f.message} — ${f.reproduce}`
      ),
      [],
    );
    for (const [kind, n] of Object.entries(report.byKind)) assert(n > 0, `no ${kind} case ran`);
    assert(report.maxMemoryBytes > 0 && report.maxMemoryBytes <= MEMORY_CAP_BYTES);
    // The fuzz does real work: mutated inputs still produce fingerprints, QUIC ones too.
    assert(report.records > SUITE_CASES / 10, `only ${report.records} records`);
    assert(report.quicHellos > 0, "no QUIC ClientHello was fingerprinted");
    if (haveCaptures) assertEquals(report.capturesUsed > 10, true);
  },
});

Deno.test({
  name: "a case that never finishes is reported as a hang and the run goes on after it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const report = await runFuzz({ cases: 12, seed: 7, timeoutMs: 1500, hangAt: 5 });
    assertEquals(report.failures.map((f) => [f.outcome, f.case]), [["hang", 5]]);
    assertEquals(report.failures[0].reproduce, "deno task fuzz --seed 7 --from 5 --cases 1");
    // Cases 6..11 ran in a fresh worker after the hang.
    const ran = Object.values(report.byKind).reduce((a, b) => a + b, 0);
    assertEquals(ran, 11);
  },
});

Deno.test({
  name: "a stopped run reports the cases that finished",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const stop = new AbortController();
    const report = await runFuzz({
      cases: 1_000_000,
      seed: 11,
      signal: stop.signal,
      onProgress: (done) => {
        if (done >= 50) stop.abort();
      },
    });
    assert(report.cases >= 50 && report.cases < report.requested, `${report.cases} cases`);
    assertEquals(Object.values(report.byKind).reduce((a, b) => a + b, 0), report.cases);
    assertEquals(report.failures, []);
  },
});

Deno.test("cases are deterministic per (seed, index) and differ across indices", async () => {
  const corpus = await loadCorpus(CAPTURES);
  for (const i of [0, 1, 17, 999]) {
    const a = generateCase(42, i, corpus);
    const b = generateCase(42, i, corpus);
    assertEquals(a.kind, b.kind);
    assertEquals(a.bytes, b.bytes);
  }
  assert(caseSeed(42, 1) !== caseSeed(42, 2));
  assert(caseSeed(42, 1) !== caseSeed(43, 1));
  const r1 = rng(9);
  const r2 = rng(9);
  assertEquals([r1(), r1(), r1()], [r2(), r2(), r2()]);
});

Deno.test("pcap files become pcapng sections split into header and packet blocks", () => {
  const frame = ether(
    0x0800,
    ipv4([10, 0, 0, 1], [10, 0, 0, 2], 6, tcp({ sport: 1, dport: 443, seq: 1, flags: 0x18 })),
  );
  const classic = pcap([frame, frame, frame], { link: 1 });
  assertEquals(pcapFrames(classic)?.frames.length, 3);
  assertEquals(pcapFrames(new Uint8Array(30)), null);
  const c = toCorpusCapture("x.pcap", classic);
  assert(c !== null);
  assertEquals(c.packets.length, 3);
  assert(c.head.length >= 2, "SHB and IDB in the head");
  const ng = pcapng([{ link: 1 }, { link: 101 }], [{ iface: 0, frame }, {
    iface: 1,
    frame,
    simple: true,
  }]);
  const blocks = pcapngBlocks(ng);
  assertEquals(blocks.reduce((n, b) => n + b.length, 0), ng.length);
  assertEquals(toCorpusCapture("y.pcapng", ng)?.packets.length, 2);
  assertEquals(toCorpusCapture("junk", new Uint8Array(64)), null);
});

Deno.test("hellos are found inside TLS records of a capture", () => {
  const hello = clientHello({ ciphers: [0x1301, 0x1302], exts: [] });
  const data = new Uint8Array([9, 9, 9, ...tlsRecord(hello), 7, 7]);
  assertEquals(findHellos(data), [hello]);
  assert(syntheticHellos().some((h) => h[0] === 1) && syntheticHellos().some((h) => h[0] === 2));
});

Deno.test("in-place mutation keeps the length and leaves the protected prefix alone", () => {
  const r = rng(3);
  for (let i = 0; i < 200; i++) {
    const b = new Uint8Array(100).fill(0x55);
    mutateInPlace(r, b, 28, 8);
    assertEquals(b.length, 100);
    assert(b.subarray(0, 28).every((x) => x === 0x55), "bytes before `from` changed");
  }
});

Deno.test("the output oracle rejects malformed fingerprints and accepts real ones", () => {
  const base = {
    kind: "client_hello",
    flow: 1,
    ts_us: 0,
    transport: "tcp",
    src: "",
    src_port: 0,
    dst: "",
    dst_port: 0,
    ip_ttl: 0,
  } as const;
  const ok: EngineRecord = {
    ...base,
    ja4: "t13d1516h2_8daaf6152771_d8a2da3f94cd",
    ja3: "98487aa16281980e7d1120d399efb6a4",
  };
  checkRecord(ok);
  checkRecord({ ...ok, ja4: "q13d0310h3_55b375c5d22e_cd85d2d88918" });
  assertThrows(
    () => checkRecord({ ...ok, ja4: "t13d1516h\u0001_8daaf6152771_d8a2da3f94cd" }),
    FuzzFinding,
  );
  assertThrows(
    () => checkRecord({ ...ok, ja4: "t13d1516h2_8daaf615277_d8a2da3f94cd" }),
    FuzzFinding,
  );
  assertThrows(() => checkRecord({ ...ok, ja3: "xyz" }), FuzzFinding);
  assertThrows(() => checkRecord({ ...ok, ja4: undefined }), FuzzFinding);
});
