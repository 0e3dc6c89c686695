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
import type { WorkerReply, WorkerRequest } from "./socket_worker.ts";

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
  /** Characters per write call (4 MiB by default). */
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

/**
 * The main thread's side of the socket writer worker (socket_worker.ts): one worker per output,
 * reused across reconnections; one message per chunk each way.
 */
class SocketWorkerClient {
  readonly #worker = new Worker(new URL("./socket_worker.ts", import.meta.url).href, {
    type: "module",
  });
  #pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  #nextId = 1;
  #onConnect?: { resolve: () => void; reject: (err: Error) => void };
  #onGone?: () => void;

  constructor() {
    this.#worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const msg = e.data;
      if (msg.type === "connected") {
        this.#onConnect?.resolve();
        this.#onConnect = undefined;
      } else if (msg.type === "written") {
        this.#pending.get(msg.id)?.resolve();
        this.#pending.delete(msg.id);
      } else if (msg.type === "error") {
        const err = new Error(msg.message);
        if (msg.id === undefined) {
          this.#onConnect?.reject(err);
          this.#onConnect = undefined;
        } else {
          this.#pending.get(msg.id)?.reject(err);
          this.#pending.delete(msg.id);
        }
      } else if (msg.type === "gone") {
        this.#failPending("the consumer closed the connection");
        this.#onGone?.();
      }
    };
  }

  #failPending(why: string): void {
    for (const p of this.#pending.values()) p.reject(new Error(why));
    this.#pending.clear();
  }

  #post(msg: WorkerRequest): void {
    const data = msg.type === "write" ? msg.data : undefined;
    // A chunk that owns its whole buffer is moved, not copied.
    const movable = data && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    this.#worker.postMessage(msg, movable ? [data.buffer as ArrayBuffer] : []);
  }

  async connect(path: string): Promise<Sink> {
    await new Promise<void>((resolve, reject) => {
      this.#onConnect = { resolve, reject };
      this.#post({ type: "connect", path });
    });
    const gone = new Promise<void>((resolve) => (this.#onGone = resolve));
    return {
      write: (data) =>
        new Promise<number>((resolve, reject) => {
          const id = this.#nextId++;
          const length = data.length;
          this.#pending.set(id, { resolve: () => resolve(length), reject });
          this.#post({ type: "write", id, data });
        }),
      close: () => {
        this.#failPending("connection closed");
        this.#post({ type: "disconnect" });
      },
      gone,
    };
  }

  terminate(): void {
    this.#failPending("output closed");
    this.#worker.terminate();
  }
}

async function openSink(target: OutputTarget, sockets?: SocketWorkerClient): Promise<Sink> {
  if (target.kind === "socket") return await sockets!.connect(target.path);
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
  // Large chunks: a write completes on a later event-loop turn, and a busy capture round can
  // queue thousands of lines per turn; small chunks would let the queue grow under load.
  const chunkChars = options.chunkChars ?? 4 << 20;
  const description = describe(target);
  const sockets = target.kind === "socket" ? new SocketWorkerClient() : undefined;
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
        sink = await openSink(target, sockets);
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
      sockets?.terminate();
    },
  };
}
