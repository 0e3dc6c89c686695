/**
 * The engine end to end on hand-built captures: formats, chunking, link layers, tunnels,
 * IP, TCP reassembly, JA4T and JA4H.
 */
import { assert, assertEquals } from "../lib/testing.ts";
import { CaptureFormatError, type EngineRecord, loadEngine, pumpReads } from "./mod.ts";
import {
  ACK,
  CLIENT,
  clientHello,
  ether,
  ext,
  ipv4,
  ipv6,
  pcap,
  pcapng,
  PSH_ACK,
  SERVER,
  serverHello,
  SYN,
  SYN_ACK,
  tcp,
  tcpFrame,
  tlsRecord,
  u16,
  udp,
} from "./test_util.ts";
import { cryptoFrame, protectInitial } from "./assembly/quic/packet_test_util.ts";

/** ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3). */
const HRR_RANDOM = Uint8Array.from(
  "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c".match(/../g)!,
  (b) => parseInt(b, 16),
);

const engine = await loadEngine();

async function run(bytes: Uint8Array, chunk = bytes.length || 1): Promise<EngineRecord[]> {
  const s = await engine.createSession({ maxFlows: 64, reassemblySlabs: 16 });
  const out: EngineRecord[] = [];
  for (let o = 0; o < bytes.length; o += chunk) out.push(...s.push(bytes.subarray(o, o + chunk)));
  out.push(...s.finish());
  return out;
}

const HELLO = clientHello({
  ciphers: [0x1301, 0x1302],
  exts: [ext.sni("example.org"), ext.alpn("h2"), ext.supportedVersions(0x0304)],
});
const HELLO_JA4_A = "t13d0203h2";

/** SYN, SYN-ACK, then the ClientHello record in `parts` segments (client seq from 1000). */
function handshake(parts = 1, dport = 443): number[][] {
  const rec = tlsRecord(HELLO);
  const frames = [
    tcpFrame({ sport: 40000, dport, seq: 999, flags: SYN, options: [2, 4, 5, 180, 1, 3, 3, 7] }),
    tcpFrame({ sport: dport, dport: 40000, seq: 5000, flags: SYN_ACK }, true),
  ];
  const size = Math.ceil(rec.length / parts);
  for (let i = 0; i < parts; i++) {
    frames.push(
      tcpFrame({
        sport: 40000,
        dport,
        seq: 1000 + i * size,
        flags: PSH_ACK,
        payload: rec.subarray(i * size, (i + 1) * size),
      }),
    );
  }
  return frames;
}

Deno.test("pcap: little/big endian, micro/nanoseconds, every chunk split gives the same records", async () => {
  const frames = handshake(1);
  const want = await run(pcap(frames));
  assertEquals(want.map((r) => r.kind), ["syn", "client_hello"]);
  assertEquals(want[1].ja4?.slice(0, 10), HELLO_JA4_A);
  assertEquals(want[0].ts_us, 1700000000_000005);
  const be = await run(pcap(frames, { bigEndian: true }));
  assertEquals(be.map((r) => r.ja4 ?? r.ja4t), want.map((r) => r.ja4 ?? r.ja4t));
  const ns = await run(pcap(frames, { nanos: true }));
  assertEquals(ns[0].ts_us, 1700000000_000005);
  const bytes = pcap(frames);
  for (const chunk of [1, 2, 3, 7, 16, 17, 25, 100]) {
    const got = await run(bytes, chunk);
    assertEquals(
      got.map((r) => r.ja4 ?? r.ja4t),
      want.map((r) => r.ja4 ?? r.ja4t),
      `chunk ${chunk}`,
    );
  }
});

Deno.test("pcapng: interfaces with different link types and resolutions, EPB and SPB, skipped blocks", async () => {
  const eth = handshake(1);
  const raw = eth.map((f) => f.slice(14)); // strip Ethernet → raw IP
  const bytes = pcapng(
    [{ link: 1 }, { link: 101, tsresol: 9 }],
    [
      { iface: 0, frame: eth[0] },
      { iface: 1, frame: raw[1], ts: 1700000000_000000_001n },
      { iface: 1, frame: raw[2], simple: false, ts: 1700000000_000002_000n },
    ],
  );
  const recs = await run(bytes);
  assertEquals(recs.map((r) => r.kind), ["syn", "client_hello"]);
  assertEquals(recs[1].ts_us, 1700000000_000002);
  const spb = await run(pcapng([{ link: 1 }], [{ iface: 0, frame: eth[2], simple: true }]));
  assertEquals(spb.map((r) => r.kind), ["client_hello"]);
  for (const chunk of [1, 5, 13, 64]) {
    assertEquals((await run(bytes, chunk)).length, 2, `chunk ${chunk}`);
  }
});

