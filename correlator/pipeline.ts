/**
 * The correlator's engine without I/O: lines in (from either socket), batches out to the
 * sinks. Lines are parsed and checked, TLS events become `tls_handshakes` rows and enter the
 * join, join results become `http_logs` rows, rows are cut into batches by count and age.
 * Bad lines are counted by reason, logged rate-limited, and skipped.
 *
 * `tick()` (on a timer) releases what the clock has expired and cuts old batches; `stop()`
 * drains the join (every waiting request and unused handshake is written, marked unmatched),
 * cuts the last batch and flushes and closes every sink.
 *
 * @example
 * ```ts
 * const c = new Pipeline({ join, batchRows: 10_000, batchMs: 1000, sinks: [sink], log });
 * c.handleLine(line, "http");
 * setInterval(() => c.tick(), 100);
 * await c.stop();
 * ```
 */
import type { HttpEvent, TlsEvent } from "../lib/events.ts";
import { type Logger, rateLimited } from "../lib/log.ts";
import { type Batch, Batcher, newBatchPrefix } from "./batch.ts";
import { Joiner, type JoinOptions, type JoinResult } from "./join.ts";
import { Histogram, type Metric } from "./metrics.ts";
import { parseEventLine, type RejectReason } from "./parse.ts";
import { httpLogRow, tlsHandshakeRow } from "./rows.ts";
import type { Sink } from "./sink.ts";

/** The two inputs. */
export type Source = "http" | "network";

/** What a {@link Pipeline} needs: join bounds, batch cut, sinks, a logger, and a clock for tests. */
export interface PipelineOptions {
  join: JoinOptions;
  batchRows: number;
  batchMs: number;
  sinks: Sink[];
  log: Logger;
  /** Wall clock in ms (tests pass a fake). */
  now?: () => number;
  idPrefix?: string;
}

/** Upper bounds (seconds) of the join-wait histogram. */
const WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];
/**
 * Per-event overhead added to the line length for the join's byte estimate. V8 keeps ASCII
 * strings one byte per character; bench:correlator measured ~1,250 heap bytes per pending
 * handshake of an ~800-byte line, which this estimate (plus the join's per-key overhead) covers.
 */
const EVENT_BYTES = 400;

/** Lines in, batches out; see the module comment. */
export class Pipeline {
  readonly #opt: PipelineOptions;
  readonly #now: () => number;
  readonly #joiner: Joiner;
  readonly #batcher: Batcher;
  readonly #warn: ReturnType<typeof rateLimited>;
  readonly #wait = new Histogram(WAIT_BUCKETS);
  readonly #lines: Record<Source, number> = { http: 0, network: 0 };
  readonly #oversized: Record<Source, number> = { http: 0, network: 0 };
  readonly #rejected = new Map<RejectReason, number>();
  #rows = { http_logs: 0, tls_handshakes: 0 };
  #batches = 0;
  #stopped = false;

