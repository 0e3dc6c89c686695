/**
 * The JSONL sinks: tagged lines (`{"table":"http_logs",…}`, one row per line) appended to a
 * file with size-based rotation (`events.jsonl` → `events.jsonl.1` → … → `.keep`), or written
 * to stdout. Writes are serialized in batch order.
 *
 * @example
 * ```ts
 * const sink = await FileSink.open({ path: "/var/log/ja4/events.jsonl", maxBytes: 2 ** 28, keep: 5, log });
 * sink.write(batch);
 * await sink.close();
 * ```
 */
import { errorMessage } from "../lib/errors.ts";
import { type Logger, rateLimited } from "../lib/log.ts";
import { type Batch, taggedLines } from "./batch.ts";
import type { Sink } from "./sink.ts";

const enc = new TextEncoder();

async function writeAll(w: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array) {
  let off = 0;
  while (off < bytes.length) off += await w.write(bytes.subarray(off));
}

/** The rename steps of one rotation, pure: `[from, to]` pairs, oldest first, plus what to delete. */
export function rotationPlan(
  path: string,
  keep: number,
): { remove: string; moves: [string, string][] } {
  if (keep === 0) return { remove: path, moves: [] };
  const moves: [string, string][] = [];
  for (let i = keep - 1; i >= 1; i--) moves.push([`${path}.${i}`, `${path}.${i + 1}`]);
  moves.push([path, `${path}.1`]);
  return { remove: `${path}.${keep}`, moves };
}

/** Shared by both JSONL sinks: an ordered write chain with counters. */
abstract class LineSink implements Sink {
  abstract readonly name: string;
  protected readonly log: Logger;
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;
  readonly #maxQueuedRows: number;
  readonly #warn: ReturnType<typeof rateLimited>;
  #s = { written_rows: 0, failed_rows: 0, dropped_rows: 0 };

  /** `maxQueuedRows` bounds the memory a stuck destination (a stdout nobody reads) can take. */
  constructor(log: Logger, maxQueuedRows = 1_000_000) {
    this.log = log;
    this.#maxQueuedRows = maxQueuedRows;
    this.#warn = rateLimited(log, 10_000);
  }

  protected abstract writeBytes(bytes: Uint8Array): Promise<void>;

  write(batch: Batch): void {
    if (this.#queued + batch.count > this.#maxQueuedRows) {
      this.#s.dropped_rows += batch.count;
      this.#warn("error", `${this.name} sink is not keeping up: batch dropped`, {
        rows: batch.count,
        queued_rows: this.#queued,
      });
      return;
    }
    this.#queued += batch.count;
    this.#chain = this.#chain.then(async () => {
      try {
        await this.writeBytes(enc.encode(taggedLines(batch)));
        this.#s.written_rows += batch.count;
      } catch (err) {
        this.#s.failed_rows += batch.count;
        this.log.error(`${this.name} sink write failed`, {
          rows: batch.count,
          error: errorMessage(err),
        });
      } finally {
        this.#queued -= batch.count;
      }
    });
  }

  flush(): Promise<void> {
    return this.#chain;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  stats(): Record<string, number> {
    return { ...this.#s, queue_rows: this.#queued };
  }
}

/** Options of {@link FileSink}. */
export interface FileSinkOptions {
  path: string;
  maxBytes: number;
  keep: number;
  log: Logger;
  /** Rows waiting for the disk at most (default 1,000,000); beyond, batches are dropped and counted. */
  maxQueuedRows?: number;
}

/** JSONL file with rotation. */
export class FileSink extends LineSink {
  readonly name = "file";
  readonly #opt: FileSinkOptions;
  #file: Deno.FsFile | undefined;
  #size = 0;
  #rotations = 0;

  private constructor(options: FileSinkOptions) {
    super(options.log, options.maxQueuedRows);
    this.#opt = options;
  }

  static async open(options: FileSinkOptions): Promise<FileSink> {
    const sink = new FileSink(options);
    const dir = options.path.slice(0, options.path.lastIndexOf("/")) || "/";
    await Deno.mkdir(dir, { recursive: true });
    await sink.#reopen();
    return sink;
  }

  async #reopen(): Promise<void> {
    this.#file = await Deno.open(this.#opt.path, { append: true, create: true, mode: 0o640 });
    this.#size = (await this.#file.stat()).size;
  }

  async #rotate(): Promise<void> {
    this.#file?.close();
    this.#file = undefined;
    const plan = rotationPlan(this.#opt.path, this.#opt.keep);
    await Deno.remove(plan.remove).catch(() => {
      // Fewer rotated files than `keep` exist yet: nothing to delete.
    });
    for (const [from, to] of plan.moves) {
      await Deno.rename(from, to).catch(() => {
        // A gap in the numbering (first rotations): nothing to move.
      });
    }
    this.#rotations++;
    await this.#reopen();
  }

  protected async writeBytes(bytes: Uint8Array): Promise<void> {
    if (this.#size > 0 && this.#size + bytes.length > this.#opt.maxBytes) await this.#rotate();
    if (!this.#file) await this.#reopen();
    await writeAll(this.#file!, bytes);
    this.#size += bytes.length;
  }

  override stats(): Record<string, number> {
    return { ...super.stats(), file_bytes: this.#size, file_rotations: this.#rotations };
  }

  override async close(): Promise<void> {
    await super.close();
    this.#file?.close();
    this.#file = undefined;
  }
}

/** JSONL on stdout (for a quick look, or a pipe into another tool). */
export class StdoutSink extends LineSink {
  readonly name = "stdout";
  readonly #out: { write(p: Uint8Array): Promise<number> };

  constructor(
    log: Logger,
    out: { write(p: Uint8Array): Promise<number> } = Deno.stdout,
    maxQueuedRows?: number,
  ) {
    super(log, maxQueuedRows);
    this.#out = out;
  }

  protected writeBytes(bytes: Uint8Array): Promise<void> {
    return writeAll(this.#out, bytes);
  }
}
