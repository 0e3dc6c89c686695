/**
 * Robustness fuzzing of the fingerprint engine through its public loader API.
 *
 * `deno task fuzz [--cases N] [--seed S] [--from I] [--timeout-ms T] [--out DIR]` runs N
 * deterministic cases (case i of seed S is always the same input) in a worker that a
 * supervisor watches: a case that throws, traps, emits a malformed fingerprint or grows
 * wasm memory past the cap is a crash; a case that does not finish within T ms is a hang
 * (the worker is killed and restarted after it). Each failure is written to
 * `DIR/crash-S-I.json` with the input bytes and the command that reproduces it.
 *
 * Case kinds (weights in {@link KIND_WEIGHTS}):
 * - `section`: a window of packets of a conformance capture (../shared/conformance/foxio,
 *   or synthetic hellos when it is absent) as a pcapng section, packets mutated in place,
 *   dropped, duplicated or reordered, pushed in random chunk sizes into a long-lived
 *   session (so flow tables fill and evict across cases);
 * - `quic`: ClientHellos (PQ-sized ones too) split into shuffled CRYPTO frames over 1-3
 *   Initial packets sealed with real keys, sometimes garbage frames sealed in, sometimes
 *   bits flipped after sealing, server Initials, all inside Ethernet/IPv4/UDP;
 * - `hello`: mutated ClientHello/ServerHello messages through `fingerprintHandshake`;
 * - `framing`: whole capture files with corrupted framing, or random bytes, in a fresh
 *   session (a CaptureFormatError is the expected outcome there).
 *
 * @example
 * ```ts
 * const report = await runFuzz({ cases: 2000, seed: 1 });
 * if (report.failures.length) console.error(report.failures[0].reproduce);
 * ```
 */
import { parseFlags } from "../lib/cli.ts";
import { Ja4Error } from "../lib/errors.ts";
import { createRng } from "../lib/random.ts";
import {
  CaptureFormatError,
  type Engine,
  type EngineRecord,
  loadEngine,
  type Session,
} from "./mod.ts";
import {
  CLIENT,
  clientHello,
  ether,
  ext,
  ipv4,
  pcapng,
  SERVER,
  serverHello,
  udp,
} from "./test_util.ts";
import { concat, cryptoFrame, protectInitial, varint } from "./assembly/quic/packet_test_util.ts";

/** The fuzz run itself failed to start (not a finding about the engine). */
export class FuzzError extends Ja4Error {}

/** The engine produced bad output or grew its memory past the cap: a finding. */
export class FuzzFinding extends Ja4Error {}

/** Kinds of generated cases. */
export type CaseKind = "section" | "quic" | "hello" | "framing";

/** Relative frequency of each kind. `framing` needs a fresh engine instance per case: rare. */
export const KIND_WEIGHTS: Record<CaseKind, number> = {
  section: 45,
  quic: 25,
  hello: 25,
  framing: 5,
};

/**
 * wasm memory of any fuzz session may never exceed this (the engine allocates its tables
 * at session start; the product's whole-process RSS target is 200 MB).
 */
export const MEMORY_CAP_BYTES = 160 * 1024 * 1024;
/**
 * After its first case, the long-lived session's memory may grow by at most this much
 * (tables some modules take on first use, e.g. the 2 MiB digest memo); any more growth
 * while inputs keep coming is a finding: memory must not scale with the traffic.
 */
export const MEMORY_GROWTH_BYTES = 4 * 1024 * 1024;

const SESSION_OPTIONS = { maxFlows: 4096, reassemblySlabs: 256, quicStates: 256 };
const WORKER_NAME = "ja4-fuzz-worker";

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  cases: number;
  seed: number;
  /** First case index (to replay one case: `from: i, cases: 1`). */
  from?: number;
  /** A case running longer than this is a hang. Default 20 s. */
  timeoutMs?: number;
  /** Where crash files go; none are written when absent. */
  outDir?: string;
  /** Directory of conformance captures; defaults to ../shared/conformance/foxio. */
  capturesDir?: string;
  /** Called about every second with progress. */
  onProgress?: (done: number, total: number) => void;
  /** Test hook: the worker spins forever at this case index (checks hang detection). */
  hangAt?: number;
  /** Stops the run early (Ctrl-C): the report then covers the cases that finished. */
  signal?: AbortSignal;
}

/** One crash or hang. */
export interface FuzzFailure {
  seed: number;
  case: number;
  kind: CaseKind | "unknown";
  outcome: "crash" | "hang";
  message: string;
  /** Shell command that replays exactly this case. */
  reproduce: string;
  /** Input bytes of the case (base64), when known. */
  input_b64?: string;
}

