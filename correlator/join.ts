/**
 * The join: HTTP requests (from mod_reqin_log) to the TLS handshake of their connection
 * (from capture/), keyed by the client's `src_ip:src_port` and the server port.
 *
 * Pure and clock-driven: every call passes `nowUs` (the processing clock, microseconds), so
 * tests can walk time exactly. Nothing is ever dropped: every HTTP request leaves as exactly one
 * result (`matched` or `no_tls`), and every handshake that no request used leaves as one
 * `tls_only` result when it is finalized (idle expiry, eviction under the bounds, or drain).
 *
 * Rules:
 * - A request matches the latest handshake of its key that is not after it (by event time);
 *   when there is none, the earliest one at most `windowUs` after it (the tolerance covers
 *   clock granularity between the two producers).
 *   So one handshake serves every request of a keep-alive or HTTP/2 connection, and a port that
 *   a new connection reuses gets the new handshake for requests after it.
 * - A request with no such handshake waits up to `windowUs` of processing time for one (the
 *   capture may be slower than Apache); then it leaves as `no_tls`.
 * - A handshake stays joinable until `connTtlUs` of processing time passes without activity.
 * - Bounds: when the number of keys exceeds `maxEntries` or the estimated bytes exceed
 *   `maxBytes`, the least recently active key is finalized early (counted as `evicted`).
 *
 * @example
 * ```ts
 * const out: JoinResult[] = [];
 * const j = new Joiner({ windowUs: 2e6, connTtlUs: 120e6, maxEntries: 1e6, maxBytes: 2 ** 28 },
 *   (r) => out.push(r));
 * j.addTls(tlsEvent, nowUs);
 * j.addHttp(httpEvent, nowUs); // out[0].status === "matched"
 * ```
 */
import type { HttpEvent, TlsEvent } from "../lib/events.ts";

/** How an `http_logs` row came about (the `match_status` column). */
export type MatchStatus = "matched" | "no_tls" | "tls_only";

/** One output of the join: an HTTP request with or without its handshake, or a lone handshake. */
export interface JoinResult {
  status: MatchStatus;
  http?: HttpEvent;
  tls?: TlsEvent;
  /** `http.ts_us - tls.ts_us` for matched results, else 0. */
  join_delay_us: number;
  /** Processing time the earlier half waited for the later one (0 when nothing waited). */
  wait_us: number;
}

/** Windows and bounds of the join (see the module comment for the rules). */
export interface JoinOptions {
  /** How long a request waits for its handshake, and the event-time tolerance. */
  windowUs: number;
  /** How long a handshake stays joinable after its last activity. */
  connTtlUs: number;
  /** Most keys (connections) held at once. */
  maxEntries: number;
  /** Most estimated bytes held at once. */
  maxBytes: number;
  /** Most handshakes kept per key (port reuse); the oldest is finalized beyond it. */
  maxHandshakesPerKey?: number;
}

/** Counters of the join since it was created, plus the current state sizes. */
export interface JoinStats {
  tls_in: number;
  http_in: number;
  tls_updates: number;
  /** Updates (late JA4S) for a handshake no longer held. */
  tls_updates_orphan: number;
  matched: number;
  no_tls: number;
  tls_only: number;
  /** Keys finalized early because of maxEntries/maxBytes. */
  evicted: number;
  /** Keys held now. */
  entries: number;
  /** Requests waiting for a handshake now. */
  pending_http: number;
  /** Estimated bytes held now. */
  bytes: number;
}

interface Pending {
  http: HttpEvent;
  arrivedUs: number;
  bytes: number;
  done: boolean;
  conn: Conn;
}

/**
 * What a settled Pending points to instead of its event and connection: the expiry queue may
 * hold a settled entry for up to `windowUs`, and must not keep its event alive that long.
 */
const SETTLED_HTTP = { type: "http" } as HttpEvent;
const SETTLED_CONN: Conn = { key: "", handshakes: [], pending: [], lastUs: 0, bytes: 0 };

interface Handshake {
  tls: TlsEvent;
  arrivedUs: number;
  requests: number;
  bytes: number;
}

interface Conn {
  key: string;
  /** Sorted by event time, oldest first. */
  handshakes: Handshake[];
  pending: Pending[];
  lastUs: number;
  bytes: number;
}

/** Fixed per-object overheads used by the byte estimate (V8 headers, map slots). */
const CONN_OVERHEAD = 200;
const EVENT_OVERHEAD = 120;

/** Normalizes an address so both producers' spellings meet: `::ffff:1.2.3.4` → `1.2.3.4`. */
export function normalizeIp(ip: string): string {
  if (ip.length > 7 && ip.charCodeAt(0) === 58 /* : */ && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip)) {
    return ip.slice(7);
  }
  // IPv6 text from inet_ntop is lower case already; this only guards hand-written input.
  return ip.includes(":") ? ip.toLowerCase() : ip;
}

