/**
 * The one TypeScript loader of the fingerprint engine. It runs unchanged in Deno and in
 * browsers: it takes the wasm bytes (or a URL, or a compiled module) and uses only
 * WebAssembly, fetch and TextDecoder — no Deno APIs.
 *
 * The host hands large chunks of capture bytes (a pcap or pcapng stream, split anywhere)
 * to a {@link Session}; the engine keeps its own carry-over state and returns compact
 * records for every fingerprint found, which this module decodes into
 * {@link EngineRecord} objects. There is no JS↔WASM call per packet.
 *
 * @example
 * ```ts
 * import { loadEngine } from "./loader.ts";
 * const engine = await loadEngine(new URL("./build/ja4.wasm", import.meta.url));
 * const session = await engine.createSession();
 * for (const chunk of chunks) for (const r of session.push(chunk)) console.log(r.ja4);
 * const tail = session.finish(); // throws CaptureFormatError if the capture is cut short
 * ```
 */

/** What produced a record. */
export type RecordKind = "client_hello" | "server_hello" | "syn" | "http_request";

/** One fingerprintable event, as the engine reports it. */
export interface EngineRecord {
  kind: RecordKind;
  /** Connection number within the session (1-based, never reused): groups records. */
  flow: number;
  /** Capture timestamp, microseconds since the epoch. */
  ts_us: number;
  /** `quic` for hellos carried in QUIC Initial packets (the conformance files say `udp`). */
  transport: "tcp" | "quic";
  /** Sender of the packet the record comes from (the server for `server_hello`). */
  src: string;
  src_port: number;
  dst: string;
  dst_port: number;
  ja4?: string;
  ja4_r?: string;
  ja4_o?: string;
  ja4_ro?: string;
  ja3?: string;
  ja3_full?: string;
  ja4s?: string;
  ja4s_r?: string;
  ja3s?: string;
  ja3s_full?: string;
  ja4t?: string;
  ja4h?: string;
  ja4h_r?: string;
  tls_server_name?: string;
  /** First ALPN protocol offered (client) or selected (server). */
  alpn?: string;
  /** Hello version as JA4 reads it (supported_versions, else the hello's), e.g. 0x0304. */
  tls_version?: number;
  cipher_count?: number;
  extension_count?: number;
  tcp_window?: number;
  tcp_mss?: number;
  tcp_window_scale?: number;
  ip_ttl: number;
  /**
   * Number of the packet in the capture (1-based, modulo 2^32). Sessions of one capture
   * number alike whatever their shard, so their records merge back into capture order.
   */
  packet?: number;
}

/** Counters of a session (see core-wasm/README.md for their meaning). */
export interface EngineStats {
  packets: number;
  bytes: number;
  malformed_packets: number;
  malformed_hellos: number;
  ip_fragments: number;
  unsupported_link: number;
  client_hellos: number;
  server_hellos: number;
  syns: number;
  http_requests: number;
  quic_initials: number;
  reassembly_dropped: number;
  flows_evicted: number;
  flows_active: number;
  slabs_in_use: number;
  slabs_peak: number;
  memory_bytes: number;
  records: number;
  flows_created: number;
  quic_undecrypted: number;
  tls_decrypt_failed: number;
  records_dropped: number;
  /**
   * TLS secrets read from key logs embedded in the capture (pcapng DSB). While 0, no TLS
   * connection can yield records after its hellos (nothing is decrypted).
   */
  keylog_secrets: number;
}

const STAT_NAMES: (keyof EngineStats)[] = [
  "packets",
  "bytes",
  "malformed_packets",
  "malformed_hellos",
  "ip_fragments",
  "unsupported_link",
  "client_hellos",
  "server_hellos",
  "syns",
  "http_requests",
  "quic_initials",
  "reassembly_dropped",
  "flows_evicted",
  "flows_active",
  "slabs_in_use",
  "slabs_peak",
  "memory_bytes",
  "records",
  "flows_created",
  "quic_undecrypted",
  "tls_decrypt_failed",
  "records_dropped",
  "keylog_secrets",
];

const KINDS: (RecordKind | undefined)[] = [
  undefined,
  "client_hello",
  "server_hello",
  "syn",
  "http_request",
];