/** Totals of a run. */
export interface FuzzReport {
  seed: number;
  from: number;
  /** Cases that ran (fewer than requested when the run was stopped). */
  cases: number;
  requested: number;
  seconds: number;
  casesPerSecond: number;
  /** Cases run per kind (hung cases excluded). */
  byKind: Record<CaseKind, number>;
  /** Counters below are as of each worker's last tally (every 500 cases, and at its end). */
  records: number;
  quicHellos: number;
  captureErrors: number;
  maxMemoryBytes: number;
  capturesUsed: number;
  failures: FuzzFailure[];
}

// ---------------------------------------------------------------------------------------
// Deterministic randomness: case i of seed s depends on (s, i) only.

/** Unsigned 32-bit numbers from `seed` (lib/random.ts). */
export function rng(seed: number): () => number {
  return createRng(seed).u32;
}

/** Seed of case `index` in run `seed`. */
export function caseSeed(seed: number, index: number): number {
  return rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0)();
}

type Rand = () => number;
const below = (r: Rand, n: number) => (n <= 0 ? 0 : r() % n);
const chance = (r: Rand, p: number) => r() / 4294967296 < p;
const pick = <T>(r: Rand, a: readonly T[]) => a[below(r, a.length)];

function pickKind(r: Rand): CaseKind {
  const total = Object.values(KIND_WEIGHTS).reduce((a, b) => a + b, 0);
  let x = below(r, total);
  for (const [k, w] of Object.entries(KIND_WEIGHTS) as [CaseKind, number][]) {
    if (x < w) return k;
    x -= w;
  }
  return "section";
}

// ---------------------------------------------------------------------------------------
// Corpus: conformance captures split into pcapng blocks, and handshake messages.

/** A capture as one pcapng section: header blocks and packet blocks (EPB/SPB/OPB). */
export interface CorpusCapture {
  name: string;
  head: Uint8Array[];
  packets: Uint8Array[];
  /** The file as it is on disk (for framing mutations). */
  file: Uint8Array;
}

/** The inputs cases are made from. */
export interface Corpus {
  captures: CorpusCapture[];
  hellos: Uint8Array[];
}

/** Splits a little- or big-endian pcapng stream into its blocks. */
export function pcapngBlocks(b: Uint8Array): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let le = true;
  for (let o = 0; o + 12 <= b.length;) {
    if (dv.getUint32(o, true) === 0x0a0d0d0a) le = dv.getUint32(o + 8, true) === 0x1a2b3c4d;
    const len = dv.getUint32(o + 4, le);
    if (len < 12 || o + len > b.length) break;
    blocks.push(b.subarray(o, o + len));
    o += len;
  }
  return blocks;
}

/** Frames and link type of a classic pcap file, or null when `b` is not one. */
export function pcapFrames(b: Uint8Array): { link: number; frames: Uint8Array[] } | null {
  if (b.length < 24) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = dv.getUint32(0, true);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  if (!le && !be) return null;
  const link = dv.getUint32(20, le) & 0xffff;
  const frames: Uint8Array[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const cap = dv.getUint32(o + 8, le);
    if (o + 16 + cap > b.length) break;
    frames.push(b.subarray(o + 16, o + 16 + cap));
    o += 16 + cap;
  }
  return { link, frames };
}

function blockType(block: Uint8Array): number {
  const t = new DataView(block.buffer, block.byteOffset, 4).getUint32(0, true);
  // Byte-swapped sections store the type swapped; packet types are small either way.
  return t > 0xffff && t !== 0x0a0d0d0a ? ((t >>> 24) | ((t >>> 8) & 0xff00)) : t;
}

/** Capture → pcapng section split into header and packet blocks. */
export function toCorpusCapture(name: string, file: Uint8Array): CorpusCapture | null {
  const classic = pcapFrames(file);
  const section = classic
    ? pcapng([{ link: classic.link }], classic.frames.map((f) => ({ iface: 0, frame: [...f] })))
    : file;
  const blocks = pcapngBlocks(section);
  if (blocks.length === 0 || blockType(blocks[0]) !== 0x0a0d0d0a) return null;
  const head: Uint8Array[] = [];
  const packets: Uint8Array[] = [];
  for (const b of blocks) {
    const t = blockType(b);
    (t === 2 || t === 3 || t === 6 ? packets : head).push(b);
  }
  return { name, head, packets, file };
}