Deno.test("capture errors: not a capture, cut short, impossible length — with byte offsets", async () => {
  const s = await engine.createSession();
  let err: unknown;
  try {
    s.push(new TextEncoder().encode("hello, not a pcap"));
  } catch (e) {
    err = e;
  }
  assert(err instanceof CaptureFormatError && err.kind === "not_a_capture" && err.offset === 0);
  const full = pcap(handshake(1));
  const cut = full.subarray(0, full.length - 10);
  const t = await engine.createSession();
  const found = t.push(cut);
  assertEquals(found.map((r) => r.kind), ["syn"]); // records before the cut are delivered
  try {
    t.finish();
    throw new Error("finish should throw");
  } catch (e) {
    assert(e instanceof CaptureFormatError && e.kind === "truncated", String(e));
    assertEquals(e.offset, full.length - 10 - (16 + handshake(1)[2].length - 10));
    assert(e.message.includes(`byte offset ${e.offset}`));
  }
  const bad = pcap(handshake(1));
  new DataView(bad.buffer).setUint32(24 + 8, 0x7fffffff, true);
  const u = await engine.createSession();
  try {
    u.push(bad);
    throw new Error("push should throw");
  } catch (e) {
    assert(e instanceof CaptureFormatError && e.kind === "bad_record" && e.offset === 24);
  }
  const empty = await engine.createSession();
  try {
    empty.finish();
    throw new Error("finish should throw");
  } catch (e) {
    assert(e instanceof CaptureFormatError && e.kind === "not_a_capture");
  }
});

Deno.test("links: VLAN, QinQ, SLL, SLL2, BSD null/loop, raw IPv4/IPv6", async () => {
  const ip = ipv4(CLIENT, SERVER, 6, tcp({ sport: 1, dport: 2, seq: 0, flags: SYN }));
  const cases: [number, number[]][] = [
    [1, ether(0x0800, ip, [[0x8100, 5]])],
    [1, ether(0x0800, ip, [[0x88a8, 5], [0x8100, 6]])],
    [113, [0, 0, 0, 1, 0, 6, ...new Array(8).fill(0), ...u16(0x0800), ...ip]],
    [276, [...u16(0x0800), 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, ...new Array(8).fill(0), ...ip]],
    [0, [2, 0, 0, 0, ...ip]],
    [108, [0, 0, 0, 2, ...ip]],
    [101, ip],
    [228, ip],
  ];
  for (const [link, frame] of cases) {
    const recs = await run(pcap([frame], { link }));
    assertEquals(recs.map((r) => r.kind), ["syn"], `link ${link}`);
  }
  const v6 = ipv6(
    [0x20, 1, 0xd, 0xb8, ...new Array(11).fill(0), 1],
    [0x20, 1, 0xd, 0xb8, ...new Array(11).fill(0), 2],
    6,
    tcp({ sport: 1, dport: 2, seq: 0, flags: SYN }),
    [{ type: 0, bytes: [0, 0, 1, 4, 0, 0, 0, 0] }, { type: 60, bytes: [0, 0, 1, 4, 0, 0, 0, 0] }],
  );
  const recs6 = await run(pcap([v6], { link: 229 }));
  assertEquals(recs6.map((r) => [r.kind, r.src, r.dst]), [["syn", "2001:db8::1", "2001:db8::2"]]);
});

Deno.test("tunnels: GRE, ERSPAN II/III, VXLAN and Geneve are decoded to the inner flow", async () => {
  const inner = ether(
    0x0800,
    ipv4(CLIENT, SERVER, 6, tcp({ sport: 1, dport: 2, seq: 0, flags: SYN })),
  );
  const innerIp = inner.slice(14);
  const outer = (proto: number, payload: number[]) =>
    ether(0x0800, ipv4([192, 0, 2, 1], [192, 0, 2, 2], proto, payload));
  const cases: [string, number[]][] = [
    ["gre ip", outer(47, [0, 0, ...u16(0x0800), ...innerIp])],
    ["gre key+teb", outer(47, [0x20, 0, ...u16(0x6558), 0, 0, 0, 9, ...inner])],
    [
      "erspan ii",
      outer(47, [0x10, 0, ...u16(0x88be), 0, 0, 0, 1, ...new Array(8).fill(0), ...inner]),
    ],
    [
      "erspan iii",
      outer(47, [0x10, 0, ...u16(0x22eb), 0, 0, 0, 1, ...new Array(12).fill(0), ...inner]),
    ],
    ["vxlan", outer(17, udp(5555, 4789, [8, 0, 0, 0, 0, 0, 1, 0, ...inner]))],
    ["geneve", outer(17, udp(5555, 6081, [0, 0, ...u16(0x6558), 0, 0, 1, 0, ...inner]))],
  ];
  for (const [name, frame] of cases) {
    const recs = await run(pcap([frame]));
    assertEquals(recs.map((r) => [r.kind, r.src, r.dst]), [["syn", "10.0.0.1", "10.0.0.2"]], name);
  }
});