/** Default table sizes of a session (see {@link SessionOptions}). */
export const SESSION_DEFAULTS = {
  maxFlows: 65536,
  reassemblySlabs: 2048,
  quicStates: 1024,
} as const;

/** Session tuning. Memory is allocated once, at session creation. */
export interface SessionOptions {
  /** Flow table slots; the oldest flow is evicted when full. Default 65536. */
  maxFlows?: number;
  /** 20 KiB reassembly buffers shared by all flows. Default 2048 (40 MiB). */
  reassemblySlabs?: number;
  /** QUIC Initial state blocks (~15 KiB each) shared by QUIC flows. Default 1024. */
  quicStates?: number;
  /**
   * Keep only the flows of shard `index` of `count` (by a symmetric hash of the 4-tuple):
   * `count` sessions, e.g. one per core, can each read the whole capture and together
   * report every flow exactly once.
   */
  shard?: { index: number; count: number };
  /** Produce ja4_o / ja4_ro (original order). Default true. */
  originalOrder?: boolean;
  /**
   * Reuse the fingerprint strings of an identical parsed hello (exact match on every
   * input of the fingerprints, see assembly/fpmemo.ts). Default true; false only to
   * measure or cross-check the unmemoised path: the records are the same.
   */
  fingerprintMemo?: boolean;
}

/** Why a capture stream was rejected; `offset` is the byte offset in the stream. */
export type CaptureErrorKind = "not_a_capture" | "truncated" | "bad_record";

/**
 * A stream that is not a capture, or is cut short. Records found before the error were
 * already returned. Carries the byte offset of the bad record.
 */
export class CaptureFormatError extends Error {
  readonly kind: CaptureErrorKind;
  readonly offset: number;
  constructor(kind: CaptureErrorKind, offset: number, message: string) {
    super(message);
    this.name = "CaptureFormatError";
    this.kind = kind;
    this.offset = offset;
  }
}

/** A streaming decoder with its own wasm instance (flows, carry-over, counters). */
export interface Session {
  /**
   * Decodes a chunk of capture bytes (any size, split anywhere); returns its records. On a
   * capture error ({@link CaptureFormatError}) the records found before it are returned
   * first and the error is thrown by the next call (push, commit or finish); it is thrown
   * at once only when there is nothing to return. Always end with {@link finish}.
   */
  push(chunk: Uint8Array): EngineRecord[];
  /**
   * Zero-copy input: a view of the engine's input area (4 MiB). Write capture bytes into it
   * (e.g. `file.read(view)`), then call {@link commit} with the count. The engine has two
   * input areas used in turn: after a commit this returns the other one, which may be
   * filled while the engine decodes (see `onFed` of {@link commit}, and {@link pumpReads}).
   */
  inputView(): Uint8Array;
  /**
   * Decodes `n` bytes written into {@link inputView}, like {@link push}. `onFed`, if
   * given, is called once the bytes are handed over and before they are decoded, with the
   * next input area: start reading the next chunk into it there, so reading and decoding
   * overlap. Do not touch the area just committed until this call returns.
   */
  commit(n: number, onFed?: (next: Uint8Array) => void): EngineRecord[];
  /**
   * Like {@link commit} but returns the records still encoded (a copy, transferable to
   * another thread); decode them, in order, with {@link decodeRecordBytes} and one
   * dictionary array per session. A capture error is thrown by the next call (commit,
   * commitEncoded or finish), so the records found before it are never lost.
   */
  commitEncoded(n: number, onFed?: (next: Uint8Array) => void): Uint8Array;
  /** Ends the stream; throws {@link CaptureFormatError} if it was cut short or invalid. */
  finish(): EngineRecord[];
  /** Counters so far. */
  stats(): EngineStats;
}

/** Reads into `view` (like `Deno.FsFile.read`): the bytes written, or null at the end. */
export type ReadInto = (view: Uint8Array) => Promise<number | null>;

