/**
 * `ja4 fingerprint` as a user runs it (a subprocess of main.ts): output formats, stdin,
 * and the error contract for inputs that are not captures or are cut short.
 */
import { assert, assertEquals, assertMatch } from "../lib/testing.ts";
import {
  CONNECTION_FIELDS,
  type ConnectionRecord,
  ConnectionTable,
  csvLine,
  isoMicros,
  jsonLine,
} from "./connections.ts";
import { mergeByPacket } from "./fingerprint_command.ts";
import type { EngineRecord } from "./loader.ts";
import { clientHello, ext, pcap, PSH_ACK, SYN, tcpFrame, tlsRecord } from "./test_util.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function cli(args: string[], stdin?: Uint8Array) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "fingerprint", ...args],
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

const CAPTURE = pcap([
  tcpFrame({ sport: 40000, dport: 443, seq: 9, flags: SYN, options: [2, 4, 5, 180] }),
  tcpFrame({
    sport: 40000,
    dport: 443,
    seq: 10,
    flags: PSH_ACK,
    payload: tlsRecord(clientHello({ ciphers: [0x1301], exts: [ext.sni("a.example")] })),
  }),
]);

async function tempFile(bytes: Uint8Array): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".pcap" });
  await Deno.writeFile(path, bytes);
  return path;
}