Deno.test("ip: fragments never crash; IPv4 options are skipped", async () => {
  const seg = tcp({ sport: 1, dport: 2, seq: 0, flags: SYN });
  const frag = ether(0x0800, ipv4(CLIENT, SERVER, 6, seg, { frag: 0x0010 }));
  const withOpts = ether(0x0800, ipv4(CLIENT, SERVER, 6, seg, { options: [1, 1, 1, 0] }));
  const s = await engine.createSession();
  const recs = s.push(pcap([frag, withOpts]));
  assertEquals(recs.map((r) => r.kind), ["syn"]);
  assertEquals(s.stats().ip_fragments, 1);
});

Deno.test("ja4t: options in order, EOL padding listed, no options → 00, missing MSS/wscale → 00", async () => {
  const syn = (options: number[], window = 64240) =>
    run(pcap([tcpFrame({ sport: 1, dport: 2, seq: 0, flags: SYN, window, options })]));
  const mac = await syn([
    2,
    4,
    5,
    0x6a,
    1,
    3,
    3,
    6,
    1,
    1,
    8,
    10,
    ...new Array(8).fill(0),
    4,
    2,
    0,
    0,
  ]);
  assertEquals(mac[0].ja4t, "64240_2-1-3-1-1-8-4-0-0_1386_6");
  assertEquals([mac[0].tcp_window, mac[0].tcp_mss, mac[0].tcp_window_scale], [64240, 1386, 6]);
  assertEquals((await syn([]))[0].ja4t, "64240_00_00_00");
  const noMss = await syn([1, 1, 4, 2]);
  assertEquals(noMss[0].ja4t, "64240_1-1-4_00_00");
  assertEquals(noMss[0].tcp_window_scale, undefined);
  // A SYN-ACK is not a client SYN.
  assertEquals(await run(pcap([tcpFrame({ sport: 1, dport: 2, seq: 0, flags: SYN_ACK })])), []);
});

Deno.test("tcp: hello split over segments, out of order, retransmitted; any port", async () => {
  const want = HELLO_JA4_A;
  const split = handshake(4, 8443);
  const inOrder = await run(pcap(split));
  assertEquals(inOrder.filter((r) => r.kind === "client_hello").map((r) => r.ja4?.slice(0, 10)), [
    want,
  ]);
  const shuffled = [split[0], split[1], split[2], split[4], split[3], split[5]];
  const ooo = await run(pcap(shuffled));
  assertEquals(ooo.filter((r) => r.kind === "client_hello").length, 1);
  const retrans = [split[0], split[1], split[2], split[2], split[3], split[3], split[4], split[5]];
  const rt = await run(pcap(retrans));
  assertEquals(rt.filter((r) => r.kind === "client_hello").length, 1);
  // TCP Fast Open: the hello rides in the SYN.
  const tfo = await run(pcap([
    tcpFrame({ sport: 40001, dport: 443, seq: 77, flags: SYN, payload: tlsRecord(HELLO) }),
  ]));
  assertEquals(tfo.map((r) => r.kind), ["syn", "client_hello"]);
  // Capture started mid-connection: no SYN seen.
  const mid = await run(pcap(handshake(1, 993).slice(2)));
  assertEquals(mid.map((r) => r.kind), ["client_hello"]);
});

Deno.test("tcp: every ClientHello on a connection is reported (HelloRetryRequest)", async () => {
  const rec = tlsRecord(HELLO);
  const second = tlsRecord(
    clientHello({ ciphers: [0x1301], exts: [ext.supportedVersions(0x0304), ext.empty(0x0033)] }),
  );
  const ccs = [20, 3, 3, 0, 1, 1];
  const frames = [
    ...handshake(1).slice(0, 2),
    tcpFrame({ sport: 40000, dport: 443, seq: 1000, flags: PSH_ACK, payload: rec }),
    tcpFrame(
      {
        sport: 443,
        dport: 40000,
        seq: 5001,
        flags: PSH_ACK,
        payload: tlsRecord(serverHello({ cipher: 0x1301 })),
      },
      true,
    ),
    tcpFrame({
      sport: 40000,
      dport: 443,
      seq: 1000 + rec.length,
      flags: PSH_ACK,
      payload: [...ccs, ...second],
    }),
  ];
  const recs = await run(pcap(frames));
  assertEquals(recs.map((r) => r.kind), ["syn", "client_hello", "server_hello", "client_hello"]);
  assertEquals(recs[2].src, "10.0.0.2");
  assertEquals(recs[3].ja4?.slice(0, 10), "t13i010200");
});