/**
 * Feeds a whole byte source through `session`, `chunkBytes` (≤ 4 MiB) at a time, starting
 * the read of the next chunk into the engine's other input area before the current one is
 * decoded (a read that completes on another thread overlaps the decoding; Deno does most
 * of a regular file's read inside the call). `decode` is `(n, onFed) => session.commit(n, onFed)`
 * or the same with `commitEncoded`; `take` receives each chunk's result and the bytes read
 * so far, and may be async (backpressure: the next read is already under way). Resolves
 * to the total number of bytes read.
 */
export async function pumpReads<T>(
  session: Session,
  read: ReadInto,
  chunkBytes: number,
  decode: (n: number, onFed: (next: Uint8Array) => void) => T,
  take: (result: T, bytesSoFar: number) => void | Promise<void>,
): Promise<number> {
  const fill = async (view: Uint8Array): Promise<number> => {
    let n = 0;
    while (n < view.length) {
      const r = await read(view.subarray(n));
      if (r === null) break;
      n += r;
    }
    return n;
  };
  let total = 0;
  let next = fill(session.inputView().subarray(0, chunkBytes));
  while (true) {
    const n = await next;
    if (n === 0) return total;
    total += n;
    let started = false;
    try {
      const result = decode(n, (view) => {
        next = fill(view.subarray(0, chunkBytes));
        started = true;
      });
      if (!started) {
        next = fill(session.inputView().subarray(0, chunkBytes));
        started = true;
      }
      await take(result, total);
    } catch (err) {
      // The decode (or take) error is what the caller must see; a failure of the read
      // already under way into the other area no longer matters and must not go unhandled.
      if (started) next.catch(() => undefined);
      throw err;
    }
  }
}

/** A loaded engine: compiled once, one instance per session. */
export interface Engine {
  createSession(opts?: SessionOptions): Promise<Session>;
  /**
   * Fingerprints one TLS handshake message (4-byte header included): a ClientHello or
   * ServerHello. Returns null when it does not parse. For tests and tools.
   */
  fingerprintHandshake(
    message: Uint8Array,
    opts?: { quic?: boolean },
  ): Promise<EngineRecord | null>;
  /**
   * Runs ClientHello→JA4+JA3 `iterations` times inside wasm; returns successes. With
   * `memo: false` every iteration builds and hashes the strings (no fingerprint memo).
   */
  benchClientHello(
    message: Uint8Array,
    iterations: number,
    opts?: { memo?: boolean },
  ): Promise<number>;
}

interface Exports {
  memory: WebAssembly.Memory;
  init(maxFlows: number, slabs: number, quicStates: number): void;
  inputPtr(): number;
  inputCap(): number;
  outputPtr(): number;
  setOriginalOrderOption(on: number): void;
  setFpMemoOption(on: number): void;
  setShard(index: number, count: number): void;
  feed(len: number): void;
  pending(): number;
  run(): number;
  finish(): number;
  errorCode(): number;
  errorOffset(): number;
  errorDetail(): number;
  statsPtr(): number;
  statsCount(): number;
  fingerprintHandshake(len: number, quic: number): number;
  benchClientHello(len: number, iterations: number): number;
}

const utf8 = new TextDecoder("utf-8");

/**
 * Dotted IPv4 text, memoised in a direct-mapped cache (bounded, and cheaper than a Map
 * probe): both ends of a flow recur in each of its records.
 */
const V4_BITS = 12;
const v4Keys = new Int32Array(1 << V4_BITS);
const v4Text: (string | undefined)[] = new Array(1 << V4_BITS).fill(undefined);