Deno.test("fingerprint: jsonl, csv and table from a file and from stdin", async () => {
  const path = await tempFile(CAPTURE);
  try {
    const jsonl = await cli([path]);
    assertEquals(jsonl.code, 0, jsonl.stderr);
    const rec = JSON.parse(jsonl.stdout.trim());
    assertEquals(rec.src, "10.0.0.1");
    assertEquals(rec.dst_port, 443);
    assertEquals(rec.tls_server_name, "a.example");
    assertEquals(rec.ja4t, "65535_2_1460_00");
    assertMatch(rec.ja4, /^t12d010100_/);
    assertMatch(rec.timestamp, /^2023-11-14T22:13:2\d\.\d{6}Z$/);
    const csv = await cli(["--format", "csv", path]);
    const lines = csv.stdout.trim().split("\n");
    assertEquals(lines[0].split(",").slice(0, 3), ["timestamp", "transport", "src"]);
    assertEquals(lines.length, 2);
    const table = await cli(["--format", "table", path]);
    assertMatch(table.stdout, /^transport\s+src\s+src_port/);
    const stdin = await cli(["-"], CAPTURE);
    assertEquals(JSON.parse(stdin.stdout.trim()).ja4, rec.ja4);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("fingerprint: a cut-short capture prints what was found, names the offset, exits 1", async () => {
  const path = await tempFile(CAPTURE.subarray(0, CAPTURE.length - 7));
  const junk = await tempFile(new TextEncoder().encode("{ not a capture }"));
  try {
    const cut = await cli([path]);
    assertEquals(cut.code, 1);
    assertEquals(JSON.parse(cut.stdout.trim()).ja4t, "65535_2_1460_00");
    assertMatch(cut.stderr, /cut short: the record at byte offset \d+ is incomplete/);
    const bad = await cli([junk]);
    assertEquals(bad.code, 1);
    assertEquals(bad.stdout, "");
    assertMatch(
      bad.stderr,
      /not a pcap or pcapng capture: unknown magic 0x[0-9a-f]{8} at byte offset 0/,
    );
    const usage = await cli(["--format", "xml", path]);
    assertEquals(usage.code, 2);
    const missing = await cli(["/nonexistent/x.pcap"]);
    assertEquals(missing.code, 1);
    assertMatch(missing.stderr, /cannot open/);
  } finally {
    await Deno.remove(path);
    await Deno.remove(junk);
  }
});

Deno.test("fingerprint: a corrupt record mid-file keeps every connection before it", async () => {
  // The bad record sits in the same read chunk as the good ones: they must still print,
  // one file and with --workers 2.
  const bad = new Uint8Array(16 + 64);
  new DataView(bad.buffer).setUint32(8, 0x7fffffff, true); // impossible captured length
  const path = await tempFile(new Uint8Array([...CAPTURE, ...bad]));
  try {
    for (const args of [[path], ["--workers", "2", path]]) {
      const out = await cli(args);
      assertEquals(out.code, 1, args.join(" "));
      assertEquals(JSON.parse(out.stdout.trim()).tls_server_name, "a.example");
      assertMatch(
        out.stderr,
        new RegExp(`record or block at byte offset ${CAPTURE.length} has an impossible length`),
      );
    }
  } finally {
    await Deno.remove(path);
  }
});

function rec(partial: Partial<EngineRecord>): EngineRecord {
  return {
    kind: "client_hello",
    flow: 1,
    ts_us: 1_700_000_000_000_001,
    transport: "tcp",
    src: "10.0.0.1",
    src_port: 1000,
    dst: "10.0.0.2",
    dst_port: 443,
    ip_ttl: 64,
    ...partial,
  };
}

Deno.test("connections: one record per connection, oriented client → server, first hello kept", () => {
  const t = new ConnectionTable();
  // The server's hello seen first (capture started late): orientation comes from it,
  // then the client's records confirm it.
  t.add(
    rec({
      kind: "server_hello",
      src: "10.0.0.2",
      src_port: 443,
      dst: "10.0.0.1",
      dst_port: 1000,
      ja4s: "S",
    }),
  );
  t.add(rec({ ja4: "A", ja3: "J" }));
  t.add(rec({ ja4: "B" })); // HelloRetryRequest's second hello
  t.add(rec({ kind: "http_request", ja4h: "H1" }));
  t.add(rec({ kind: "http_request", ja4h: "H2" }));
  t.add(rec({ flow: 2, transport: "quic", ja4: "Q" }));
  const [tcp, udp] = t.list();
  assertEquals(
    [tcp.src, tcp.src_port, tcp.dst, tcp.ja4, tcp.ja3, tcp.ja4s, tcp.ja4h],
    ["10.0.0.1", 1000, "10.0.0.2", "A", "J", "S", ["H1", "H2"]],
  );
  assertEquals([udp.transport, udp.ja4], ["udp", "Q"]);
  assertEquals(isoMicros(1_700_000_000_000_001), "2023-11-14T22:13:20.000001Z");
  // Idle connections leave the table (streamed output); active ones stay.
  const idle = new ConnectionTable();
  // Records arrive in capture order.
  idle.add(rec({ flow: 7, ts_us: 1_000_000, ja4: "old" }));
  idle.add(rec({ flow: 8, ts_us: 1_500_000, ja4: "new" }));
  idle.add(rec({ flow: 7, ts_us: 2_000_000, kind: "http_request", ja4h: "H" }));
  idle.add(rec({ flow: 8, ts_us: 9_000_000, kind: "http_request", ja4h: "H8" }));
  assertEquals(idle.takeIdle(9_000_000, 5_000_000).map((c) => [c.ja4, c.ja4h]), [["old", ["H"]]]);
  assertEquals(idle.list().map((c) => c.ja4), ["new"]);
  assert(csvLine({ ...udp, tls_server_name: 'a,"b"' }).includes('"a,""b"""'));
});

Deno.test("connections: with finishHandshakes a TLS connection is out once both hellos are in", () => {
  const t = new ConnectionTable({ finishHandshakes: true });
  t.add(rec({ kind: "syn", ts_us: 1_000, ja4t: "T" }));
  t.add(rec({ ts_us: 2_000, ja4: "A" }));
  assertEquals(t.takeFinished(), []);
  t.add(rec({ kind: "server_hello", ts_us: 3_000, src: "10.0.0.2", dst: "10.0.0.1", ja4s: "S" }));
  t.add(rec({ flow: 2, ts_us: 3_500, transport: "quic", ja4: "Q" })); // still in progress
  const [done] = t.takeFinished();
  assertEquals([done.ja4t, done.ja4, done.ja4s, done.src], ["T", "A", "S", "10.0.0.1"]);
  assertEquals(t.size, 1);
  // A HelloRetryRequest's second ClientHello is not a new connection.
  t.add(rec({ ts_us: 4_000, ja4: "B" }));
  assertEquals(t.takeFinished(), []);
  assertEquals(t.list().map((c) => c.ja4), ["Q"]);
  // Finished flows are forgotten once idle: a record after that is a new connection.
  assertEquals(t.takeIdle(10_000_000, 1_000_000).map((c) => c.ja4), ["Q"]);
  t.add(rec({ ts_us: 10_000_001, kind: "http_request", ja4h: "H" }));
  assertEquals(t.list().map((c) => c.ja4h), [["H"]]);
  // list() also hands over finished connections not taken yet.
  t.add(rec({ flow: 3, ts_us: 10_000_002, ja4: "C" }));
  t.add(rec({ flow: 3, ts_us: 10_000_003, kind: "server_hello", ja4s: "S3" }));
  assertEquals(t.list().map((c) => c.ja4 ?? c.ja4h), ["C", ["H"]]);
  // With a key log in the capture, TLS connections may still decrypt to requests.
  const k = new ConnectionTable({ finishHandshakes: true });
  k.keyLogSeen();
  k.add(rec({ ja4: "A" }));
  k.add(rec({ kind: "server_hello", ja4s: "S" }));
  k.add(rec({ kind: "http_request", ja4h: "H2" }));
  assertEquals(k.takeFinished(), []);
  assertEquals(k.list().map((c) => [c.ja4, c.ja4s, c.ja4h]), [["A", "S", ["H2"]]]);
  // Without the option nothing finishes early.
  const plain = new ConnectionTable();
  plain.add(rec({ ja4: "A" }));
  plain.add(rec({ kind: "server_hello", ja4s: "S" }));
  assertEquals(plain.takeFinished(), []);
  assertEquals(plain.size, 1);
});

Deno.test("jsonLine: the text of JSON.stringify in field order, unusual strings escaped", () => {
  const ordered = (c: ConnectionRecord) =>
    JSON.stringify(
      Object.fromEntries(
        CONNECTION_FIELDS.filter((k) => c[k] !== undefined).map((k) => [k, c[k]]),
      ),
    );
  const base: ConnectionRecord = {
    timestamp: isoMicros(1_700_000_000_123_456),
    transport: "tcp",
    src: "2001:db8::1",
    src_port: 51000,
    dst: "10.0.0.2",
    dst_port: 443,
  };
  const odd = ['a"b', "back\\slash", "tab\t", "ünïcödé", "\u0001ctl", "emoji 🛡", "</script>", ""];
  const cases: ConnectionRecord[] = [
    base,
    { ...base, transport: "udp", ja4: "q13d0310h3_55b375c5d22e_cd85d2d88918" },
    { ...base, ja4t: "64240_2-4-8-1-3_1460_7", ja4h: ["ge11nn05enus_a_b_c", "po11cr04"] },
    ...odd.map((sni) => ({ ...base, tls_server_name: sni, ja4s: "t130200_1301_234ea6891581" })),
    {
      ...base,
      tls_server_name: "x",
      ja4: "a",
      ja4_r: "b",
      ja4_o: "c",
      ja4_ro: "d",
      ja3: "e",
      ja3_full: "771,4865-4866,0-23,29,0",
      ja4s: "f",
      ja3s: "g",
      ja4t: "h",
      ja4h: [],
    },
  ];
  for (const c of cases) assertEquals(jsonLine(c), ordered(c));
  // Key order of the object does not matter: the line follows CONNECTION_FIELDS.
  const shuffled = { ja4s: "S", ...base, ja4: "A" } as ConnectionRecord;
  assertEquals(jsonLine(shuffled), ordered(shuffled));
});

Deno.test("isoMicros: the date part is cached per second, microseconds exact", () => {
  const at = (us: number) => isoMicros(us);
  assertEquals(at(1_700_000_000_999_999), "2023-11-14T22:13:20.999999Z");
  assertEquals(at(1_700_000_001_000_000), "2023-11-14T22:13:21.000000Z");
  assertEquals(at(1_700_000_000_000_000), "2023-11-14T22:13:20.000000Z"); // going back
  assertEquals(at(0), "1970-01-01T00:00:00.000000Z");
  assertEquals(at(1_704_067_199_500_000), "2023-12-31T23:59:59.500000Z");
  for (let us = 1_700_000_000_000_000; us < 1_700_000_003_000_000; us += 123_457) {
    const d = new Date(Math.floor(us / 1000)).toISOString().slice(0, -1);
    assertEquals(at(us), `${d}${String(us % 1000).padStart(3, "0")}Z`);
  }
});

const FOXIO = new URL("../../shared/conformance/foxio/", import.meta.url);
const foxioPresent = await Deno.stat(FOXIO).then(() => true, () => false);

Deno.test({
  name: "fingerprint --workers 3: the same output as one worker on every conformance capture",
  ignore: !foxioPresent,
  async fn() {
    const files = [...Deno.readDirSync(FOXIO)].map((e) => e.name)
      .filter((n) => !n.endsWith(".json")).sort().map((n) => new URL(n, FOXIO).pathname);
    const one = await cli(files);
    const three = await cli(["--workers", "3", ...files]);
    assertEquals(one.code, 0, one.stderr);
    assertEquals(three.code, 0, three.stderr);
    assert(one.stdout.split("\n").length > 100, "too few connections to compare");
    assertEquals(three.stdout, one.stdout);
  },
});

Deno.test("fingerprint --workers 2: cut-short and junk inputs keep the error contract", async () => {
  // Two connections so both shards may own one; the second is cut short.
  const second = pcap([
    tcpFrame({ sport: 40001, dport: 443, seq: 9, flags: SYN, options: [2, 4, 5, 180] }),
  ]).subarray(24);
  const whole = new Uint8Array([...CAPTURE, ...second]);
  const path = await tempFile(whole.subarray(0, whole.length - 7));
  const junk = await tempFile(new TextEncoder().encode("{ not a capture }"));
  try {
    const cut = await cli(["--workers", "2", path]);
    assertEquals(cut.code, 1);
    assertEquals(cut.stdout.trim().split("\n").length, 1);
    assertEquals(JSON.parse(cut.stdout.trim()).ja4t, "65535_2_1460_00");
    assertMatch(cut.stderr, /cut short: the record at byte offset \d+ is incomplete/);
    const bad = await cli(["-w", "2", junk]);
    assertEquals(bad.code, 1);
    assertEquals(bad.stdout, "");
    assertMatch(bad.stderr, /not a pcap or pcapng capture: unknown magic/);
    for (const n of ["0", "x", "1.5"]) {
      assertEquals((await cli(["--workers", n, path])).code, 2, `--workers ${n}`);
    }
  } finally {
    await Deno.remove(path);
    await Deno.remove(junk);
  }
});

Deno.test("mergeByPacket: per-shard lists in capture order merge into capture order", () => {
  const a = [rec({ packet: 1 }), rec({ packet: 4 }), rec({ packet: 4, ja4: "second" })];
  const b = [rec({ packet: 2 }), rec({ packet: 3 }), rec({ packet: 9 })];
  const merged = mergeByPacket([a, b, []]);
  assertEquals(merged.map((r) => r.packet), [1, 2, 3, 4, 4, 9]);
  assertEquals(merged[4].ja4, "second"); // records of one packet keep their order
  assertEquals(mergeByPacket([a]), a);
});