Deno.test("quic: the second ClientHello after a HelloRetryRequest is reported too", async () => {
  const dcid = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const quicExts = [ext.supportedVersions(0x0304), ext.empty(0x0039)];
  const ch1 = clientHello({ ciphers: [0x1301, 0x1302], exts: [ext.alpn("h3"), ...quicExts] });
  const ch2 = clientHello({ ciphers: [0x1301], exts: [ext.alpn("h3"), ...quicExts] });
  const hrr = serverHello({ cipher: 0x1301, exts: [ext.supportedVersions(0x0304)] });
  hrr.set(HRR_RANDOM, 6); // after the header (4) and legacy_version (2)
  const sh = serverHello({ cipher: 0x1301, exts: [ext.supportedVersions(0x0304)] });
  const datagram = (fromServer: boolean, bytes: Uint8Array) => {
    const [s, d] = fromServer ? [SERVER, CLIENT] : [CLIENT, SERVER];
    const [sp, dp] = fromServer ? [443, 50000] : [50000, 443];
    return ether(0x0800, ipv4(s, d, 17, udp(sp, dp, [...bytes])));
  };
  const client = (pn: number, offset: number, msg: Uint8Array) =>
    datagram(false, protectInitial({ dcid, pn, frames: cryptoFrame(offset, msg), padTo: 1200 }));
  const server = (pn: number, offset: number, msg: Uint8Array) =>
    datagram(
      true,
      protectInitial({
        dcid: new Uint8Array(),
        keyDcid: dcid,
        pn,
        server: true,
        frames: cryptoFrame(offset, msg),
      }),
    );
  const recs = await run(pcap([
    client(0, 0, ch1),
    server(0, 0, hrr),
    client(1, ch1.length, ch2),
    server(1, hrr.length, sh),
  ]));
  assertEquals(recs.map((r) => r.kind), ["client_hello", "server_hello", "client_hello"]);
  assertEquals(recs.map((r) => r.ja4?.slice(0, 10)), ["q13i0203h3", undefined, "q13i0103h3"]);
  assertEquals(recs[2].src, "10.0.0.1");
});

Deno.test("pumpReads: the next chunk read into the other input area while one decodes", async () => {
  const frames: number[][] = [];
  for (let port = 40000; port < 40040; port++) frames.push(...handshake(3, 443).map((f) => f));
  const bytes = pcap(frames);
  const whole = await run(bytes);
  for (const [chunkBytes, readMax] of [[100, 37], [4096, 4096], [777, 10_000]]) {
    const s = await engine.createSession({ maxFlows: 64, reassemblySlabs: 16 });
    let at = 0;
    // Each read completes at once, so the area for the next chunk is already written
    // while the current one is still to be decoded: areas must not overlap.
    const read = (view: Uint8Array) => {
      const n = Math.min(view.length, readMax, bytes.length - at);
      if (n === 0) return Promise.resolve(null);
      view.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    };
    const got: EngineRecord[] = [];
    const sizes: number[] = [];
    const total = await pumpReads(
      s,
      read,
      chunkBytes,
      (n, onFed) => s.commit(n, onFed),
      (records, soFar) => {
        got.push(...records);
        sizes.push(soFar);
      },
    );
    got.push(...s.finish());
    assertEquals(total, bytes.length);
    assertEquals(sizes.at(-1), bytes.length);
    assertEquals(got, whole, `${chunkBytes}-byte chunks, reads of at most ${readMax}`);
  }
});

Deno.test("pumpReads: a capture error surfaces after the records before it, reads settle", async () => {
  const good = pcap(handshake(1));
  const bad = new Uint8Array([...good, ...new Uint8Array(16).fill(0xff), ...new Uint8Array(9000)]);
  const s = await engine.createSession({ maxFlows: 64, reassemblySlabs: 16 });
  let at = 0;
  const read = (view: Uint8Array) => {
    const n = Math.min(view.length, bad.length - at);
    view.set(bad.subarray(at, at + n));
    at += n;
    return Promise.resolve(n === 0 ? null : n);
  };
  const got: EngineRecord[] = [];
  let error: unknown;
  try {
    await pumpReads(s, read, 256, (n, onFed) => s.commit(n, onFed), (rs) => {
      got.push(...rs);
    });
    s.finish();
  } catch (err) {
    error = err;
  }
  assert(error instanceof CaptureFormatError, `expected a CaptureFormatError, got ${error}`);
  assertEquals(error.kind, "bad_record");
  assertEquals(got.map((r) => r.kind), ["syn", "client_hello"]);
});

