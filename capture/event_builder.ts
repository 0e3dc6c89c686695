/**
 * From engine records (SYN, ClientHello, ServerHello) to the TLS events of network.socket, as
 * NDJSON lines (lib/events.ts `TlsEvent`).
 * Pure and bounded: records in, events out, no I/O and no clock other than the records' own.
 *
 * Rules (capture/README.md, "Events"):
 * - Each ClientHello yields one event at once with JA4 (+ `_r/_o/_ro`), JA3, SNI, ALPN, version,
 *   counts, and JA4T + TCP values from that connection's SYN when the SYN was seen.
 * - JA4S arrives as a follow-up event: the same 4-tuple and `ts_us` as the ClientHello's event,
 *   every field of it repeated, `ja4s`/`ja3s` added and `update: true`. ClientHello events are
 *   never held back waiting for a ServerHello that may not come (asymmetric routing, a dropped
 *   packet, a scanner that hangs up), and a consumer that ignores updates still gets each
 *   handshake exactly once. Reusing the hello's `ts_us` lets the correlator find the very
 *   handshake the update completes when a client port is reused.
 * - The IP filter is applied to the client address (the source of the ClientHello).
 * - Flow state (SYN values, emitted hellos awaiting JA4S) lives in a table bounded in entries
 *   and in age; the oldest entries go first.
 *
 * @example
 * ```ts
 * const builder = new EventBuilder({ filter: createIpFilter({ deny: ["10.0.0.5"] }) });
 * for (const rec of records) for (const line of builder.add(rec)) out.send(line);
 * ```
 */
import type { IpFilter } from "../lib/ip_filter.ts";
import type { EventBase, TlsEvent } from "../lib/events.ts";

/** Fingerprints and values a record may carry, named and typed as in the events. */
type RecordFields = Partial<
  Pick<
    TlsEvent,
    | "ja4"
    | "ja4_r"
    | "ja4_o"
    | "ja4_ro"
    | "ja3"
    | "ja3_full"
    | "ja4s"
    | "ja3s"
    | "ja4t"
    | "tls_server_name"
    | "alpn"
    | "cipher_count"
    | "extension_count"
    | "tcp_window"
    | "tcp_mss"
    | "tcp_window_scale"
    | "ip_ttl"
  >
>;

/**
 * What the sensor needs from one engine record (engine.ts maps core-wasm's records to it):
 * the packet's time and addresses (its sender as `src_*`), and the record's fields.
 */
export type HandshakeRecord = EventBase & RecordFields & {
  kind: "client_hello" | "server_hello" | "syn" | "other";
  transport: "tcp" | "quic";
};

/** Counters of an {@link EventBuilder}. */
export interface BuilderStats {
  /** ClientHello events emitted. */
  hellos: number;
  /** JA4S follow-up events emitted. */
  updates: number;
  syns: number;
  /** Records dropped by the IP filter. */
  filtered: number;
  /** ServerHellos with no emitted ClientHello on their connection (capture started late…). */
  orphan_server_hellos: number;
  /** Flow entries evicted by the size bound before they expired. */
  evicted: number;
  /** Flow entries held now. */
  flows: number;
}

/** Options of {@link EventBuilder}. */
export interface BuilderOptions {
  filter?: IpFilter;
  /** Flow entries kept at most (SYN values, hellos awaiting JA4S). */
  maxFlows?: number;
  /** A flow entry older than this (record time) is forgotten. */
  flowTtlUs?: number;
}

/** What a flow keeps of its SYN: only the values events carry (small: many flows are held). */
type SynValues = Pick<
  HandshakeRecord,
  "ja4t" | "tcp_window" | "tcp_mss" | "tcp_window_scale" | "ip_ttl"
>;

interface Flow {
  syn?: SynValues;
  /** The ClientHello event's line, awaiting its ServerHello (dropped once the update is out). */
  hello?: string;
  /** Record time of the last thing seen on the flow. */
  lastUs: number;
}

/** The JA4 "version" part (`13`, `12`, `s3`, …) from a JA4 string (`t13d…`, `q13…`). */
export function ja4Version(ja4: string): string | undefined {
  return /^[tqd]([0-9a-z]{2})/.exec(ja4)?.[1];
}

function clientKey(transport: string, ip: string, port: number, sip: string, sport: number) {
  return `${transport}|${ip}|${port}|${sip}|${sport}`;
}

/** Client addresses whose filter verdict is remembered (then the memo starts afresh). */
const VERDICT_MEMO = 65_536;

