import { assert, assertEquals } from "../lib/testing.ts";
import type { HandshakeRecord } from "./event_builder.ts";
import type { LiveCapture } from "./pcap_ffi.ts";
import { PCAP_GLOBAL_HEADER_LEN, PCAP_RECORD_HEADER_LEN, type PcapBatch } from "./pcap_stream.ts";
import {
  createYielder,
  type HandshakeEngine,
  newCounters,
  nextIdleDelay,
  realtimeDelay,
  runFile,
  runLive,
} from "./sensor.ts";

/** An engine that records what it was fed and yields one record per push after the header. */
function fakeEngine() {
  const chunks: Uint8Array[] = [];
  let finished = 0;
  const engine: HandshakeEngine = {
    push(chunk) {
      chunks.push(chunk.slice());
      if (chunks.length === 1) return [];
      return [{
        kind: "syn",
        ts_us: chunks.length,
        src_ip: "127.0.0.1",
        src_port: 1,
        dst_ip: "127.0.0.1",
        dst_port: 443,
        transport: "tcp",
      }];
    },
    finish() {
      finished++;
      return [];
    },
    stats: () => ({ packets: 0 }),
  };
  return { engine, chunks, finished: () => finished };
}

/** A capture that yields `rounds` batches of `perRound` 60-byte packets, then nothing. */
function fakeCapture(rounds: number, perRound: number): LiveCapture & { calls: number } {
  let left = rounds;
  const cap = {
    device: "fake0",
    linktype: 1,
    snaplen: 65535,
    warnings: [],
    calls: 0,
    dispatch(batch: PcapBatch, max: number) {
      cap.calls++;
      if (left === 0) return 0;
      left--;
      const n = Math.min(perRound, max);
      for (let i = 0; i < n; i++) batch.packet(1_700_000_000, i, 60).fill(i);
      return n;
    },
    stats: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
    inject() {},
    close() {},
  };
  return cap;
}

Deno.test("nextIdleDelay: 1 ms after work, doubling, capped", () => {
  assertEquals(nextIdleDelay(0, 16), 1);
  assertEquals(nextIdleDelay(1, 16), 2);
  assertEquals(nextIdleDelay(8, 16), 16);
  assertEquals(nextIdleDelay(16, 16), 16);
});

Deno.test("realtimeDelay: records are released at their recorded offsets", () => {
  assertEquals(realtimeDelay(1_000_000, 1_000_000, 5000, 5000), 0);
  assertEquals(realtimeDelay(1_250_000, 1_000_000, 5000, 5100), 150);
  assertEquals(realtimeDelay(1_250_000, 1_000_000, 5000, 9000), 0);
});

Deno.test("runLive: header first, one engine push per dispatch round, finish on abort", async () => {
  const { engine, chunks, finished } = fakeEngine();
  const capture = fakeCapture(3, 5);
  const seen: HandshakeRecord[] = [];
  const controller = new AbortController();
  const counters = newCounters();
  const loop = runLive({
    capture,
    engine,
    onRecords: (r) => {
      seen.push(...r);
      if (seen.length === 3) controller.abort();
    },
    signal: controller.signal,
    counters,
  });
  await loop;
  assertEquals(chunks[0].length, PCAP_GLOBAL_HEADER_LEN);
  assertEquals(chunks.length, 4);
  for (const c of chunks.slice(1)) assertEquals(c.length, 5 * (PCAP_RECORD_HEADER_LEN + 60));
  assertEquals([counters.packets, counters.rounds], [15, 3]);
  assertEquals(seen.length, 3);
  assertEquals(finished(), 1);
});

Deno.test("runLive: an idle capture is polled with backoff and stops promptly on abort", async () => {
  const { engine } = fakeEngine();
  const capture = fakeCapture(0, 0);
  const controller = new AbortController();
  const loop = runLive({
    capture,
    engine,
    onRecords: () => {},
    signal: controller.signal,
    counters: newCounters(),
  });
  await new Promise((r) => setTimeout(r, 100));
  controller.abort();
  await loop;
  // Polled, but not spinning: with 1,2,4,8,16,16… ms sleeps 100 ms hold only a handful.
  assert(capture.calls >= 1 && capture.calls < 40, `dispatch calls: ${capture.calls}`);
});

Deno.test("runFile: the whole file goes through the engine in chunks, then finish", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/x.pcap`;
    const data = new Uint8Array(2500).map((_, i) => i & 0xff);
    await Deno.writeFile(path, data);
    const { engine, chunks, finished } = fakeEngine();
    const counters = newCounters();
    const seen: HandshakeRecord[] = [];
    await runFile({
      path,
      engine,
      onRecords: (r) => seen.push(...r),
      signal: new AbortController().signal,
      counters,
      chunkBytes: 1000,
    });
    const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      joined.set(c, off);
      off += c.length;
    }
    assertEquals(joined, data);
    assertEquals([chunks.length, counters.rounds, counters.bytes], [3, 3, 2500]);
    assertEquals(seen.length, 2);
    assertEquals(finished(), 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createYielder: resolves on the next event-loop turn, many times, then closes", async () => {
  const y = createYielder();
  let timerFired = false;
  setTimeout(() => (timerFired = true), 0);
  for (let i = 0; i < 1000; i++) await y.yield();
  y.close();
  // A thousand turns take far less than the timers' 4 ms clamp each would; the 0 ms timer
  // has had its turn meanwhile (the yields let the event loop run).
  assertEquals(timerFired, true);
});
