/**
 * The sensor's loops: bytes from a live libpcap handle or a capture file go to the engine in
 * large chunks; engine records become events (EventBuilder); events go to the output.
 *
 * Live: a non-blocking `pcap_dispatch` round copies up to `maxPackets` waiting packets into a
 * classic-pcap batch; the batch goes to the engine in one call. When nothing waits, the loop
 * sleeps 1 ms, doubling to `maxIdleMs`, so it never spins and never blocks the event loop (the
 * output writer and the stats timer run between rounds; after a busy round the loop yields one
 * event-loop turn, not a timer, which would be clamped to 4 ms).
 *
 * File: `--read FILE` streams the file in 1 MiB chunks through the same engine session, as fast
 * as possible or, with `realtime`, releasing each record when its recorded time has come.
 *
 * @example
 * ```ts
 * const counters = newCounters();
 * await runLive({ capture, engine, onRecords: (r) => handle(r), signal, counters });
 * ```
 */
import type { HandshakeRecord } from "./event_builder.ts";
import type { LiveCapture } from "./pcap_ffi.ts";
import { PcapBatch, pcapGlobalHeader } from "./pcap_stream.ts";

/** The fingerprint engine as the sensor uses it: one streaming session (see engine.ts). */
export interface HandshakeEngine {
  /** Feeds the next bytes of one pcap/pcapng stream; returns the records they completed. */
  push(chunk: Uint8Array): HandshakeRecord[];
  /** Ends the stream; returns any last records. */
  finish(): HandshakeRecord[];
  /** Engine counters (packets, bad packets, …) for the stats line. */
  stats(): Record<string, number>;
}

/** Counters shared by the loops and the stats line. */
export interface LoopCounters {
  /** Packets handed to the engine. */
  packets: number;
  /** Bytes handed to the engine (record headers included). */
  bytes: number;
  /** Engine push calls (dispatch rounds with packets, or file chunks). */
  rounds: number;
}