/** TLS handshake messages (ClientHello, ServerHello) found in TLS records of `data`. */
export function findHellos(data: Uint8Array, limit = 64): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + 9 < data.length && out.length < limit; i++) {
    if (data[i] !== 0x16 || data[i + 1] !== 3 || data[i + 2] > 4) continue;
    const t = data[i + 5];
    if (t !== 1 && t !== 2) continue;
    const recLen = (data[i + 3] << 8) | data[i + 4];
    const end = Math.min(data.length, i + 5 + recLen);
    if (end - (i + 5) < 40) continue;
    out.push(data.slice(i + 5, end));
    i = end - 1;
  }
  return out;
}

/** Synthetic hellos: GREASE everywhere, PQ-sized key shares, QUIC transport parameters. */
export function syntheticHellos(): Uint8Array[] {
  const grease = [0x0a0a, 0x1a1a, 0xfafa];
  const keyShare = (n: number) => ({
    type: 0x0033,
    body: [(n + 4) >> 8, (n + 4) & 255, 0x11, 0xec, n >> 8, n & 255, ...new Array(n).fill(0x42)],
  });
  return [
    clientHello({
      ciphers: [grease[0], 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f],
      exts: [
        ext.empty(grease[1]),
        ext.sni("fuzz.example"),
        ext.alpn("h3"),
        ext.groups(grease[2], 0x11ec, 0x001d, 0x0017),
        ext.sigAlgs(grease[0], 0x0403, 0x0804, 0x0401),
        ext.supportedVersions(grease[1], 0x0304),
        keyShare(1216),
        { type: 0x0039, body: [0x01, 0x02, 0x40, 0x64] },
      ],
    }),
    clientHello({ version: 0x0301, ciphers: [0x0010, 0x002f], exts: null }),
    clientHello({ ciphers: [], exts: [ext.alpn([0xff, 0xfe]), ext.delegatedCredentials(0x0403)] }),
    serverHello({ cipher: 0x1301, exts: [ext.selectedVersion(0x0304)] }),
    serverHello({ version: 0x0301, cipher: 0x0005 }),
  ];
}

/** Loads the conformance captures in `dir` (none when it is absent) plus synthetic hellos. */
export async function loadCorpus(dir: string): Promise<Corpus> {
  const captures: CorpusCapture[] = [];
  let names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && /\.(pcap|pcapng)$/.test(e.name)) names.push(e.name);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  names = names.sort();
  const hellos = syntheticHellos();
  for (const name of names) {
    const file = await Deno.readFile(`${dir}/${name}`);
    const c = toCorpusCapture(name, file);
    if (c) captures.push(c);
    hellos.push(...findHellos(file, 16));
  }
  return { captures, hellos };
}

// ---------------------------------------------------------------------------------------
// Mutations

const INTERESTING_16 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0x7fff, 0x8000, 0xffff];

/** Mutates `b` in place (size kept): flips, sets, interesting u16, copies, zero runs. */
export function mutateInPlace(r: Rand, b: Uint8Array, from = 0, count = 1 + below(r, 8)): void {
  const n = b.length - from;
  if (n <= 0) return;
  for (let k = 0; k < count; k++) {
    const at = from + below(r, n);
    switch (below(r, 6)) {
      case 0:
        b[at] ^= 1 << below(r, 8);
        break;
      case 1:
        b[at] = pick(r, [0, 0xff, 0x7f, 0x80, 0x01, r() & 0xff]);
        break;
      case 2: {
        const v = pick(r, INTERESTING_16);
        if (at + 1 < b.length) {
          b[at] = v >> 8;
          b[at + 1] = v & 0xff;
        }
        break;
      }
      case 3: {
        const len = below(r, 32);
        const src = from + below(r, n);
        b.copyWithin(at, src, Math.min(b.length, src + len));
        break;
      }
      case 4:
        b.fill(0, at, Math.min(b.length, at + below(r, 16)));
        break;
      default:
        b[at] = r() & 0xff;
    }
  }
}

/** Size-changing mutations of a handshake message: truncate, insert, duplicate, append. */
function mutateMessage(r: Rand, m: Uint8Array): Uint8Array {
  let out: Uint8Array = m.slice();
  const steps = 1 + below(r, 4);
  for (let s = 0; s < steps; s++) {
    switch (below(r, 5)) {
      case 0:
        out = out.slice(0, below(r, out.length + 1));
        break;
      case 1: {
        const at = below(r, out.length + 1);
        const junk = new Uint8Array(below(r, 40)).map(() => r() & 0xff);
        out = concat(out.slice(0, at), junk, out.slice(at));
        break;
      }
      case 2: {
        const a = below(r, out.length);
        const b = Math.min(out.length, a + below(r, 64));
        out = concat(out.slice(0, b), out.slice(a, b), out.slice(b));
        break;
      }
      default:
        mutateInPlace(r, out, 0);
    }
  }
  // Half the time keep the 3-byte length consistent, so parsing goes deep.
  if (out.length >= 4 && chance(r, 0.5)) {
    const len = out.length - 4;
    out[1] = (len >> 16) & 0xff;
    out[2] = (len >> 8) & 0xff;
    out[3] = len & 0xff;
  }
  return out;
}

