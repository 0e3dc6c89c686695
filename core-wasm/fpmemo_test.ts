/**
 * The fingerprint memo (assembly/fpmemo.ts) is invisible in the output: sessions with the
 * memo on and off give identical records, on the conformance captures and across
 * dictionary clears (the memo keeps dictionary indices, which restart after a clear).
 */
import { assert, assertEquals } from "../lib/testing.ts";
import { type EngineRecord, loadEngine } from "./mod.ts";
import { clientHello, ext, pcap, PSH_ACK, tcpFrame, tlsRecord } from "./test_util.ts";

const engine = await loadEngine();
const DIR = new URL("../../shared/conformance/foxio/", import.meta.url);
const present = await Deno.stat(DIR).then(() => true, () => false);

async function records(bytes: Uint8Array, memo: boolean): Promise<EngineRecord[]> {
  const s = await engine.createSession({
    maxFlows: 4096,
    reassemblySlabs: 64,
    fingerprintMemo: memo,
  });
  const out = s.push(bytes);
  out.push(...s.finish());
  return out;
}

Deno.test({
  name: "fpmemo: every conformance capture gives the same records with the memo on and off",
  ignore: !present,
  async fn() {
    const files = [...Deno.readDirSync(DIR)].map((e) => e.name)
      .filter((n) => !n.endsWith(".json")).sort();
    let hellos = 0;
    for (const name of files) {
      const bytes = await Deno.readFile(new URL(name, DIR));
      const off = await records(bytes, false);
      const on = await records(bytes, true);
      assertEquals(on, off, name);
      hellos += on.filter((r) => r.kind === "client_hello" || r.kind === "server_hello").length;
    }
    assert(hellos > 100, `only ${hellos} hellos in the conformance captures`);
  },
});

// A few TLS stacks, each with its own cipher list and extension order.
const STACKS = [
  [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f],
  [0x1302, 0x1301, 0xc030, 0x009c],
  [0xc02b, 0x0a0a, 0xc02c, 0x002f, 0x0035], // GREASE in the list: stripped before the key
  [0x1301],
  [0x1303, 0x1301],
];

function hello(i: number): Uint8Array {
  const ciphers = STACKS[i % STACKS.length];
  const exts = [
    ext.sni(`host-${i}.example`), // one new dictionary string per hello
    ext.alpn(i % 2 ? "h2" : "http/1.1"),
    ext.sigAlgs(0x0403, 0x0804),
    ext.groups(0x001d, 0x0017),
    ext.supportedVersions(0x0304, 0x0303),
  ];
  if (i % 3 === 0) exts.reverse(); // original order differs: ja4_o / ja3 change
  return clientHello({ ciphers, exts });
}

Deno.test("fpmemo: references stay right across dictionary clears (70,000 hellos, one connection)", async () => {
  // Every record carries a distinct SNI, so the dictionary (65,536 entries) fills and
  // restarts while the memo still holds indices of the earlier generation.
  const n = 70_000;
  const frames: number[][] = [];
  let seq = 1000;
  for (let i = 0; i < n; i++) {
    const payload = tlsRecord(hello(i));
    frames.push(tcpFrame({ sport: 40000, dport: 443, seq, flags: PSH_ACK, payload }));
    seq += payload.length;
  }
  const bytes = pcap(frames);
  const on = await records(bytes, true);
  const off = await records(bytes, false);
  assertEquals(on.length, n);
  assertEquals(off.length, n);
  for (let i = 0; i < n; i++) {
    if (on[i].ja4 !== off[i].ja4 || on[i].ja3_full !== off[i].ja3_full) {
      assertEquals(on[i], off[i], `record ${i}`);
    }
  }
  assertEquals(on, off);
  // Spot-check against a stand-alone fingerprint of the same message.
  for (const i of [0, 1, 65_535, 65_536, 69_999]) {
    const ref = await engine.fingerprintHandshake(hello(i));
    assert(ref);
    for (const k of ["ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full"] as const) {
      assertEquals(on[i][k], ref[k], `record ${i} ${k}`);
    }
    assertEquals(on[i].tls_server_name, `host-${i}.example`);
  }
});

Deno.test("fpmemo: the hot-path benchmark succeeds the same with and without the memo", async () => {
  const m = hello(123_457); // a hello this engine's tool instance has not fingerprinted
  assertEquals(await engine.benchClientHello(m, 50, { memo: false }), 50);
  assertEquals(await engine.benchClientHello(m, 50, { memo: true }), 50);
  // The benchmark's records never reach the host: fingerprints after it must still be
  // whole strings, not references to literals the host never saw.
  const after = await engine.fingerprintHandshake(m);
  assert(after?.ja4?.length === 36, `ja4 after the benchmark: '${after?.ja4}'`);
  const session = await engine.createSession();
  const [fresh] = session.push(pcap([tcpFrame({
    sport: 40000,
    dport: 443,
    seq: 1,
    flags: PSH_ACK,
    payload: tlsRecord(m),
  })]));
  for (const k of ["ja4", "ja4_r", "ja3", "ja3_full"] as const) assertEquals(after[k], fresh[k], k);
});
