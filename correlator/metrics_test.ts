import { assert, assertEquals } from "../lib/testing.ts";
import { createLogger } from "../lib/log.ts";
import { Histogram, renderPrometheus, serveMetrics } from "./metrics.ts";

Deno.test("Histogram: cumulative buckets, +Inf, sum and count", () => {
  const h = new Histogram([0.1, 1]);
  for (const v of [0.05, 0.1, 0.5, 3]) h.observe(v);
  const m = h.metric("x_seconds", "help");
  assertEquals(m.samples, [
    { suffix: "_bucket", labels: { le: "0.1" }, value: 2 },
    { suffix: "_bucket", labels: { le: "1" }, value: 3 },
    { suffix: "_bucket", labels: { le: "+Inf" }, value: 4 },
    { suffix: "_sum", value: 3.65 },
    { suffix: "_count", value: 4 },
  ]);
});

Deno.test("renderPrometheus: HELP/TYPE lines, labels escaped, non-finite as 0", () => {
  const text = renderPrometheus([
    {
      name: "a_total",
      help: "two\nlines",
      type: "counter",
      samples: [{ labels: { r: 'q"b\\' }, value: 3 }, { value: NaN }],
    },
  ]);
  assertEquals(
    text,
    '# HELP a_total two lines\n# TYPE a_total counter\na_total{r="q\\"b\\\\"} 3\na_total 0\n',
  );
});

Deno.test("serveMetrics: /metrics on 127.0.0.1, 404 elsewhere", async () => {
  const log = createLogger({ level: "error", write: () => {} });
  const srv = serveMetrics(0, () => "x 1\n", log);
  try {
    const r = await fetch(`http://127.0.0.1:${srv.port}/metrics`);
    assertEquals(await r.text(), "x 1\n");
    assert(r.headers.get("content-type")!.startsWith("text/plain; version=0.0.4"));
    const nf = await fetch(`http://127.0.0.1:${srv.port}/other`);
    await nf.body?.cancel();
    assertEquals(nf.status, 404);
  } finally {
    await srv.shutdown();
  }
});