/** The join key of an event: client address and port, and the server port. */
export function connKey(ev: { src_ip: string; src_port: number; dst_port: number }): string {
  return `${normalizeIp(ev.src_ip)}|${ev.src_port}|${ev.dst_port}`;
}

/** Rough in-memory size of an event (V8 one-byte strings plus object and slot overhead). */
export function estimateEventBytes(ev: object): number {
  let n = EVENT_OVERHEAD;
  for (const v of Object.values(ev)) {
    if (typeof v === "string") n += 16 + v.length * 2;
    else if (Array.isArray(v)) {
      n += 16 + v.reduce((s: number, x) => s + 16 + String(x).length * 2, 0);
    } else if (v !== null && typeof v === "object") n += estimateEventBytes(v);
    else n += 16;
  }
  return n;
}

/** Fields a follow-up TLS event may add to the handshake it completes. */
const UPDATE_FIELDS = ["ja4s", "ja3s", "ja4t", "tls_version", "alpn"] as const;

/** The stateful join; see the module comment for the rules. */
export class Joiner {
  readonly #opt: Required<JoinOptions>;
  readonly #emit: (r: JoinResult) => void;
  /** Insertion order is recency order: a touched key is deleted and re-set. */
  readonly #conns = new Map<string, Conn>();
  /** Requests in arrival order; arrival times only grow, so expiry pops from the head. */
  #queue: Pending[] = [];
  #queueHead = 0;
  #bytes = 0;
  #pendingCount = 0;
  #lastNow = 0;
  readonly #stats = {
    tls_in: 0,
    http_in: 0,
    tls_updates: 0,
    tls_updates_orphan: 0,
    matched: 0,
    no_tls: 0,
    tls_only: 0,
    evicted: 0,
  };

  constructor(options: JoinOptions, emit: (r: JoinResult) => void) {
    this.#opt = { maxHandshakesPerKey: 4, ...options };
    this.#emit = emit;
  }

  /** Counters and sizes, as a fresh object. */
  stats(): JoinStats {
    return {
      ...this.#stats,
      entries: this.#conns.size,
      pending_http: this.#pendingCount,
      bytes: this.#bytes,
    };
  }

  /** Adds a TLS event (a ClientHello, or an `update` that completes an earlier one). */
  addTls(tls: TlsEvent, nowUs: number, bytes = estimateEventBytes(tls)): void {
    const now = this.#clock(nowUs);
    this.expire(now);
    const key = connKey(tls);
    const conn = this.#conns.get(key);
    if (tls.update) {
      this.#stats.tls_updates++;
      // capture/ repeats the hello's ts_us on its update: that names the very handshake.
      const hs = conn &&
        (conn.handshakes.find((h) => h.tls.ts_us === tls.ts_us) ?? this.#pick(conn, tls.ts_us));
      if (!hs) {
        this.#stats.tls_updates_orphan++;
        return;
      }
      for (const f of UPDATE_FIELDS) {
        if (tls[f] !== undefined && tls[f] !== "") {
          (hs.tls as unknown as Record<string, unknown>)[f] = tls[f];
        }
      }
      this.#touch(conn!, now);
      return;
    }
    this.#stats.tls_in++;
    const c = conn ?? this.#create(key, now);
    const hs: Handshake = { tls, arrivedUs: now, requests: 0, bytes };
    let i = c.handshakes.length;
    while (i > 0 && c.handshakes[i - 1].tls.ts_us > tls.ts_us) i--;
    c.handshakes.splice(i, 0, hs);
    this.#addBytes(c, bytes);
    if (c.handshakes.length > this.#opt.maxHandshakesPerKey) {
      this.#finishHandshake(c, c.handshakes.shift()!);
    }
    if (c.pending.length) this.#matchPending(c, now);
    this.#touch(c, now);
    this.#enforceBounds();
  }

  /** Adds an HTTP request: joined at once when its handshake is held, else it waits. */
  addHttp(http: HttpEvent, nowUs: number, bytes = estimateEventBytes(http)): void {
    const now = this.#clock(nowUs);
    this.expire(now);
    this.#stats.http_in++;
    const key = connKey(http);
    let conn = this.#conns.get(key);
    const hs = conn && this.#pick(conn, http.ts_us);
    if (hs) {
      hs.requests++;
      this.#stats.matched++;
      this.#emit({
        status: "matched",
        http,
        tls: hs.tls,
        join_delay_us: http.ts_us - hs.tls.ts_us,
        // The handshake was already here: the request itself did not wait.
        wait_us: 0,
      });
      this.#touch(conn!, now);
      return;
    }
    conn ??= this.#create(key, now);
    const p: Pending = { http, arrivedUs: now, bytes, done: false, conn };
    conn.pending.push(p);
    this.#queue.push(p);
    this.#pendingCount++;
    this.#addBytes(conn, bytes);
    this.#touch(conn, now);
    this.#enforceBounds();
  }

  /**
   * Emits what the clock has released: requests that waited `windowUs` (as `no_tls`) and keys
   * idle for `connTtlUs` (their unused handshakes as `tls_only`). Call it on a timer too, so
   * results leave when no new events arrive.
   */
  expire(nowUs: number): void {
    const now = this.#clock(nowUs);
    const { windowUs, connTtlUs } = this.#opt;
    while (this.#queueHead < this.#queue.length) {
      const p = this.#queue[this.#queueHead];
      if (!p.done && p.arrivedUs + windowUs > now) break;
      this.#queueHead++;
      if (p.done) continue;
      const c = p.conn;
      c.pending.splice(c.pending.indexOf(p), 1);
      this.#releasePending(p, "no_tls", now);
      if (c.pending.length === 0 && c.handshakes.length === 0) this.#delete(c);
    }
    this.#compactQueue();
    for (const c of this.#conns.values()) {
      if (c.lastUs + connTtlUs > now) break;
      this.#finishConn(c, now);
    }
  }

  /** Finalizes everything held (at shutdown): waiting requests as `no_tls`, unused handshakes as `tls_only`. */
  drain(nowUs: number): void {
    const now = this.#clock(nowUs);
    for (const c of [...this.#conns.values()]) this.#finishConn(c, now);
    this.#queue = [];
    this.#queueHead = 0;
  }

  #clock(nowUs: number): number {
    // The processing clock must not run backwards, or recency order would break.
    if (nowUs > this.#lastNow) this.#lastNow = nowUs;
    return this.#lastNow;
  }

  #create(key: string, now: number): Conn {
    const c: Conn = { key, handshakes: [], pending: [], lastUs: now, bytes: CONN_OVERHEAD };
    this.#conns.set(key, c);
    this.#bytes += CONN_OVERHEAD;
    return c;
  }

  #touch(c: Conn, now: number): void {
    c.lastUs = now;
    this.#conns.delete(c.key);
    this.#conns.set(c.key, c);
  }

  #addBytes(c: Conn, n: number): void {
    c.bytes += n;
    this.#bytes += n;
  }

  /**
   * The request's handshake: the latest one not after the request; failing that (clock
   * granularity between the producers), the earliest one at most `windowUs` after it. Never a
   * later handshake when an earlier one fits, so a request of an old connection is not given
   * the handshake of a new connection that reused the port within the window.
   */
  #pick(c: Conn, httpTs: number): Handshake | undefined {
    const hs = c.handshakes;
    for (let i = hs.length - 1; i >= 0; i--) {
      if (hs[i].tls.ts_us <= httpTs) return hs[i];
    }
    return hs.length > 0 && hs[0].tls.ts_us <= httpTs + this.#opt.windowUs ? hs[0] : undefined;
  }

  #matchPending(c: Conn, now: number): void {
    const still: Pending[] = [];
    for (const p of c.pending) {
      const hs = this.#pick(c, p.http.ts_us);
      if (!hs) {
        still.push(p);
        continue;
      }
      hs.requests++;
      this.#pendingCount--;
      this.#addBytes(c, -p.bytes);
      this.#stats.matched++;
      this.#emit({
        status: "matched",
        http: p.http,
        tls: hs.tls,
        join_delay_us: p.http.ts_us - hs.tls.ts_us,
        wait_us: now - p.arrivedUs,
      });
      this.#settle(p);
    }
    c.pending = still;
  }

  #releasePending(p: Pending, status: "no_tls", now: number): void {
    this.#pendingCount--;
    this.#addBytes(p.conn, -p.bytes);
    this.#stats.no_tls++;
    this.#emit({ status, http: p.http, join_delay_us: 0, wait_us: now - p.arrivedUs });
    this.#settle(p);
  }

  #settle(p: Pending): void {
    p.done = true;
    p.http = SETTLED_HTTP;
    p.conn = SETTLED_CONN;
  }

  #finishHandshake(c: Conn, hs: Handshake): void {
    this.#addBytes(c, -hs.bytes);
    if (hs.requests > 0) return;
    this.#stats.tls_only++;
    this.#emit({ status: "tls_only", tls: hs.tls, join_delay_us: 0, wait_us: 0 });
  }

  #finishConn(c: Conn, now: number): void {
    for (const hs of c.handshakes) this.#finishHandshake(c, hs);
    c.handshakes = [];
    for (const p of c.pending) if (!p.done) this.#releasePending(p, "no_tls", now);
    c.pending = [];
    this.#delete(c);
  }

  #delete(c: Conn): void {
    this.#bytes -= c.bytes;
    this.#conns.delete(c.key);
  }

  #enforceBounds(): void {
    const { maxEntries, maxBytes } = this.#opt;
    while (this.#conns.size > 0 && (this.#conns.size > maxEntries || this.#bytes > maxBytes)) {
      const oldest = this.#conns.values().next().value!;
      this.#stats.evicted++;
      this.#finishConn(oldest, this.#lastNow);
    }
  }

  /** Drops the consumed head of the queue once it is large, so the array does not grow forever. */
  #compactQueue(): void {
    if (this.#queueHead > 4096 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }
}