/** EPB captured length lowered (packet truncated) without touching the block framing. */
function truncateEpb(r: Rand, block: Uint8Array): void {
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  if (blockType(block) !== 6 || block.length < 32) return;
  const le = dv.getUint32(0, true) === 6;
  const cap = dv.getUint32(20, le);
  dv.setUint32(20, below(r, cap + 1), le);
}

// ---------------------------------------------------------------------------------------
// Case generation

/** A generated case: what to feed, and how. */
export type FuzzCase =
  | { kind: "section" | "quic"; bytes: Uint8Array; chunks: number[] }
  | { kind: "framing"; bytes: Uint8Array; chunks: number[] }
  | { kind: "hello"; bytes: Uint8Array; quic: boolean };

function chunking(r: Rand, total: number): number[] {
  const sizes: number[] = [];
  const small = chance(r, 0.2);
  for (let left = total; left > 0;) {
    const n = Math.min(left, 1 + (small ? below(r, 512) : below(r, 1 << 16)));
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

function sectionCase(r: Rand, corpus: Corpus): FuzzCase {
  const packets: Uint8Array[] = [];
  let head: Uint8Array[];
  if (corpus.captures.length > 0) {
    const c = pick(r, corpus.captures);
    head = c.head;
    const start = below(r, c.packets.length);
    const count = 1 + below(r, 48);
    for (let i = start; i < Math.min(c.packets.length, start + count); i++) {
      if (chance(r, 0.05)) continue; // dropped
      const p = c.packets[i].slice();
      if (chance(r, 0.6)) mutateInPlace(r, p, Math.min(p.length, 28), 1 + below(r, 4));
      if (chance(r, 0.05)) truncateEpb(r, p);
      packets.push(p);
      if (chance(r, 0.05)) packets.push(p.slice()); // duplicated (retransmission)
    }
    if (chance(r, 0.2) && packets.length > 1) {
      const i = below(r, packets.length - 1);
      [packets[i], packets[i + 1]] = [packets[i + 1], packets[i]]; // reordered
    }
  } else {
    // No captures: TLS records over TCP, built here.
    const section = pcapng([{ link: 1 }], [{
      iface: 0,
      frame: ether(
        0x0800,
        ipv4(CLIENT, SERVER, 6, [
          ...[0xc0, 0x01, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0],
          ...[0x16, 3, 1, 0, 0],
          ...mutateMessage(r, pick(r, corpus.hellos)),
        ]),
      ),
    }]);
    const blocks = pcapngBlocks(section);
    head = blocks.filter((b) => blockType(b) !== 6);
    packets.push(...blocks.filter((b) => blockType(b) === 6));
  }
  const bytes = concat(...head, ...packets);
  return { kind: "section", bytes, chunks: chunking(r, bytes.length) };
}

function quicCase(r: Rand, corpus: Corpus): FuzzCase {
  const hellos = corpus.hellos.filter((h) => h[0] === 1);
  let hello = pick(r, hellos);
  if (chance(r, 0.3)) hello = mutateMessage(r, hello);
  if (chance(r, 0.3)) {
    // Post-quantum sized: pad the hello (keeps it parseable as far as the engine cares).
    hello = concat(hello, new Uint8Array(800 + below(r, 2400)));
    const len = hello.length - 4;
    hello.set([1, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff], 0);
  }
  const version = chance(r, 0.15) ? 0x6b3343cf : 1;
  const dcid = new Uint8Array(8 + below(r, 13)).map(() => r() & 0xff);
  const frames: Uint8Array[] = [];
  for (let o = 0; o < hello.length;) {
    const n = 1 + below(r, 400);
    frames.push(cryptoFrame(o, hello.slice(o, o + n)));
    o += n;
  }
  for (let i = frames.length - 1; i > 0; i--) {
    const j = below(r, i + 1);
    [frames[i], frames[j]] = [frames[j], frames[i]];
  }
  const nPackets = Math.min(frames.length, 1 + below(r, 3));
  const sport = 1024 + below(r, 60000);
  const dgrams: { server: boolean; bytes: Uint8Array }[] = [];
  const per = Math.ceil(frames.length / nPackets);
  for (let k = 0; k < nPackets; k++) {
    let payload = concat(
      ...(chance(r, 0.3) ? [new Uint8Array([0x01])] : []),
      ...(chance(r, 0.2)
        ? [concat(new Uint8Array([0x02]), varint(0), varint(0), varint(0), varint(0))]
        : []),
      ...frames.slice(k * per, (k + 1) * per),
    );
    if (chance(r, 0.15)) {
      // Authenticated garbage: the frame parser must survive whatever decrypts correctly.
      payload = payload.slice();
      mutateInPlace(r, payload, 0, 1 + below(r, 6));
    }
    let pkt = protectInitial({
      version,
      dcid: k > 0 && chance(r, 0.5) ? new Uint8Array([9, 9, 9, 9]) : dcid,
      keyDcid: dcid,
      pn: k,
      pnLen: 1 + below(r, 4),
      frames: payload,
      padTo: chance(r, 0.8) ? 1200 : 0,
    });
    if (chance(r, 0.1)) {
      pkt = pkt.slice();
      mutateInPlace(r, pkt, 0, 1 + below(r, 3));
    }
    dgrams.push({ server: false, bytes: pkt });
  }
  if (chance(r, 0.4)) {
    const serverHellos = corpus.hellos.filter((h) => h[0] === 2);
    const sh = serverHellos.length > 0 ? pick(r, serverHellos) : serverHello({ cipher: 0x1301 });
    dgrams.push({
      server: true,
      bytes: protectInitial({
        version,
        dcid: new Uint8Array(),
        scid: dcid.slice(0, 8),
        keyDcid: dcid,
        pn: 0,
        frames: cryptoFrame(0, sh),
        server: true,
      }),
    });
  }
  const packets = dgrams.map(({ server, bytes }) => {
    const [s, t, sp, dp] = server ? [SERVER, CLIENT, 443, sport] : [CLIENT, SERVER, sport, 443];
    return { iface: 0, frame: ether(0x0800, ipv4(s, t, 17, udp(sp, dp, [...bytes]))) };
  });
  const bytes = pcapng([{ link: 1 }], packets);
  return { kind: "quic", bytes, chunks: chunking(r, bytes.length) };
}

function helloCase(r: Rand, corpus: Corpus): FuzzCase {
  return { kind: "hello", bytes: mutateMessage(r, pick(r, corpus.hellos)), quic: chance(r, 0.3) };
}

function framingCase(r: Rand, corpus: Corpus): FuzzCase {
  let bytes: Uint8Array;
  if (corpus.captures.length === 0 || chance(r, 0.2)) {
    bytes = new Uint8Array(below(r, 4096)).map(() => r() & 0xff);
    // Often a valid magic first, so the record layer gets random records.
    if (chance(r, 0.6) && bytes.length >= 24) {
      bytes.set(
        pick(r, [[0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x0a, 0x0d, 0x0d, 0x0a]]),
        0,
      );
    }
  } else {
    const c = pick(r, corpus.captures);
    bytes = c.file.slice(0, Math.min(c.file.length, 1 << 16));
    mutateInPlace(r, bytes, 0, 1 + below(r, 12));
    if (chance(r, 0.3)) bytes = bytes.slice(0, below(r, bytes.length + 1));
  }
  return { kind: "framing", bytes, chunks: chunking(r, bytes.length) };
}

/** Kind of case `index` of run `seed` (cheap: no corpus needed). */
export function caseKind(seed: number, index: number): CaseKind {
  return pickKind(rng(caseSeed(seed, index)));
}

/** Case `index` of run `seed`: the same every time. */
export function generateCase(seed: number, index: number, corpus: Corpus): FuzzCase {
  const r = rng(caseSeed(seed, index));
  switch (pickKind(r)) {
    case "quic":
      return quicCase(r, corpus);
    case "hello":
      return helloCase(r, corpus);
    case "framing":
      return framingCase(r, corpus);
    default:
      return sectionCase(r, corpus);
  }
}

// ---------------------------------------------------------------------------------------
// Execution (in the worker)

/**
 * Shape of a client JA4: a_b_c. The two ALPN characters are alphanumeric: first/last
 * characters, the hex fallback, or '9' for a non-ASCII byte (FoxIO's reference).
 */
const JA4_SHAPE = /^[tqd][0-9a-z]{2}[di]\d{4}[0-9A-Za-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/;
const JA3_SHAPE = /^[0-9a-f]{32}$/;

/** Throws when a record is malformed (a finding even when nothing trapped). */
export function checkRecord(rec: EngineRecord): void {
  if (rec.kind === "client_hello") {
    if (!rec.ja4 || !JA4_SHAPE.test(rec.ja4)) {
      throw new FuzzFinding("BAD_JA4", `malformed ja4 ${JSON.stringify(rec.ja4)}`);
    }
    if (rec.ja3 !== undefined && !JA3_SHAPE.test(rec.ja3)) {
      throw new FuzzFinding("BAD_JA3", `malformed ja3 ${JSON.stringify(rec.ja3)}`);
    }
  }
}

interface WorkerState {
  engine: Engine;
  session?: Session;
  /** Memory of `session` after its first case. */
  baseline?: number;
  records: number;
  quicHellos: number;
  captureErrors: number;
  maxMemory: number;
}

function pushAll(session: Session, c: { bytes: Uint8Array; chunks: number[] }): EngineRecord[] {
  const out: EngineRecord[] = [];
  let o = 0;
  for (const n of c.chunks) {
    for (const rec of session.push(c.bytes.subarray(o, o + n))) out.push(rec);
    o += n;
  }
  return out;
}

/** Returns the session's wasm memory; throws when it is over the absolute cap. */
function checkMemory(st: WorkerState, session: Session): number {
  const mem = session.stats().memory_bytes;
  st.maxMemory = Math.max(st.maxMemory, mem);
  if (mem > MEMORY_CAP_BYTES) {
    throw new FuzzFinding("MEMORY", `wasm memory ${mem} bytes exceeds the cap ${MEMORY_CAP_BYTES}`);
  }
  return mem;
}

/** Runs one case; throws on a finding. */
export async function executeCase(st: WorkerState, c: FuzzCase): Promise<void> {
  if (c.kind === "hello") {
    const rec = await st.engine.fingerprintHandshake(c.bytes, { quic: c.quic });
    if (rec) {
      st.records++;
      checkRecord(rec);
    }
    return;
  }
  if (c.kind === "framing") {
    const session = await st.engine.createSession({
      maxFlows: 64,
      reassemblySlabs: 4,
      quicStates: 8,
    });
    try {
      for (const rec of pushAll(session, c)) checkRecord(rec);
      session.finish();
    } catch (err) {
      if (!(err instanceof CaptureFormatError)) throw err;
      st.captureErrors++;
    }
    checkMemory(st, session);
    return;
  }
  if (!st.session) {
    st.session = await st.engine.createSession(SESSION_OPTIONS);
    st.baseline = undefined;
  }
  const records = pushAll(st.session, c);
  for (const rec of records) {
    checkRecord(rec);
    if (rec.transport === "quic" && rec.kind === "client_hello") st.quicHellos++;
  }
  st.records += records.length;
  const mem = checkMemory(st, st.session);
  st.baseline ??= mem;
  if (mem > st.baseline + MEMORY_GROWTH_BYTES) {
    throw new FuzzFinding(
      "MEMORY_GROWTH",
      `wasm memory grew from ${st.baseline} to ${mem} bytes while fuzzing one session`,
    );
  }
}

/** Counters a worker reports (cumulative for that worker). */
interface Tally {
  records: number;
  quicHellos: number;
  captureErrors: number;
  maxMemory: number;
  capturesUsed: number;
}

/** Messages from the worker to the supervisor. */
type WorkerMessage =
  | { type: "failure"; index: number; kind: CaseKind; message: string; input_b64: string }
  | ({ type: "tally" } & Tally)
  | ({ type: "done" } & Tally)
  | { type: "fatal"; message: string };

interface WorkerStart {
  seed: number;
  from: number;
  to: number;
  capturesDir: string;
  progress: SharedArrayBuffer;
  hangAt?: number;
}

function b64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

async function workerMain(start: WorkerStart, post: (m: WorkerMessage) => void): Promise<void> {
  const progress = new Int32Array(start.progress);
  const corpus = await loadCorpus(start.capturesDir);
  const st: WorkerState = {
    engine: await loadEngine(),
    records: 0,
    quicHellos: 0,
    captureErrors: 0,
    maxMemory: 0,
  };
  const tally = (type: "tally" | "done"): WorkerMessage => ({
    type,
    records: st.records,
    quicHellos: st.quicHellos,
    captureErrors: st.captureErrors,
    maxMemory: st.maxMemory,
    capturesUsed: corpus.captures.length,
  });
  for (let i = start.from; i < start.to; i++) {
    Atomics.store(progress, 0, i);
    if ((i - start.from) % 500 === 499) post(tally("tally"));
    // Test hook only (runFuzz's hangAt): a case that never returns.
    while (i === start.hangAt) Atomics.wait(progress, 0, i, 1000);
    const c = generateCase(start.seed, i, corpus);
    try {
      await executeCase(st, c);
    } catch (err) {
      post({
        type: "failure",
        index: i,
        kind: c.kind,
        message: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        input_b64: b64(c.bytes),
      });
      // A trap can leave an instance half-updated: start the next case on a fresh one.
      st.session = undefined;
    }
  }
  Atomics.store(progress, 0, start.to);
  post(tally("done"));
}

if ((globalThis as { name?: string }).name === WORKER_NAME) {
  const scope = globalThis as unknown as Worker;
  scope.addEventListener("message", (e: MessageEvent<WorkerStart>) => {
    workerMain(e.data, (m) => scope.postMessage(m)).catch((err) =>
      scope.postMessage({
        type: "fatal",
        message: err instanceof Error ? err.stack ?? err.message : String(err),
      })
    );
  });
}

// ---------------------------------------------------------------------------------------
// Supervision

const DEFAULT_CAPTURES = new URL("../../shared/conformance/foxio", import.meta.url).pathname;

function reproduce(seed: number, index: number): string {
  return `deno task fuzz --seed ${seed} --from ${index} --cases 1`;
}

/**
 * Runs `cases` cases in a watched worker; a hung case is reported and the run continues
 * after it in a new worker. Never throws for engine findings: they are in `failures`.
 */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const from = opts.from ?? 0;
  const to = from + opts.cases;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const capturesDir = opts.capturesDir ?? DEFAULT_CAPTURES;
  const started = performance.now();
  const report: FuzzReport = {
    seed: opts.seed,
    from,
    cases: 0,
    requested: opts.cases,
    seconds: 0,
    casesPerSecond: 0,
    byKind: { section: 0, quic: 0, hello: 0, framing: 0 },
    records: 0,
    quicHellos: 0,
    captureErrors: 0,
    maxMemoryBytes: 0,
    capturesUsed: 0,
    failures: [],
  };
  let next = from;
  /** First case not run (the run's end, or where it was stopped). */
  let end = to;
  while (next < to) {
    const progress = new SharedArrayBuffer(4);
    const seen = new Int32Array(progress);
    Atomics.store(seen, 0, next);
    const worker = new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
    let tallied: Tally | undefined;
    const outcome = await new Promise<"done" | "hang" | "stopped">((resolve, reject) => {
      const stop = () => {
        clearInterval(timer);
        resolve("stopped");
      };
      opts.signal?.addEventListener("abort", stop, { once: true });
      let last = next;
      let lastChange = performance.now();
      // The first case also loads the corpus and compiles the engine: allow for it.
      let grace = 30_000;
      const timer = setInterval(() => {
        const now = performance.now();
        const cur = Atomics.load(seen, 0);
        if (cur !== last) {
          last = cur;
          lastChange = now;
          grace = 0;
          opts.onProgress?.(cur - from, opts.cases);
        } else if (now - lastChange > timeoutMs + grace) {
          clearInterval(timer);
          resolve("hang");
        }
      }, 250);
      worker.addEventListener("message", (e: MessageEvent<WorkerMessage>) => {
        const m = e.data;
        if (m.type === "failure") {
          report.failures.push({
            seed: opts.seed,
            case: m.index,
            kind: m.kind,
            outcome: "crash",
            message: m.message,
            reproduce: reproduce(opts.seed, m.index),
            input_b64: m.input_b64,
          });
        } else if (m.type === "tally" || m.type === "done") {
          tallied = m;
          if (m.type === "done") {
            clearInterval(timer);
            opts.signal?.removeEventListener("abort", stop);
            resolve("done");
          }
        } else {
          clearInterval(timer);
          reject(new FuzzError("WORKER_FAILED", `fuzz worker failed to run: ${m.message}`));
        }
      });
      worker.addEventListener("error", (e) => {
        e.preventDefault();
        clearInterval(timer);
        reject(new FuzzError("WORKER_FAILED", `fuzz worker crashed: ${e.message}`));
      });
      if (opts.signal?.aborted) stop();
      worker.postMessage(
        {
          seed: opts.seed,
          from: next,
          to,
          capturesDir,
          progress,
          hangAt: opts.hangAt,
        } satisfies WorkerStart,
      );
    }).finally(() => worker.terminate());
    if (tallied) {
      report.records += tallied.records;
      report.quicHellos += tallied.quicHellos;
      report.captureErrors += tallied.captureErrors;
      report.maxMemoryBytes = Math.max(report.maxMemoryBytes, tallied.maxMemory);
      report.capturesUsed = tallied.capturesUsed;
    }
    if (outcome === "done") break;
    if (outcome === "stopped") {
      end = Atomics.load(seen, 0);
      break;
    }
    const hung = Atomics.load(seen, 0);
    const c = generateCase(opts.seed, hung, await loadCorpus(capturesDir));
    report.failures.push({
      seed: opts.seed,
      case: hung,
      kind: c.kind,
      outcome: "hang",
      message: `case did not finish within ${timeoutMs} ms`,
      reproduce: reproduce(opts.seed, hung),
      input_b64: b64(c.bytes),
    });
    next = hung + 1;
  }
  const hung = new Set(report.failures.filter((f) => f.outcome === "hang").map((f) => f.case));
  for (let i = from; i < end; i++) if (!hung.has(i)) report.byKind[caseKind(opts.seed, i)]++;
  report.cases = end - from;
  report.seconds = (performance.now() - started) / 1000;
  report.casesPerSecond = report.cases / report.seconds;
  if (opts.outDir && report.failures.length > 0) {
    await Deno.mkdir(opts.outDir, { recursive: true });
    for (const f of report.failures) {
      await Deno.writeTextFile(
        `${opts.outDir}/crash-${f.seed}-${f.case}.json`,
        JSON.stringify(f, null, 2) + "\n",
      );
    }
  }
  return report;
}

/** Report as printable lines. */
export function formatReport(r: FuzzReport): string {
  const rows = [
    ["seed", String(r.seed)],
    [
      "cases",
      `${r.cases} (from ${r.from}${
        r.cases < r.requested ? `; stopped, ${r.requested} asked` : ""
      })`,
    ],
    ["by kind", Object.entries(r.byKind).map(([k, v]) => `${k} ${v}`).join(", ")],
    ["captures in corpus", String(r.capturesUsed)],
    ["wall time", `${r.seconds.toFixed(1)} s`],
    ["cases/s", r.casesPerSecond.toFixed(0)],
    ["records produced", String(r.records)],
    ["QUIC ClientHellos fingerprinted", String(r.quicHellos)],
    ["capture errors (framing cases)", String(r.captureErrors)],
    [
      "max wasm memory",
      `${(r.maxMemoryBytes / 1048576).toFixed(1)} MiB (cap ${MEMORY_CAP_BYTES / 1048576})`,
    ],
    ["crashes", String(r.failures.filter((f) => f.outcome === "crash").length)],
    ["hangs", String(r.failures.filter((f) => f.outcome === "hang").length)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n");
}

async function main(): Promise<number> {
  const { flags } = parseFlags("fuzz", [
    { name: "cases", type: "string", value: "N", help: "number of cases (default 1000000)" },
    { name: "seed", type: "string", value: "S", help: "run seed (default: random, printed)" },
    {
      name: "from",
      type: "string",
      value: "I",
      help: "first case index (replay: --from I --cases 1)",
    },
    {
      name: "timeout-ms",
      type: "string",
      value: "MS",
      help: "hang threshold per case (default 20000)",
    },
    {
      name: "out",
      type: "string",
      value: "DIR",
      help: "crash files directory (default ./fuzz-crashes)",
    },
    {
      name: "captures",
      type: "string",
      value: "DIR",
      help: "conformance captures (default ../shared/conformance/foxio)",
    },
  ], Deno.args);
  const num = (name: string, dflt: number) => {
    const v = flags[name];
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) {
      throw new FuzzError("BAD_FLAG", `--${name}: '${v}' is not a non-negative integer`);
    }
    return n;
  };
  const seed = num("seed", (Math.random() * 2 ** 32) >>> 0);
  const cases = num("cases", 1_000_000);
  const outDir = (flags.out as string | undefined) ?? "fuzz-crashes";
  console.error(
    `fuzz: seed ${seed}, ${cases} cases from ${num("from", 0)} (Ctrl-C stops and reports)`,
  );
  // The first Ctrl-C / SIGTERM stops after the running case and still prints the report.
  const stop = new AbortController();
  const onSignal = () => {
    console.error("fuzz: stopping; the report covers the cases that finished");
    stop.abort();
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, onSignal);
  let lastPrint = 0;
  const report = await runFuzz({
    cases,
    seed,
    from: num("from", 0),
    timeoutMs: num("timeout-ms", 20_000),
    outDir,
    capturesDir: flags.captures as string | undefined,
    signal: stop.signal,
    onProgress(done, total) {
      const now = performance.now();
      if (now - lastPrint > 5000) {
        lastPrint = now;
        console.error(`fuzz: ${done}/${total} cases`);
      }
    },
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(sig, onSignal);
  console.log(formatReport(report));
  for (const f of report.failures) {
    console.log(
      `${f.outcome} in case ${f.case} (${f.kind}): ${f.message}\n  reproduce: ${f.reproduce}`,
    );
  }
  if (report.failures.length > 0) console.log(`crash files in ${outDir}/`);
  return report.failures.length > 0 ? 1 : 0;
}

if (import.meta.main && (globalThis as { name?: string }).name !== WORKER_NAME) {
  Deno.exit(await main());
}