Deno.test("tcp: bounded memory — a flood of flows evicts, oversized streams are abandoned", async () => {
  const s = await engine.createSession({ maxFlows: 8, reassemblySlabs: 2 });
  const memoryAtStart = s.stats().memory_bytes;
  const frames: number[][] = [];
  for (let i = 0; i < 50; i++) {
    // Half a hello each: every flow wants a reassembly buffer.
    frames.push(
      tcpFrame({
        sport: 20000 + i,
        dport: 443,
        seq: 1,
        flags: PSH_ACK,
        payload: tlsRecord(HELLO).subarray(0, 40),
      }),
    );
  }
  s.push(pcap(frames));
  const st = s.stats();
  assertEquals(st.flows_active, 8);
  assertEquals(st.flows_evicted, 42);
  assert(st.slabs_in_use <= 2);
  assert(st.reassembly_dropped > 0);
  // Everything was allocated at session creation: decoding never grows wasm memory.
  s.push(pcap(handshake(3)).subarray(24));
  assertEquals(s.stats().memory_bytes, memoryAtStart);
});

Deno.test("ja4h: cookies sorted by name, Referer by name, pseudo-headers dropped, 99 cap, keep-alive", async () => {
  const req = (lines: string[], body = "") =>
    new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n${body}`);
  const a = req([
    "POST /x HTTP/1.1",
    "Host: h",
    "Cookie: b=2; a-b=3; a=1",
    "Referer: http://r/",
    "Accept-Language: en-US,en;q=0.9",
    "Content-Length: 4",
  ], "data");
  const b = req(["GET / HTTP/1.0", ":authority: h", "User-Agent: x"]);
  const frames = [
    tcpFrame({ sport: 5000, dport: 80, seq: 1, flags: PSH_ACK, payload: [...a, ...b] }),
  ];
  const recs = await run(pcap(frames));
  assertEquals(recs.map((r) => r.ja4h_r), [
    "po11cr03enus_Host,Accept-Language,Content-Length_a,a-b,b_a=1,a-b=3,b=2",
    "ge10nn010000_User-Agent__",
  ]);
  const many = req(["GET / HTTP/1.1", ...Array.from({ length: 120 }, (_, i) => `X-H${i}: v`)]);
  const capped = await run(
    pcap([tcpFrame({ sport: 5001, dport: 80, seq: 1, flags: ACK, payload: many })]),
  );
  assertEquals(capped[0].ja4h?.slice(0, 12), "ge11nn990000");
});

Deno.test("output: one packet with more records than the output buffer holds drops the excess, counted", async () => {
  // 43,690 pipelined requests in one 1 MiB segment: more records than 2 MiB of output.
  const req = new TextEncoder().encode("GET / HTTP/1.1\r\nA:b\r\n\r\n");
  const n = Math.floor((1 << 20) - 100) / req.length | 0;
  const payload = new Uint8Array(n * req.length);
  for (let i = 0; i < n; i++) payload.set(req, i * req.length);
  // Raw IPv4 (total length 0, as TSO captures show: the captured length counts) + TCP,
  // written into one classic pcap record (builders spread arrays: too large here).
  const head = [0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0, ...CLIENT, ...SERVER];
  const tcpHead = tcp({ sport: 7000, dport: 80, seq: 1, flags: PSH_ACK });
  const frameLen = head.length + tcpHead.length + payload.length;
  const file = new Uint8Array(24 + 16 + frameLen);
  file.set(pcap([], { link: 101 }));
  const dv = new DataView(file.buffer);
  dv.setUint32(24 + 8, frameLen, true);
  dv.setUint32(24 + 12, frameLen, true);
  file.set(head, 40);
  file.set(tcpHead, 40 + head.length);
  file.set(payload, 40 + head.length + tcpHead.length);
  const s = await engine.createSession({ maxFlows: 16, reassemblySlabs: 4 });
  const memory = s.stats().memory_bytes;
  const recs = s.push(file);
  const st = s.stats();
  assert(recs.length > 1000, `only ${recs.length} records`);
  assertEquals(recs.length + st.records_dropped, n);
  assert(st.records_dropped > 0);
  assertEquals(st.memory_bytes, memory);
  // The session goes on normally afterwards.
  assertEquals((await run(pcap(handshake(1)))).length, 2);
});