function ipv4(b: Uint8Array, o: number): string {
  const key = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  const slot = Math.imul(key, 0x9e3779b1) >>> (32 - V4_BITS);
  const s = v4Text[slot];
  if (s !== undefined && v4Keys[slot] === key) return s;
  const text = `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  v4Keys[slot] = key;
  v4Text[slot] = text;
  return text;
}

/** RFC 5952 text form: lower-case hex, longest run (≥2) of zero groups as "::". */
export function formatIpv6(b: Uint8Array, o = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[o + 2 * i] << 8) | b[o + 2 * i + 1]);
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(":");
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(":");
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(":");
  return `${head}::${tail}`;
}

/** Short ASCII strings repeat across records (same stacks, same fingerprints): intern. */
function decodeString(bytes: Uint8Array, start: number, len: number): string {
  let ascii = true;
  for (let i = start; i < start + len; i++) {
    if (bytes[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) return utf8.decode(bytes.subarray(start, start + len));
  if (len <= 64) {
    return String.fromCharCode.apply(
      null,
      bytes.subarray(start, start + len) as unknown as number[],
    );
  }
  return utf8.decode(bytes.subarray(start, start + len));
}

/**
 * Assigns string field `id` (assembly/out.ts F_*). One store site per field keeps V8's
 * property stores monomorphic, which a computed `rec[name]` does not.
 */
function setField(rec: EngineRecord, id: number, v: string): void {
  switch (id) {
    case 1:
      rec.ja4 = v;
      break;
    case 2:
      rec.ja4_r = v;
      break;
    case 3:
      rec.ja4_o = v;
      break;
    case 4:
      rec.ja4_ro = v;
      break;
    case 5:
      rec.ja3 = v;
      break;
    case 6:
      rec.ja3_full = v;
      break;
    case 7:
      rec.ja4s = v;
      break;
    case 8:
      rec.ja3s = v;
      break;
    case 9:
      rec.ja4t = v;
      break;
    case 10:
      rec.ja4h = v;
      break;
    case 11:
      rec.tls_server_name = v;
      break;
    case 12:
      rec.alpn = v;
      break;
    case 13:
      rec.ja3s_full = v;
      break;
    case 14:
      rec.ja4s_r = v;
      break;
    case 15:
      rec.ja4h_r = v;
      break;
  }
}

/**
 * Decodes `len` bytes of records at `ptr` in the instance's memory. `dict` is the
 * session's string dictionary: literals fill it, references read it (assembly/dict.ts).
 */
export function decodeRecords(
  memory: WebAssembly.Memory,
  ptr: number,
  len: number,
  dict: string[],
): EngineRecord[] {
  return decodeRecordBytes(new Uint8Array(memory.buffer, ptr, len), dict);
}

/**
 * Decodes encoded records (the engine's output format, e.g. from
 * {@link Session.commitEncoded}); `dict` is the string dictionary of the session that
 * produced them, and the bytes must be decoded in the order they were produced.
 */
export function decodeRecordBytes(bytes: Uint8Array, dict: string[]): EngineRecord[] {
  const len = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, len);
  const out: EngineRecord[] = [];
  let o = 0;
  while (o + 72 <= len) {
    const total = view.getUint32(o, true);
    if (total < 72 || o + total > len) break;
    const kind = KINDS[bytes[o + 4]] ?? "client_hello";
    const flags = bytes[o + 5];
    const nStr = bytes[o + 6];
    const v6 = (flags & 1) !== 0;
    const rec: EngineRecord = {
      kind,
      flow: view.getUint32(o + 8, true),
      ts_us: view.getFloat64(o + 16, true),
      transport: (flags & 2) !== 0 ? "quic" : "tcp",
      src: v6 ? formatIpv6(bytes, o + 24) : ipv4(bytes, o + 24),
      src_port: view.getUint16(o + 56, true),
      dst: v6 ? formatIpv6(bytes, o + 40) : ipv4(bytes, o + 40),
      dst_port: view.getUint16(o + 58, true),
      ip_ttl: bytes[o + 64],
      packet: view.getUint32(o + 68, true),
    };
    if (kind === "client_hello" || kind === "server_hello") {
      rec.tls_version = view.getUint16(o + 12, true);
      rec.extension_count = bytes[o + 15];
      if (kind === "client_hello") rec.cipher_count = bytes[o + 14];
    } else if (kind === "syn") {
      rec.tcp_window = view.getUint16(o + 60, true);
      rec.tcp_mss = view.getUint16(o + 62, true);
      if (bytes[o + 7] !== 255) rec.tcp_window_scale = bytes[o + 7];
    }
    let s = o + 72;
    for (let i = 0; i < nStr && s + 5 <= o + total; i++) {
      const tag = bytes[s];
      let value: string;
      if (tag & 0x80) {
        value = dict[view.getUint32(s + 1, true)] ?? "";
        s += 5;
      } else {
        const n = view.getUint16(s + 1, true);
        value = decodeString(bytes, s + 7, n);
        dict[view.getUint32(s + 3, true)] = value;
        s += 7 + n;
      }
      setField(rec, tag & 0x7f, value);
    }
    out.push(rec);
    o += total;
  }
  return out;
}

function errorMessage(kind: CaptureErrorKind, offset: number, detail: number): string {
  switch (kind) {
    case "not_a_capture":
      return offset === 0 && detail === 0
        ? "empty input: not a pcap or pcapng capture"
        : `not a pcap or pcapng capture: unknown magic 0x${
          detail.toString(16).padStart(8, "0")
        } at byte offset ${offset}`;
    case "truncated":
      return `capture is cut short: the record at byte offset ${offset} is incomplete (${detail} bytes present)`;
    case "bad_record":
      return `corrupt capture: record or block at byte offset ${offset} has an impossible length (${detail})`;
  }
}

class WasmSession implements Session {
  #x: Exports;
  #cap: number;
  #dict: string[] = [];
  /** A capture error met by commitEncoded, thrown by the next call. */
  #deferred: CaptureFormatError | undefined;
  constructor(x: Exports) {
    this.#x = x;
    this.#cap = x.inputCap();
  }

  #drain(out: EngineRecord[]): void {
    const x = this.#x;
    do {
      const n = x.run();
      if (n > 0) {
        for (const r of decodeRecords(x.memory, x.outputPtr(), n, this.#dict)) out.push(r);
      }
    } while (x.pending());
  }

  push(chunk: Uint8Array): EngineRecord[] {
    if (this.#deferred) throw this.#deferred;
    const x = this.#x;
    const out: EngineRecord[] = [];
    for (let o = 0; o < chunk.length; o += this.#cap) {
      const part = chunk.subarray(o, Math.min(chunk.length, o + this.#cap));
      new Uint8Array(x.memory.buffer, x.inputPtr(), part.length).set(part);
      x.feed(part.length);
      this.#drain(out);
      if (this.#failedAfter(out)) break;
    }
    return out;
  }

  inputView(): Uint8Array {
    return new Uint8Array(this.#x.memory.buffer, this.#x.inputPtr(), this.#cap);
  }

  /**
   * The shared start of commit and commitEncoded: checks `n`, throws a deferred error,
   * hands the bytes over and passes the next input area to `onFed`. False when `n` is 0.
   */
  #feedInput(n: number, onFed: ((next: Uint8Array) => void) | undefined): boolean {
    if (!(n >= 0 && n <= this.#cap)) {
      throw new RangeError(`commit(${n}): at most ${this.#cap} bytes fit the input area`);
    }
    if (this.#deferred) throw this.#deferred;
    if (n === 0) return false;
    this.#x.feed(n);
    onFed?.(this.inputView());
    return true;
  }

  commit(n: number, onFed?: (next: Uint8Array) => void): EngineRecord[] {
    const out: EngineRecord[] = [];
    if (!this.#feedInput(n, onFed)) return out;
    this.#drain(out);
    this.#failedAfter(out);
    return out;
  }

  commitEncoded(n: number, onFed?: (next: Uint8Array) => void): Uint8Array {
    const x = this.#x;
    const parts: Uint8Array[] = [];
    let total = 0;
    if (this.#feedInput(n, onFed)) {
      do {
        const len = x.run();
        if (len > 0) {
          parts.push(new Uint8Array(x.memory.buffer, x.outputPtr(), len).slice());
          total += len;
        }
      } while (x.pending());
    }
    const err = this.#failure();
    // Records found before an error must not be lost: the caller gets them first.
    if (err) this.#deferred = err;
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  finish(): EngineRecord[] {
    if (this.#deferred) throw this.#deferred;
    this.#x.finish();
    this.#throwIfFailed();
    return [];
  }

  /**
   * After decoding `found`: throws the capture error at once when nothing was found, else
   * keeps it for the next call (records found before an error must reach the caller).
   * True when the stream has failed.
   */
  #failedAfter(found: EngineRecord[]): boolean {
    const err = this.#failure();
    if (!err) return false;
    if (found.length === 0) throw err;
    this.#deferred = err;
    return true;
  }

  #throwIfFailed(): void {
    const err = this.#failure();
    if (err) throw err;
  }

  #failure(): CaptureFormatError | undefined {
    const code = this.#x.errorCode();
    if (code === 0) return undefined;
    const kind: CaptureErrorKind = code === 1
      ? "not_a_capture"
      : code === 2
      ? "truncated"
      : "bad_record";
    const offset = this.#x.errorOffset();
    return new CaptureFormatError(kind, offset, errorMessage(kind, offset, this.#x.errorDetail()));
  }

  stats(): EngineStats {
    const x = this.#x;
    const n = x.statsCount();
    const f = new Float64Array(x.memory.buffer, x.statsPtr(), n);
    const s = {} as EngineStats;
    STAT_NAMES.forEach((name, i) => (s[name] = i < n ? f[i] : 0));
    return s;
  }
}

async function instantiate(module: WebAssembly.Module): Promise<Exports> {
  const holder: { memory?: WebAssembly.Memory } = {};
  const instance = await WebAssembly.instantiate(module, {
    env: {
      abort(msg: number, file: number, line: number, col: number) {
        // AssemblyScript strings: UTF-16, byte length at ptr - 4.
        const text = (p: number) => {
          const memory = holder.memory;
          if (!memory || !p) return "?";
          const n = new Uint32Array(memory.buffer, p - 4, 1)[0];
          return String.fromCharCode(...new Uint16Array(memory.buffer, p, n >>> 1));
        };
        throw new Error(`ja4 engine abort: ${text(msg)} at ${text(file)}:${line}:${col}`);
      },
    },
  });
  const x = instance.exports as unknown as Exports;
  holder.memory = x.memory;
  return x;
}

/** Where the engine comes from: its bytes, a URL to fetch, or an already compiled module. */
export type EngineSource = Uint8Array | ArrayBuffer | URL | string | WebAssembly.Module;

/** Compiles the engine once; sessions instantiate it. */
export async function loadEngine(source: EngineSource): Promise<Engine> {
  let module: WebAssembly.Module;
  if (source instanceof WebAssembly.Module) module = source;
  else if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    module = await WebAssembly.compile(source as BufferSource);
  } else {
    const res = await fetch(source);
    if (!res.ok) throw new Error(`cannot fetch the ja4 engine from ${source}: HTTP ${res.status}`);
    module = await WebAssembly.compile(await res.arrayBuffer());
  }
  let scratch: Exports | undefined;
  const scratchDict: string[] = [];
  const tool = async () => {
    if (!scratch) {
      scratch = await instantiate(module);
      scratch.init(16, 4, 1);
    }
    return scratch;
  };
  return {
    async createSession(opts: SessionOptions = {}): Promise<Session> {
      const x = await instantiate(module);
      x.init(
        opts.maxFlows ?? SESSION_DEFAULTS.maxFlows,
        opts.reassemblySlabs ?? SESSION_DEFAULTS.reassemblySlabs,
        opts.quicStates ?? SESSION_DEFAULTS.quicStates,
      );
      x.setOriginalOrderOption(opts.originalOrder === false ? 0 : 1);
      x.setFpMemoOption(opts.fingerprintMemo === false ? 0 : 1);
      if (opts.shard) {
        const { index, count } = opts.shard;
        if (
          !(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 &&
            index < count)
        ) {
          throw new RangeError(`shard ${index}/${count}: need 0 <= index < count`);
        }
        x.setShard(index, count);
      }
      return new WasmSession(x);
    },
    async fingerprintHandshake(message, opts = {}) {
      const x = await tool();
      new Uint8Array(x.memory.buffer, x.inputPtr(), message.length).set(message);
      const n = x.fingerprintHandshake(message.length, opts.quic ? 1 : 0);
      return n > 0 ? decodeRecords(x.memory, x.outputPtr(), n, scratchDict)[0] ?? null : null;
    },
    async benchClientHello(message, iterations, opts = {}) {
      const x = await tool();
      x.setOriginalOrderOption(0);
      x.setFpMemoOption(opts.memo === false ? 0 : 1);
      new Uint8Array(x.memory.buffer, x.inputPtr(), message.length).set(message);
      const ok = x.benchClientHello(message.length, iterations);
      x.setOriginalOrderOption(1);
      x.setFpMemoOption(1);
      return ok;
    },
  };
}
