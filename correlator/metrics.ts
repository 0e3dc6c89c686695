/**
 * The correlator's metrics: a latency histogram, the Prometheus text rendering (pure), and a
 * tiny HTTP endpoint on 127.0.0.1 serving it at `/metrics`.
 *
 * @example
 * ```ts
 * const text = renderPrometheus([{ name: "ja4_correlator_results_total", help: "…",
 *   type: "counter", samples: [{ labels: { status: "matched" }, value: 12 }] }]);
 * ```
 */
import type { Logger } from "../lib/log.ts";

/** One metric family. */
export interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  samples: { labels?: Record<string, string>; value: number; suffix?: string }[];
}

/** Cumulative histogram with fixed upper bounds (seconds), Prometheus style. */
export class Histogram {
  readonly bounds: readonly number[];
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = bounds.map(() => 0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (v <= this.bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }

  /** The family as samples: `_bucket` per bound (cumulative) plus `+Inf`, `_sum`, `_count`. */
  metric(name: string, help: string): Metric {
    const samples: Metric["samples"] = [];
    let cum = 0;
    this.bounds.forEach((b, i) => {
      cum += this.counts[i];
      samples.push({ suffix: "_bucket", labels: { le: String(b) }, value: cum });
    });
    samples.push({ suffix: "_bucket", labels: { le: "+Inf" }, value: this.count });
    samples.push({ suffix: "_sum", value: this.sum });
    samples.push({ suffix: "_count", value: this.count });
    return { name, help, type: "histogram", samples };
  }
}

const escapeLabel = (v: string) =>
  v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/** Prometheus text exposition format 0.0.4. */
export function renderPrometheus(metrics: readonly Metric[]): string {
  let out = "";
  for (const m of metrics) {
    out += `# HELP ${m.name} ${m.help.replace(/\n/g, " ")}\n# TYPE ${m.name} ${m.type}\n`;
    for (const s of m.samples) {
      const labels = s.labels && Object.keys(s.labels).length
        ? "{" + Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",") + "}"
        : "";
      out += `${m.name}${s.suffix ?? ""}${labels} ${Number.isFinite(s.value) ? s.value : 0}\n`;
    }
  }
  return out;
}

/** Serves `/metrics` on 127.0.0.1:port until the returned server is shut down. */
export function serveMetrics(
  port: number,
  render: () => string,
  log: Logger,
): { port: number; shutdown(): Promise<void> } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    (req) => {
      if (new URL(req.url).pathname !== "/metrics") {
        return new Response("not found\n", { status: 404 });
      }
      return new Response(render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    },
  );
  const bound = (server.addr as Deno.NetAddr).port;
  log.info("metrics endpoint", { url: `http://127.0.0.1:${bound}/metrics` });
  return { port: bound, shutdown: () => server.shutdown() };
}