  constructor(options: PipelineOptions) {
    this.#opt = options;
    this.#now = options.now ?? Date.now;
    this.#joiner = new Joiner(options.join, (r) => this.#onResult(r));
    this.#batcher = new Batcher({
      maxRows: options.batchRows,
      maxAgeMs: options.batchMs,
      idPrefix: options.idPrefix ?? newBatchPrefix(),
    });
    this.#warn = rateLimited(options.log, 10_000);
  }

  /** Takes one line from a socket; never throws on bad input. */
  handleLine(line: string, source: Source): void {
    this.#lines[source]++;
    const r = parseEventLine(line);
    if (!r.ok) {
      this.#rejected.set(r.reason, (this.#rejected.get(r.reason) ?? 0) + 1);
      this.#warn("warn", "malformed event line skipped", {
        socket: source,
        reason: r.reason,
        line: line.length > 200 ? line.slice(0, 200) + "…" : line,
      });
      return;
    }
    const nowUs = this.#now() * 1000;
    const bytes = EVENT_BYTES + line.length;
    if (r.event.type === "tls") this.#addTls(r.event, nowUs, bytes);
    else this.#joiner.addHttp(r.event as HttpEvent, nowUs, bytes);
  }

  /** Counts a line the socket reader skipped for its size. */
  handleOversize(bytes: number, source: Source): void {
    this.#oversized[source]++;
    this.#warn("warn", "oversized event line skipped", { socket: source, bytes });
  }

  /** Releases expired join state and cuts an old batch; call it every ~100 ms. */
  tick(): void {
    const now = this.#now();
    this.#joiner.expire(now * 1000);
    const b = this.#batcher.poll(now);
    if (b) this.#dispatch(b);
  }

  /** Drains the join, writes the last batch, flushes and closes the sinks. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#joiner.drain(this.#now() * 1000);
    const b = this.#batcher.take();
    if (b) this.#dispatch(b);
    for (const s of this.#opt.sinks) {
      try {
        await s.close();
      } catch (err) {
        this.#opt.log.error("sink failed to close", {
          sink: s.name,
          error: (err as Error).message,
        });
      }
    }
  }

  /** Waits until every batch cut so far is stored by every sink (tests, shutdown). */
  async flush(): Promise<void> {
    const b = this.#batcher.take();
    if (b) this.#dispatch(b);
    for (const s of this.#opt.sinks) await s.flush();
  }

  #addTls(tls: TlsEvent, nowUs: number, bytes: number): void {
    // Every TLS event is a tls_handshakes row; an update (late JA4S) is marked is_update=1.
    this.#add("tls_handshakes", tlsHandshakeRow(tls));
    this.#joiner.addTls(tls, nowUs, bytes);
  }

  #onResult(r: JoinResult): void {
    if (r.wait_us > 0 || r.status === "matched") this.#wait.observe(r.wait_us / 1e6);
    this.#add("http_logs", httpLogRow(r));
  }

  #add(table: "http_logs" | "tls_handshakes", row: Record<string, unknown>): void {
    this.#rows[table]++;
    const full = this.#batcher.add(table, row as never, this.#now());
    if (full) this.#dispatch(full);
  }

  #dispatch(b: Batch): void {
    this.#batches++;
    for (const s of this.#opt.sinks) s.write(b);
  }

  /** Counters as one flat object (for the periodic log line and tests). */
  stats(): Record<string, number> {
    const j = this.#joiner.stats();
    const out: Record<string, number> = {
      lines_http: this.#lines.http,
      lines_network: this.#lines.network,
      oversized: this.#oversized.http + this.#oversized.network,
      rejected: [...this.#rejected.values()].reduce((a, b) => a + b, 0),
      ...j,
      rows_http_logs: this.#rows.http_logs,
      rows_tls_handshakes: this.#rows.tls_handshakes,
      batches: this.#batches,
      batch_pending_rows: this.#batcher.pending,
    };
    for (const s of this.#opt.sinks) {
      for (const [k, v] of Object.entries(s.stats())) out[`${s.name}_${k}`] = v;
    }
    return out;
  }

  /** Every metric family, for the Prometheus endpoint. */
  metrics(): Metric[] {
    const j = this.#joiner.stats();
    const p = "ja4_correlator_";
    const counter = (name: string, help: string, samples: Metric["samples"]): Metric => ({
      name: p + name,
      help,
      type: "counter",
      samples,
    });
    const gauge = (name: string, help: string, value: number): Metric => ({
      name: p + name,
      help,
      type: "gauge",
      samples: [{ value }],
    });
    const sinkSamples: Record<string, Metric["samples"]> = {};
    for (const s of this.#opt.sinks) {
      for (const [k, v] of Object.entries(s.stats())) {
        (sinkSamples[k] ??= []).push({ labels: { sink: s.name }, value: v });
      }
    }
    return [
      counter("lines_total", "event lines read, by socket", [
        { labels: { socket: "http" }, value: this.#lines.http },
        { labels: { socket: "network" }, value: this.#lines.network },
      ]),
      counter("oversized_lines_total", "lines skipped for their size, by socket", [
        { labels: { socket: "http" }, value: this.#oversized.http },
        { labels: { socket: "network" }, value: this.#oversized.network },
      ]),
      counter(
        "rejected_lines_total",
        "malformed lines skipped, by reason",
        [...this.#rejected].map(([reason, value]) => ({ labels: { reason }, value })),
      ),
      counter("events_total", "events taken by the join, by type", [
        { labels: { type: "tls" }, value: j.tls_in },
        { labels: { type: "tls_update" }, value: j.tls_updates },
        { labels: { type: "http" }, value: j.http_in },
      ]),
      counter("results_total", "http_logs rows by match status", [
        { labels: { status: "matched" }, value: j.matched },
        { labels: { status: "no_tls" }, value: j.no_tls },
        { labels: { status: "tls_only" }, value: j.tls_only },
      ]),
      counter("evicted_total", "connections flushed early by the entry/byte bounds", [{
        value: j.evicted,
      }]),
      counter("rows_total", "rows built, by table", [
        { labels: { table: "http_logs" }, value: this.#rows.http_logs },
        { labels: { table: "tls_handshakes" }, value: this.#rows.tls_handshakes },
      ]),
      counter("batches_total", "batches cut", [{ value: this.#batches }]),
      gauge("pending_connections", "connections held by the join", j.entries),
      gauge("pending_requests", "requests waiting for their handshake", j.pending_http),
      gauge("state_bytes", "estimated bytes held by the join", j.bytes),
      gauge("batch_pending_rows", "rows in the open batch", this.#batcher.pending),
      this.#wait.metric(p + "join_wait_seconds", "how long a joined or released event waited"),
      ...Object.entries(sinkSamples).map(([k, samples]): Metric => ({
        name: `${p}sink_${k}`,
        help: `sink ${k.replace(/_/g, " ")}`,
        type: /^(queue_rows|spool_batches|spool_bytes|healthy|file_bytes)$/.test(k)
          ? "gauge"
          : "counter",
        samples,
      })),
    ];
  }
}