/** Fresh zeroed counters. */
export function newCounters(): LoopCounters {
  return { packets: 0, bytes: 0, rounds: 0 };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Yields one event-loop turn (I/O callbacks, other tasks) without a timer: nested
 * `setTimeout(0)` calls are clamped to 4 ms, which would idle a busy capture loop for nothing.
 */
export function createYielder(): { yield(): Promise<void>; close(): void } {
  const channel = new MessageChannel();
  let resume: (() => void) | undefined;
  channel.port1.onmessage = () => {
    const r = resume;
    resume = undefined;
    r?.();
  };
  return {
    yield: () =>
      new Promise<void>((resolve) => {
        resume = resolve;
        channel.port2.postMessage(0);
      }),
    close: () => {
      channel.port1.close();
      channel.port2.close();
    },
  };
}

/** The idle backoff: 1 ms after work, doubling while idle, capped at `maxMs`. */
export function nextIdleDelay(previousMs: number, maxMs: number): number {
  return previousMs <= 0 ? 1 : Math.min(previousMs * 2, maxMs);
}

/** Longest stretch of busy capture rounds without a timer turn. */
const TIMER_TURN_MS = 20;

/** Options of {@link runLive}. */
export interface LiveLoopOptions {
  capture: LiveCapture;
  engine: HandshakeEngine;
  onRecords: (records: HandshakeRecord[]) => void;
  signal: AbortSignal;
  counters: LoopCounters;
  /** Packets per dispatch round at most (bounds one batch). */
  maxPackets?: number;
  /** Longest idle sleep. */
  maxIdleMs?: number;
  /**
   * On stop, wait this long and take what the kernel still holds: with ring blocks (immediate
   * mode off) packets become visible only when their block times out (capture.timeout_ms).
   */
  drainWaitMs?: number;
}

/** Captures until `signal` aborts; then hands the engine's last records over. */
export async function runLive(opts: LiveLoopOptions): Promise<void> {
  const { capture, engine, onRecords, signal, counters } = opts;
  const maxPackets = opts.maxPackets ?? 1_024;
  const maxIdleMs = opts.maxIdleMs ?? 16;
  const header = pcapGlobalHeader(capture.linktype, capture.snaplen);
  onRecords(engine.push(header));
  const batch = new PcapBatch(4 << 20);
  const round = (): number => {
    const n = capture.dispatch(batch, maxPackets);
    if (n > 0) {
      counters.packets += batch.count;
      counters.bytes += batch.length;
      counters.rounds++;
      const records = engine.push(batch.bytes());
      batch.clear();
      if (records.length) onRecords(records);
    }
    return n;
  };
  let idle = 0;
  const turn = createYielder();
  let lastTimerTurn = performance.now();
  try {
    while (!signal.aborted) {
      if (round() > 0) {
        idle = 0;
        // A message turn lets I/O (the output writer) run between rounds, but not timers: so
        // every TIMER_TURN_MS a timer turn too (stats line, backoffs), which may cost up to the
        // 4 ms clamp of nested timers; the kernel ring holds what arrives meanwhile.
        const now = performance.now();
        if (now - lastTimerTurn >= TIMER_TURN_MS) {
          lastTimerTurn = now;
          await sleep(0);
        } else {
          await turn.yield();
        }
      } else {
        idle = nextIdleDelay(idle, maxIdleMs);
        await sleep(idle, signal);
        lastTimerTurn = performance.now();
      }
    }
  } finally {
    turn.close();
  }
  // Handshakes that arrived just before the stop are still in the kernel ring: take them.
  if (opts.drainWaitMs) await sleep(opts.drainWaitMs);
  for (let i = 0; i < 1000 && round() > 0; i++) { /* drain, bounded */ }
  const last = engine.finish();
  if (last.length) onRecords(last);
}

/** Options of {@link runFile}. */
export interface FileLoopOptions {
  path: string;
  engine: HandshakeEngine;
  onRecords: (records: HandshakeRecord[]) => void;
  signal: AbortSignal;
  counters: LoopCounters;
  /** Release records at their recorded pace. */
  realtime?: boolean;
  chunkBytes?: number;
  /** Wall clock in ms, injectable for tests. */
  now?: () => number;
}

/**
 * Paces records by their capture time: returns how long to wait (ms) before releasing a
 * record at `tsUs`, given the first record's time and the wall time when it was released.
 */
export function realtimeDelay(
  tsUs: number,
  firstTsUs: number,
  startWallMs: number,
  nowMs: number,
): number {
  const due = startWallMs + (tsUs - firstTsUs) / 1000;
  return Math.max(0, due - nowMs);
}

/** Replays a capture file through the engine; resolves at its end (or when aborted). */
export async function runFile(opts: FileLoopOptions): Promise<void> {
  const { engine, onRecords, signal, counters } = opts;
  const now = opts.now ?? Date.now;
  const file = await Deno.open(opts.path, { read: true });
  const buf = new Uint8Array(opts.chunkBytes ?? 1 << 20);
  let firstTs: number | undefined;
  let startWall = 0;
  const release = async (records: HandshakeRecord[]) => {
    if (!opts.realtime) {
      if (records.length) onRecords(records);
      return;
    }
    for (const rec of records) {
      if (signal.aborted) return;
      if (firstTs === undefined) {
        firstTs = rec.ts_us;
        startWall = now();
      }
      const wait = realtimeDelay(rec.ts_us, firstTs, startWall, now());
      if (wait > 0) await sleep(wait, signal);
      onRecords([rec]);
    }
  };
  try {
    while (!signal.aborted) {
      const n = await file.read(buf);
      if (n === null) break;
      counters.bytes += n;
      counters.rounds++;
      await release(engine.push(buf.subarray(0, n)));
    }
    await release(engine.finish());
  } finally {
    file.close();
  }
}
