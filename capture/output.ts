/**
 * Where TLS events go: network.socket (a UNIX stream socket the correlator listens on), stdout,
 * or a file. The capture loop only calls `send`, which never waits: lines go into a bounded
 * {@link LineQueue} and one writer task drains it. For the socket, the writer reconnects with
 * exponential backoff when the correlator restarts; meanwhile the queue holds what it can and
 * counts the rest as drops.
 *
 * Delivery is at-least-once per connection: a chunk is removed from the queue only after it was
 * written whole; when a write fails the chunk is sent again on the next connection (the
 * consumer ignores a trailing partial line on a connection that broke).
 *
 * @example
 * ```ts
 * const out = createOutput({ kind: "socket", path: "/run/logcorr/network.socket" }, { log });
 * out.send(JSON.stringify(event));
 * await out.close(5_000); // flushes what it can within 5 s
 * ```
 */
import { errorMessage } from "../lib/errors.ts";
import { type Logger, rateLimited } from "../lib/log.ts";
import { CaptureError } from "./errors.ts";
import { LineQueue } from "./line_queue.ts";

/** Where the output writes. */
export type OutputTarget =
  | { kind: "socket"; path: string }
  | { kind: "stdout" }
  | { kind: "file"; path: string };

/** Tuning of {@link createOutput}; defaults suit production. */
export interface OutputOptions {
  log: Logger;
  maxLines?: number;
  maxChars?: number;
  /** First reconnect delay; doubles up to `reconnectMaxMs`. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Characters per write call. */
  chunkChars?: number;
}

/** Counters of an output, for the stats line. */
export interface OutputStats {
  /** Lines written to the consumer. */
  sent: number;
  /** Lines dropped because the queue was full (or the output failed for good). */
  dropped: number;
  /** Lines waiting. */
  queued: number;
  connected: boolean;
  /** Successful (re)connections. */
  connects: number;
}

/** An event output. */
export interface Output {
  readonly description: string;
  /** Queues one NDJSON line (no newline); never blocks, never throws. */
  send(line: string): void;
  stats(): OutputStats;
  /** Resolves when the queue is empty or `timeoutMs` passed; then stops the writer. */
  close(timeoutMs: number): Promise<void>;
}

/** Parses the `capture.output` value: `socket`, `-` (stdout) or a file path. */
export function outputTarget(output: string, socketPath: string): OutputTarget {
  if (output === "socket") return { kind: "socket", path: socketPath };
  if (output === "-") return { kind: "stdout" };
  return { kind: "file", path: output };
}

interface Sink {
  write(data: Uint8Array): Promise<number>;
  close(): void;
  /** Resolves when the peer went away (sockets only). */
  gone: Promise<void>;
}

const encoder = new TextEncoder();

async function writeAll(sink: Sink, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await sink.write(data.subarray(off));
}

async function openSink(target: OutputTarget): Promise<Sink> {
  if (target.kind === "socket") {
    const conn = await Deno.connect({ transport: "unix", path: target.path });
    // The correlator never writes back; reading tells us at once when it closes or restarts,
    // even while we have nothing to send.
    const gone = (async () => {
      const buf = new Uint8Array(4096);
      try {
        while ((await conn.read(buf)) !== null) { /* discard */ }
      } catch {
        // A read error means the connection is unusable, which is what `gone` reports.
      }
    })();
    return {
      write: (d) => conn.write(d),
      close: () => {
        try {
          conn.close();
        } catch {
          // Already closed by the reader side; nothing left to release.
        }
      },
      gone,
    };
  }
  if (target.kind === "stdout") {
    return { write: (d) => Deno.stdout.write(d), close: () => {}, gone: new Promise(() => {}) };
  }
  const file = await Deno.open(target.path, { create: true, append: true });
  return { write: (d) => file.write(d), close: () => file.close(), gone: new Promise(() => {}) };
}

function describe(target: OutputTarget): string {
  return target.kind === "stdout" ? "stdout" : `${target.kind} ${target.path}`;
}

/** Starts an output and its writer task. */
export function createOutput(target: OutputTarget, options: OutputOptions): Output {
  const log = options.log;
  const limited = rateLimited(log, 60_000);
  const queue = new LineQueue({
    maxLines: options.maxLines ?? 100_000,
    maxChars: options.maxChars ?? 128 << 20,
  });
  const minDelay = options.reconnectMinMs ?? 100;
  const maxDelay = options.reconnectMaxMs ?? 5_000;
  const chunkChars = options.chunkChars ?? 256 * 1024;
  const description = describe(target);
  let sink: Sink | undefined;
  let stopped = false;
  let failed = false;
  let sent = 0;
  let lostAfterFailure = 0;
  let connects = 0;
  let wake: (() => void) | undefined;
  const sleepers = new Set<() => void>();

  const nudge = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });

  const connect = async (): Promise<boolean> => {
    let delay = minDelay;
    while (!stopped) {
      try {
        sink = await openSink(target);
        connects++;
        log.info("output connected", { output: description, queued: queue.length });
        const current = sink;
        current.gone.then(() => {
          if (sink === current) {
            sink = undefined;
            current.close();
            log.warn("output disconnected; queueing", { output: description });
            nudge();
          }
        });
        return true;
      } catch (err) {
        if (target.kind !== "socket") {
          throw new CaptureError(
            "OUTPUT_OPEN",
            `cannot open output ${description}: ${errorMessage(err)}`,
            { cause: err },
          );
        }
        limited("warn", "output not reachable; retrying with backoff", {
          output: description,
          error: errorMessage(err),
          retry_ms: delay,
          queued: queue.length,
        });
        await sleep(delay);
        delay = Math.min(delay * 2, maxDelay);
      }
    }
    return false;
  };

  const run = async () => {
    while (!stopped || (queue.length > 0 && sink)) {
      if (!sink) {
        try {
          if (!(await connect())) return;
        } catch (err) {
          failed = true;
          log.error("output failed; events will be counted as dropped", {
            error: errorMessage(err),
          });
          return;
        }
        continue;
      }
      if (queue.length === 0) {
        if (stopped) return;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const lines = queue.peek(chunkChars);
      const current = sink;
      try {
        await writeAll(current, encoder.encode(lines.join("\n") + "\n"));
        queue.shift(lines.length);
        sent += lines.length;
      } catch (err) {
        if (target.kind !== "socket") {
          failed = true;
          lostAfterFailure += queue.length;
          queue.shift(queue.length);
          log.error("output write failed; events will be counted as dropped", {
            output: description,
            error: errorMessage(err),
          });
          return;
        }
        if (sink === current) {
          sink = undefined;
          current.close();
          log.warn("output write failed; reconnecting", {
            output: description,
            error: errorMessage(err),
          });
        }
      }
    }
  };
  const writer = run();

  return {
    description,
    send(line) {
      if (failed) {
        lostAfterFailure++;
        return;
      }
      queue.push(line);
      nudge();
    },
    stats() {
      return {
        sent,
        dropped: queue.dropped + lostAfterFailure,
        queued: queue.length,
        connected: sink !== undefined,
        connects,
      };
    },
    async close(timeoutMs) {
      // Drain first (the writer keeps reconnecting), then stop it, bounded by timeoutMs.
      const deadline = Date.now() + timeoutMs;
      while (queue.length > 0 && !failed && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      stopped = true;
      for (const s of [...sleepers]) s();
      nudge();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        writer,
        new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now())))),
      ]);
      clearTimeout(timer);
      if (queue.length > 0) {
        log.warn("output closed with events still queued", {
          output: description,
          lost: queue.length,
        });
      }
      sink?.close();
      sink = undefined;
    },
  };
}