/** Builds TLS event lines from engine records; see the module comment for the rules. */
export class EventBuilder {
  readonly #filter?: IpFilter;
  /** Filter verdicts by address: parsing an address per packet costs more than the rest. */
  readonly #verdicts = new Map<string, boolean>();
  readonly #maxFlows: number;
  readonly #ttlUs: number;
  /** Insertion order is age order: a touched flow is deleted and re-set. */
  readonly #flows = new Map<string, Flow>();
  readonly #stats = {
    hellos: 0,
    updates: 0,
    syns: 0,
    filtered: 0,
    orphan_server_hellos: 0,
    evicted: 0,
  };

  constructor(options: BuilderOptions = {}) {
    // An empty filter allows everything: skip it rather than parse every address.
    const f = options.filter;
    this.#filter = f && (f.allowCount > 0 || f.denyCount > 0) ? f : undefined;
    this.#maxFlows = options.maxFlows ?? 65_536;
    this.#ttlUs = options.flowTtlUs ?? 120e6;
  }

  /** Counters, as a fresh object. */
  stats(): BuilderStats {
    return { ...this.#stats, flows: this.#flows.size };
  }

  /**
   * Feeds one record; returns the NDJSON lines (no newline) of the events it completes: zero or
   * one. Lines, not objects: the JA4S update is the hello's line with fields appended, so each
   * handshake is serialized once.
   */
  add(rec: HandshakeRecord): string[] {
    this.#expire(rec.ts_us);
    switch (rec.kind) {
      case "syn":
        return this.#syn(rec);
      case "client_hello":
        return this.#clientHello(rec);
      case "server_hello":
        return this.#serverHello(rec);
      default:
        return [];
    }
  }

  #allows(ip: string): boolean {
    if (!this.#filter) return true;
    let verdict = this.#verdicts.get(ip);
    if (verdict === undefined) {
      verdict = this.#filter.allows(ip);
      if (this.#verdicts.size >= VERDICT_MEMO) this.#verdicts.clear();
      this.#verdicts.set(ip, verdict);
    }
    return verdict;
  }

  #syn(rec: HandshakeRecord): string[] {
    if (!this.#allows(rec.src_ip)) {
      this.#stats.filtered++;
      return [];
    }
    this.#stats.syns++;
    const key = clientKey(rec.transport, rec.src_ip, rec.src_port, rec.dst_ip, rec.dst_port);
    // A new SYN on a known 4-tuple is a new connection (port reuse): start afresh.
    const syn: SynValues = {
      ja4t: rec.ja4t,
      tcp_window: rec.tcp_window,
      tcp_mss: rec.tcp_mss,
      tcp_window_scale: rec.tcp_window_scale,
      ip_ttl: rec.ip_ttl,
    };
    this.#put(key, { syn, lastUs: rec.ts_us });
    return [];
  }

  #clientHello(rec: HandshakeRecord): string[] {
    if (!this.#allows(rec.src_ip)) {
      this.#stats.filtered++;
      return [];
    }
    const key = clientKey(rec.transport, rec.src_ip, rec.src_port, rec.dst_ip, rec.dst_port);
    const flow = this.#flows.get(key);
    const syn = flow?.syn;
    const ev: TlsEvent = {
      type: "tls",
      ts_us: rec.ts_us,
      src_ip: rec.src_ip,
      src_port: rec.src_port,
      dst_ip: rec.dst_ip,
      dst_port: rec.dst_port,
      transport: rec.transport,
      ja4: rec.ja4 ?? "",
      ja4_r: rec.ja4_r ?? "",
      ja4_o: rec.ja4_o ?? "",
      ja4_ro: rec.ja4_ro ?? "",
      ja3: rec.ja3 ?? "",
      ja3_full: rec.ja3_full ?? "",
    };
    if (rec.tls_server_name) ev.tls_server_name = rec.tls_server_name;
    const version = ja4Version(ev.ja4);
    if (version) ev.tls_version = version;
    if (rec.alpn) ev.alpn = rec.alpn;
    if (rec.cipher_count !== undefined) ev.cipher_count = rec.cipher_count;
    if (rec.extension_count !== undefined) ev.extension_count = rec.extension_count;
    if (syn) {
      if (syn.ja4t) ev.ja4t = syn.ja4t;
      if (syn.tcp_window !== undefined) ev.tcp_window = syn.tcp_window;
      if (syn.tcp_mss !== undefined) ev.tcp_mss = syn.tcp_mss;
      if (syn.tcp_window_scale !== undefined) ev.tcp_window_scale = syn.tcp_window_scale;
    }
    // The TTL of the SYN and of the hello are the client's; the hello's serves when the SYN
    // was missed (capture started mid-connection, QUIC).
    const ttl = syn?.ip_ttl ?? rec.ip_ttl;
    if (ttl !== undefined) ev.ip_ttl = ttl;
    const line = JSON.stringify(ev);
    this.#put(key, { syn, hello: line, lastUs: rec.ts_us });
    this.#stats.hellos++;
    return [line];
  }

  #serverHello(rec: HandshakeRecord): string[] {
    // The ServerHello travels server → client: the client is its destination.
    const key = clientKey(rec.transport, rec.dst_ip, rec.dst_port, rec.src_ip, rec.src_port);
    const flow = this.#flows.get(key);
    if (!flow?.hello) {
      if (!this.#allows(rec.dst_ip)) this.#stats.filtered++;
      else this.#stats.orphan_server_hellos++;
      return [];
    }
    // The hello's line (a JSON object) with the late fields and the update mark appended.
    let extra = "";
    if (rec.ja4s) extra += `,"ja4s":${JSON.stringify(rec.ja4s)}`;
    if (rec.ja3s) extra += `,"ja3s":${JSON.stringify(rec.ja3s)}`;
    const update = `${flow.hello.slice(0, -1)}${extra},"update":true}`;
    // One update per hello: a second ServerHello (after HelloRetryRequest) answers the second
    // ClientHello, whose own event replaces `hello` in the flow.
    this.#put(key, { syn: flow.syn, lastUs: rec.ts_us });
    this.#stats.updates++;
    return [update];
  }

  #put(key: string, flow: Flow): void {
    this.#flows.delete(key);
    this.#flows.set(key, flow);
    while (this.#flows.size > this.#maxFlows) {
      const oldest = this.#flows.keys().next().value!;
      this.#flows.delete(oldest);
      this.#stats.evicted++;
    }
  }

  #expire(nowUs: number): void {
    const limit = nowUs - this.#ttlUs;
    for (const [key, flow] of this.#flows) {
      if (flow.lastUs >= limit) break;
      this.#flows.delete(key);
    }
  }
}
