import { assert, assertEquals } from "../lib/testing.ts";
import { createLogger } from "../lib/log.ts";
import { serveLines } from "../lib/unix_socket.ts";
import { createOutput, outputTarget } from "./output.ts";

const quiet = createLogger({ level: "error", write: () => {} });

/** The platform's line server standing in for the correlator. */
async function startConsumer(path: string) {
  const lines: string[] = [];
  const server = await serveLines({
    path,
    maxLineBytes: 65536,
    onLine: (l) => lines.push(l),
    onOversize: () => {},
    log: quiet,
    drainQuietMs: 20,
  });
  return { lines, stop: () => server.close() };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("outputTarget: socket, stdout and file", () => {
  assertEquals(outputTarget("socket", "/s"), { kind: "socket", path: "/s" });
  assertEquals(outputTarget("-", "/s"), { kind: "stdout" });
  assertEquals(outputTarget("/tmp/x.ndjson", "/s"), { kind: "file", path: "/tmp/x.ndjson" });
});

Deno.test("socket output: queues while the consumer is away, delivers everything on (re)connect", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/network.socket`;
  const out = createOutput(outputTarget("socket", path), {
    log: quiet,
    reconnectMinMs: 5,
    reconnectMaxMs: 20,
  });
  try {
    // No consumer yet: events wait in the queue.
    for (let i = 0; i < 50; i++) out.send(`{"n":${i}}`);
    assertEquals(out.stats().queued, 50);
    let consumer = await startConsumer(path);
    await until(() => consumer.lines.length === 50, "first 50 lines");
    await until(() => out.stats().queued === 0, "queue drained");
    const firstRun = [...consumer.lines];
    // The consumer restarts: lines sent while it is down must arrive after it is back.
    await consumer.stop();
    await until(() => !out.stats().connected, "disconnect noticed");
    for (let i = 50; i < 120; i++) out.send(`{"n":${i}}`);
    consumer = await startConsumer(path);
    await until(() => consumer.lines.length === 70, "70 lines after restart");
    const all = [...firstRun, ...consumer.lines].map((l) => JSON.parse(l).n);
    assertEquals(all, Array.from({ length: 120 }, (_, i) => i));
    assertEquals(out.stats().dropped, 0);
    assert(out.stats().connects >= 2);
    await out.close(1000);
    await consumer.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("socket output: beyond the queue bound the oldest events are counted as drops", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/network.socket`;
  const out = createOutput(outputTarget("socket", path), {
    log: quiet,
    maxLines: 10,
    reconnectMinMs: 5,
    reconnectMaxMs: 10,
  });
  try {
    for (let i = 0; i < 25; i++) out.send(`{"n":${i}}`);
    assertEquals(out.stats().dropped, 15);
    const consumer = await startConsumer(path);
    await until(() => consumer.lines.length === 10, "the 10 newest lines");
    assertEquals(consumer.lines.map((l) => JSON.parse(l).n), [
      15,
      16,
      17,
      18,
      19,
      20,
      21,
      22,
      23,
      24,
    ]);
    await out.close(1000);
    await consumer.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file output: close() flushes every queued line", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/events.ndjson`;
  try {
    const out = createOutput(outputTarget(path, "unused"), { log: quiet });
    for (let i = 0; i < 1000; i++) out.send(`{"n":${i}}`);
    await out.close(5000);
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    assertEquals(lines.length, 1000);
    assertEquals(JSON.parse(lines[999]).n, 999);
    assertEquals(out.stats().sent, 1000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
