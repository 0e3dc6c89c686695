/**
 * Folds engine records into one record per connection, in the shape of FoxIO's reference
 * output (the `../shared/conformance/foxio/*.expected.json` files): the client side is
 * `src`, fingerprints from both directions are merged, JA4H is a list (one per request).
 *
 * @example
 * ```ts
 * const conns = new ConnectionTable();
 * for (const r of session.push(chunk)) conns.add(r);
 * for (const c of conns.list()) console.log(JSON.stringify(c));
 * ```
 */
import type { EngineRecord } from "./loader.ts";

/** Fingerprint fields a connection takes from its engine records. */
type ConnectionFingerprints = Pick<
  EngineRecord,
  | "tls_server_name"
  | "ja4"
  | "ja4_r"
  | "ja4_o"
  | "ja4_ro"
  | "ja3"
  | "ja3_full"
  | "ja4s"
  | "ja3s"
  | "ja4t"
>;

/** One connection, fields named as in the conformance files, plus a timestamp. */
export interface ConnectionRecord extends ConnectionFingerprints {
  /** First packet of the connection we fingerprinted, ISO 8601 (UTC, microseconds). */
  timestamp: string;
  /** `udp` for QUIC, as FoxIO writes it. */
  transport: "tcp" | "udp";
  src: string;
  src_port: number;
  dst: string;
  dst_port: number;
  /** One JA4H per HTTP request, in order. */
  ja4h?: string[];
}

/** Field order of every output format. */
export const CONNECTION_FIELDS: (keyof ConnectionRecord)[] = [
  "timestamp",
  "transport",
  "src",
  "src_port",
  "dst",
  "dst_port",
  "tls_server_name",
  "ja4",
  "ja4_r",
  "ja4_o",
  "ja4_ro",
  "ja3",
  "ja3_full",
  "ja4s",
  "ja3s",
  "ja4t",
  "ja4h",
];

/** The second last formatted by isoMicros, and its `YYYY-MM-DDTHH:MM:SS` text. */
let isoSecond = NaN;
let isoPrefix = "";

/** Microseconds since the epoch → ISO 8601 with microseconds. */
export function isoMicros(tsUs: number): string {
  // Connections come in capture order, many per second: the date part is formatted once
  // per second (Date#toISOString per connection was a tenth of the CLI's time).
  const second = Math.floor(tsUs / 1e6);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 19); // …T12:34:56
  }
  const frac = String(tsUs - second * 1e6).padStart(6, "0");
  return `${isoPrefix}.${frac}Z`;
}

interface Entry {
  order: number;
  rec: ConnectionRecord;
  sawClient: boolean;
  /** Capture time of the connection's latest record. */
  lastUs: number;
}

/** Options of a {@link ConnectionTable}. */
export interface ConnectionTableOptions {
  /**
   * Finish a TLS connection as soon as both its ClientHello and ServerHello are in (see
   * {@link ConnectionTable.takeFinished}) instead of keeping it until it is idle: nothing
   * can change its record afterwards unless the capture carries a TLS key log (then call
   * {@link ConnectionTable.keyLogSeen}). Keeps memory to the handshakes in progress on
   * captures with many connections in a short time. Default false.
   */
  finishHandshakes?: boolean;
}

/**
 * Accumulates records by engine flow number (unique within a session, TCP and QUIC alike,
 * and kept unique across shards by the sharded reader).
 */
export class ConnectionTable {
  #byFlow = new Map<number, Entry>();
  #n = 0;
  /** The flow touched last: already at the end of the activity order. */
  #lastFlow = -1;
  /** Latest capture time of any record added. */
  #latestUs = 0;
  #finishHandshakes: boolean;
  /** Connections finished by their handshakes, not yet taken. */
  #finished: ConnectionRecord[] = [];
  /**
   * Flows already finished → capture time they finished: their later records (a second
   * ClientHello after a HelloRetryRequest, a retransmitted ServerHello) are not a new
   * connection. Forgotten once idle, like connections.
   */
  #done = new Map<number, number>();

  constructor(opts: ConnectionTableOptions = {}) {
    this.#finishHandshakes = opts.finishHandshakes ?? false;
  }

  /**
   * The capture carries TLS secrets: a TLS connection may decrypt to HTTP requests (JA4H)
   * after its hellos, so from now on connections end only when idle.
   */
  keyLogSeen(): void {
    this.#finishHandshakes = false;
  }

  /** Connections finished by their handshakes since the last call, in the order they finished. */
  takeFinished(): ConnectionRecord[] {
    const out = this.#finished;
    this.#finished = [];
    return out;
  }

