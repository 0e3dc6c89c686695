import { assert, assertEquals, assertMatch } from "../lib/testing.ts";
import { createLogger } from "../lib/log.ts";
import { type Batch, batchRows } from "./batch.ts";
import { renderPrometheus } from "./metrics.ts";
import { Pipeline } from "./pipeline.ts";
import type { Sink } from "./sink.ts";
import { syntheticStream } from "./synthetic.ts";

class MemorySink implements Sink {
  readonly name = "memory";
  batches: Batch[] = [];
  closed = false;
  write(b: Batch) {
    this.batches.push(b);
  }
  flush() {
    return Promise.resolve();
  }
  close() {
    this.closed = true;
    return Promise.resolve();
  }
  stats() {
    return { batches: this.batches.length };
  }
  rows(table: "http_logs" | "tls_handshakes") {
    return this.batches.flatMap((b) => batchRows(b, table));
  }
}

function setup() {
  let now = 1_700_000_000_000;
  const logged: string[] = [];
  const sink = new MemorySink();
  const p = new Pipeline({
    join: { windowUs: 1_000_000, connTtlUs: 10_000_000, maxEntries: 1000, maxBytes: 1 << 26 },
    batchRows: 100,
    batchMs: 500,
    sinks: [sink],
    log: createLogger({ level: "warn", write: (l) => logged.push(l) }),
    now: () => now,
    idPrefix: "test",
  });
  return { p, sink, logged, advance: (ms: number) => (now += ms) };
}

Deno.test("Pipeline: lines → joined rows in batches cut by size and by age; stop drains", async () => {
  const { p, sink, advance } = setup();
  const s = syntheticStream({ connections: 40, requestsPerConnection: 2, noTls: 5, tlsOnly: 3 });
  for (const e of s.tls) p.handleLine(JSON.stringify(e), "network");
  for (const e of s.http) p.handleLine(JSON.stringify(e), "http");
  // 43 TLS rows + 80 matched = 123 rows: one full batch of 100 so far.
  assertEquals(sink.batches.length, 1);
  advance(499);
  p.tick();
  assertEquals(sink.batches.length, 1);
  advance(1);
  p.tick();
  assertEquals(sink.batches.length, 2);
  // The plain-HTTP requests are released by the window.
  advance(1000);
  p.tick();
  advance(500);
  p.tick();
  assertEquals(sink.rows("http_logs").filter((r) => r.match_status === "no_tls").length, 5);
  await p.stop();
  assert(sink.closed);
  const http = sink.rows("http_logs");
  assertEquals(http.filter((r) => r.match_status === "matched").length, 80);
  assertEquals(http.filter((r) => r.match_status === "tls_only").length, 3);
  assertEquals(sink.rows("tls_handshakes").length, 43);
  assertEquals(p.stats().rows_http_logs, 88);
});

Deno.test("Pipeline: malformed and oversized lines are counted, logged rate-limited, skipped", () => {
  const { p, logged } = setup();
  for (let i = 0; i < 50; i++) p.handleLine("{broken", "http");
  p.handleLine('{"type":"tls"}', "network");
  p.handleOversize(99_999, "network");
  const st = p.stats();
  assertEquals([st.lines_http, st.lines_network, st.rejected, st.oversized], [50, 1, 51, 1]);
  // One line per message per interval, not one per bad line.
  assertEquals(logged.filter((l) => l.includes("malformed")).length, 1);
  assertEquals(logged.filter((l) => l.includes("oversized")).length, 1);
  const text = renderPrometheus(p.metrics());
  assertMatch(text, /ja4_correlator_rejected_lines_total\{reason="json"\} 50/);
  assertMatch(text, /ja4_correlator_rejected_lines_total\{reason="ts_us"\} 1/);
  assertMatch(text, /ja4_correlator_oversized_lines_total\{socket="network"\} 1/);
  assertMatch(text, /ja4_correlator_sink_batches\{sink="memory"\} 0/);
});

Deno.test("Pipeline: metrics report results, state and the join wait histogram", async () => {
  const { p, advance } = setup();
  const s = syntheticStream({ connections: 2, requestsPerConnection: 1 });
  p.handleLine(JSON.stringify(s.http[0]), "http");
  advance(30);
  p.handleLine(JSON.stringify(s.tls[0]), "network");
  p.handleLine(JSON.stringify(s.tls[1]), "network");
  const text = renderPrometheus(p.metrics());
  assertMatch(text, /ja4_correlator_results_total\{status="matched"\} 1/);
  assertMatch(text, /ja4_correlator_pending_connections 2/);
  // The request waited 30 ms for its handshake: in the 0.05 s bucket, not the 0.01 one.
  assertMatch(text, /ja4_correlator_join_wait_seconds_bucket\{le="0.01"\} 0/);
  assertMatch(text, /ja4_correlator_join_wait_seconds_bucket\{le="0.05"\} 1/);
  await p.stop();
});