  /** Merges one engine record into its connection. */
  add(r: EngineRecord): void {
    if (r.ts_us > this.#latestUs) this.#latestUs = r.ts_us;
    const key = r.flow;
    if (this.#done.has(key)) return;
    let e = this.#byFlow.get(key);
    const fromServer = r.kind === "server_hello";
    if (!e) {
      e = {
        order: this.#n++,
        sawClient: !fromServer,
        lastUs: r.ts_us,
        rec: {
          timestamp: isoMicros(r.ts_us),
          transport: r.transport === "quic" ? "udp" : "tcp",
          src: fromServer ? r.dst : r.src,
          src_port: fromServer ? r.dst_port : r.src_port,
          dst: fromServer ? r.src : r.dst,
          dst_port: fromServer ? r.src_port : r.dst_port,
        },
      };
      this.#byFlow.set(key, e);
    } else if (!e.sawClient && !fromServer) {
      // The client spoke after the server was seen: orient by the client.
      e.sawClient = true;
      Object.assign(e.rec, { src: r.src, src_port: r.src_port, dst: r.dst, dst_port: r.dst_port });
    }
    if (r.ts_us >= e.lastUs) {
      e.lastUs = r.ts_us;
      // Re-insert so the map's order is least recently active first (see takeIdle);
      // a flow's records often come in a row, and then it is already last.
      if (key !== this.#lastFlow) {
        this.#byFlow.delete(key);
        this.#byFlow.set(key, e);
      }
    }
    this.#lastFlow = key;
    const c = e.rec;
    // Only defined values are set: the records need no clean-up before output.
    switch (r.kind) {
      case "client_hello":
        // FoxIO reports the first ClientHello per connection; every hello is still a
        // separate engine record for consumers that want them all (HelloRetryRequest).
        if (c.ja4 === undefined) {
          if (r.tls_server_name !== undefined) c.tls_server_name = r.tls_server_name;
          if (r.ja4 !== undefined) c.ja4 = r.ja4;
          if (r.ja4_r !== undefined) c.ja4_r = r.ja4_r;
          if (r.ja4_o !== undefined) c.ja4_o = r.ja4_o;
          if (r.ja4_ro !== undefined) c.ja4_ro = r.ja4_ro;
          if (r.ja3 !== undefined) c.ja3 = r.ja3;
          if (r.ja3_full !== undefined) c.ja3_full = r.ja3_full;
        }
        break;
      case "server_hello":
        if (c.ja4s === undefined) {
          if (r.ja4s !== undefined) c.ja4s = r.ja4s;
          if (r.ja3s !== undefined) c.ja3s = r.ja3s;
        }
        break;
      case "syn":
        if (c.ja4t === undefined && r.ja4t !== undefined) c.ja4t = r.ja4t;
        break;
      case "http_request":
        if (r.ja4h) (c.ja4h ??= []).push(r.ja4h);
        break;
    }
    if (this.#finishHandshakes && c.ja4 !== undefined && c.ja4s !== undefined) {
      this.#byFlow.delete(key);
      if (key === this.#lastFlow) this.#lastFlow = -1;
      this.#done.set(key, e.lastUs);
      this.#finished.push(c);
    }
  }

  /**
   * Removes and returns the connections with no record for `idleUs` of capture time
   * before `nowUs`, so a long capture streams out instead of piling up in memory. A
   * connection that speaks again later (a late keep-alive request) starts a new record.
   */
  takeIdle(nowUs: number, idleUs: number): ConnectionRecord[] {
    // Finished flows are forgotten after the same silence (oldest finished first).
    for (const [key, lastUs] of this.#done) {
      if (nowUs - lastUs <= idleUs) break;
      this.#done.delete(key);
    }
    const idle: Entry[] = [];
    // Least recently active first: stop at the first connection still active.
    for (const [key, e] of this.#byFlow) {
      if (nowUs - e.lastUs <= idleUs) break;
      idle.push(e);
      this.#byFlow.delete(key);
      if (key === this.#lastFlow) this.#lastFlow = -1;
    }
    return ConnectionTable.#ordered(idle);
  }

  /**
   * What a stream can print now: the connections finished by their handshakes (in the
   * order they finished), then those idle for `idleUs` before the latest record added.
   */
  takeReady(idleUs: number): ConnectionRecord[] {
    return [...this.takeFinished(), ...this.takeIdle(this.#latestUs, idleUs)];
  }

  /**
   * Every connection not yet taken: those finished by their handshakes first (in the order
   * they finished), then the rest in order of first appearance, TCP before UDP as FoxIO
   * lists them.
   */
  list(): ConnectionRecord[] {
    return [...this.takeFinished(), ...ConnectionTable.#ordered([...this.#byFlow.values()])];
  }

  static #ordered(all: Entry[]): ConnectionRecord[] {
    all.sort((a, b) =>
      (a.rec.transport === b.rec.transport ? 0 : a.rec.transport === "tcp" ? -1 : 1) ||
      a.order - b.order
    );
    return all.map((e) => e.rec);
  }

  get size(): number {
    return this.#byFlow.size;
  }
}

/** Strings that JSON writes as they are between quotes: printable ASCII, no `"` or backslash. */
const PLAIN_JSON = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * JSON text of the fingerprint strings seen lately. The engine hands out the same string
 * objects for repeated fingerprints (its dictionary), and V8 keeps a string's hash in the
 * string, so a lookup is far cheaper than scanning a 500-character ja4_ro again. Bounded:
 * cleared when full.
 */
const jsonCache = new Map<string, string>();
const JSON_CACHE_MAX = 1 << 16;

function jsonString(s: string): string {
  let j = jsonCache.get(s);
  if (j === undefined) {
    j = PLAIN_JSON.test(s) ? `"${s}"` : JSON.stringify(s);
    if (jsonCache.size >= JSON_CACHE_MAX) jsonCache.clear();
    jsonCache.set(s, j);
  }
  return j;
}

/**
 * One JSON line (without the newline) for a connection: the fields in
 * {@link CONNECTION_FIELDS} order, absent ones left out. The same text as
 * `JSON.stringify` of the record with its keys in that order, several times faster
 * (fingerprints need no escaping; only unusual strings go through JSON.stringify).
 */
export function jsonLine(r: ConnectionRecord): string {
  // Timestamps and addresses are our own formatting (digits, hex, `-:.TZ`): never escaped.
  let out =
    `{"timestamp":"${r.timestamp}","transport":"${r.transport}","src":"${r.src}","src_port":${r.src_port},"dst":"${r.dst}","dst_port":${r.dst_port}`;
  if (r.tls_server_name !== undefined) out += `,"tls_server_name":${jsonString(r.tls_server_name)}`;
  if (r.ja4 !== undefined) out += `,"ja4":${jsonString(r.ja4)}`;
  if (r.ja4_r !== undefined) out += `,"ja4_r":${jsonString(r.ja4_r)}`;
  if (r.ja4_o !== undefined) out += `,"ja4_o":${jsonString(r.ja4_o)}`;
  if (r.ja4_ro !== undefined) out += `,"ja4_ro":${jsonString(r.ja4_ro)}`;
  if (r.ja3 !== undefined) out += `,"ja3":${jsonString(r.ja3)}`;
  if (r.ja3_full !== undefined) out += `,"ja3_full":${jsonString(r.ja3_full)}`;
  if (r.ja4s !== undefined) out += `,"ja4s":${jsonString(r.ja4s)}`;
  if (r.ja3s !== undefined) out += `,"ja3s":${jsonString(r.ja3s)}`;
  if (r.ja4t !== undefined) out += `,"ja4t":${jsonString(r.ja4t)}`;
  if (r.ja4h !== undefined) out += `,"ja4h":[${r.ja4h.map(jsonString).join(",")}]`;
  return out + "}";
}

/** CSV cell: quoted when it holds a comma, quote or newline; lists joined by spaces. */
function csvCell(v: unknown): string {
  if (v === undefined) return "";
  const s = Array.isArray(v) ? v.join(" ") : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The CSV header line. */
export function csvHeader(): string {
  return CONNECTION_FIELDS.join(",");
}

/** One CSV line for a connection. */
export function csvLine(r: ConnectionRecord): string {
  return CONNECTION_FIELDS.map((k) => csvCell(r[k])).join(",");
}

/** Compact table rows (the long raw strings are left to jsonl/csv). */
export function tableLines(rows: ConnectionRecord[]): string[] {
  const cols: (keyof ConnectionRecord)[] = [
    "transport",
    "src",
    "src_port",
    "dst",
    "dst_port",
    "tls_server_name",
    "ja4",
    "ja4s",
    "ja4t",
    "ja3",
    "ja4h",
  ];
  const cells = rows.map((r) =>
    cols.map((k) => {
      const v = r[k];
      return v === undefined ? "-" : Array.isArray(v) ? v.join(" ") : String(v);
    })
  );
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [fmt(cols as string[]), ...cells.map(fmt)];
}
