/**
 * `ja4 fingerprint [--format jsonl|csv|table] FILE…` — one record per connection from
 * pcap/pcapng files (`-` reads stdin). Files are streamed in chunks, never loaded whole.
 * A file that is not a capture, or is cut short, prints the records found so far, then
 * one error naming the byte offset, and the command exits 1.
 */
import type { Command } from "../lib/cli.ts";
import { Ja4Error, UsageError } from "../lib/errors.ts";
import { loadEngine } from "./engine_deno.ts";
import { ensureWasm } from "./build.ts";
import {
  CaptureFormatError,
  decodeRecordBytes,
  type Engine,
  type EngineRecord,
  pumpReads,
  type Session,
} from "./loader.ts";
import type { WorkerMessage, WorkerStart } from "./fingerprint_worker.ts";
import {
  type ConnectionRecord,
  ConnectionTable,
  csvHeader,
  csvLine,
  jsonLine,
  tableLines,
} from "./connections.ts";

/** A capture file or stream that cannot be decoded; the message names file and offset. */
export class CaptureInputError extends Ja4Error {}

/** Read size: large enough that the per-chunk cost is nothing next to decoding. */
export const CHUNK_BYTES = 1 << 20;

const FORMATS = ["jsonl", "csv", "table"] as const;
type Format = typeof FORMATS[number];

/** Progress bar on a terminal: `name  [#####.....]  42%  12.3 MB`. */
function progressLine(name: string, done: number, total: number | undefined): string {
  const mb = `${(done / 1e6).toFixed(1)} MB`;
  if (!total) return `\r${name}  ${mb}`;
  const frac = Math.min(1, done / total);
  const width = 30;
  const filled = Math.round(frac * width);
  return `\r${name}  [${"#".repeat(filled)}${".".repeat(width - filled)}] ${
    Math.round(frac * 100).toString().padStart(3)
  }%  ${mb}`;
}

/** Result of fingerprinting one input. */
export interface FileResult {
  /** Connections not yet handed to `onIdle` (all of them without it). */
  connections: ConnectionRecord[];
  /** Set when the input is not a capture or is cut short. */
  error?: CaptureInputError;
}

/** Capture time after which a silent connection is printed and forgotten (5 minutes). */
export const IDLE_US = 300e6;

/** Options of {@link fingerprintStream}. */
export interface StreamOptions {
  /** Called after each chunk with the bytes read so far. */
  onProgress?: (bytes: number) => void;
  /**
   * Receives finished connections as the stream goes, so memory stays bounded however many
   * connections a capture holds: a TLS connection once both its hellos are in (unless the
   * capture carries a TLS key log: then decrypted requests may follow), any connection
   * once idle for {@link IDLE_US} of capture time. Without it, everything comes at the end.
   */
  onIdle?: (connections: ConnectionRecord[]) => void;
}

/**
 * Feeds a whole input through the session, handing `take` each chunk's records and the
 * bytes read so far.
 */
type Pump = (
  session: Session,
  take: (records: EngineRecord[], bytesSoFar: number) => void,
) => Promise<void>;

/** Fingerprints one readable stream of capture bytes. */
export function fingerprintStream(
  engine: Engine,
  name: string,
  stream: ReadableStream<Uint8Array>,
  opts: StreamOptions = {},
): Promise<FileResult> {
  const reader = stream.getReader();
  return fingerprintChunks(engine, name, async (session, take) => {
    let read = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      take(session.push(r.value), read += r.value.length);
    }
  }, opts).finally(() => reader.releaseLock());
}

/**
 * Fingerprints an open capture file, read in {@link CHUNK_BYTES} pieces straight into the
 * engine's input areas (no copy, no stream machinery), the next piece while the engine
 * decodes the current one.
 */
export function fingerprintFile(
  engine: Engine,
  name: string,
  file: Deno.FsFile,
  opts: StreamOptions = {},
): Promise<FileResult> {
  return fingerprintChunks(engine, name, async (session, take) => {
    await pumpReads(
      session,
      (view) => file.read(view),
      CHUNK_BYTES,
      (n, onFed) => session.commit(n, onFed),
      take,
    );
  }, opts);
}

async function fingerprintChunks(
  engine: Engine,
  name: string,
  pump: Pump,
  opts: StreamOptions,
): Promise<FileResult> {
  const session = await engine.createSession();
  const table = new ConnectionTable({ finishHandshakes: opts.onIdle !== undefined });
  try {
    await pump(session, (records, read) => {
      // Before this chunk's records: a key log in it may decrypt requests of its flows.
      if (session.stats().keylog_secrets > 0) table.keyLogSeen();
      for (const r of records) table.add(r);
      opts.onProgress?.(read);
      handOverReady(table, opts);
    });
    for (const r of session.finish()) table.add(r);
  } catch (err) {
    if (err instanceof CaptureFormatError) {
      return {
        connections: table.list(),
        error: new CaptureInputError(
          err.kind.toUpperCase(),
          `${name}: ${err.message}`,
          { cause: err },
        ),
      };
    }
    throw err;
  }
  return { connections: table.list() };
}

/** Hands the connections a stream can print now to `onIdle` (when streaming). */
function handOverReady(table: ConnectionTable, opts: StreamOptions): void {
  if (!opts.onIdle) return;
  const ready = table.takeReady(IDLE_US);
  if (ready.length) opts.onIdle(ready);
}

/** Connections formatted and written at a time. */
const PRINT_BATCH = 2048;

/** Chunks a worker may have in flight before the main thread has merged them. */
const WORKER_WINDOW = 8;

/** Merges per-shard record lists (each in capture order) into capture order. */
export function mergeByPacket(lists: EngineRecord[][]): EngineRecord[] {
  if (lists.length === 1) return lists[0];
  const out: EngineRecord[] = [];
  const at = lists.map(() => 0);
  while (true) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      if (at[i] >= lists[i].length) continue;
      if (best < 0 || lists[i][at[i]].packet! < lists[best][at[best]].packet!) best = i;
    }
    if (best < 0) return out;
    out.push(lists[best][at[best]++]);
  }
}

/**
 * Fingerprints a capture file with `workers` threads: each reads the whole file and keeps
 * the flows of its shard (by a hash of the 4-tuple); the main thread merges their records
 * in capture order chunk by chunk (all workers cut the file at the same offsets), so the
 * connections, their order and the idle flushing are those of {@link fingerprintStream}.
 * Flow numbers are renumbered so shards never collide.
 */
export async function fingerprintFileSharded(
  name: string,
  path: string,
  workers: number,
  opts: StreamOptions = {},
): Promise<FileResult> {
  const wasmPath = await ensureWasm();
  const table = new ConnectionTable({ finishHandshakes: opts.onIdle !== undefined });
  const dicts: string[][] = [];
  const inbox: WorkerMessage[][] = [];
  const waiting: ((() => void) | undefined)[] = [];
  const threads: Worker[] = [];
  for (let i = 0; i < workers; i++) {
    const w = new Worker(new URL("./fingerprint_worker.ts", import.meta.url), { type: "module" });
    dicts.push([]);
    inbox.push([]);
    waiting.push(undefined);
    w.onmessage = (e: MessageEvent<WorkerMessage>) => {
      inbox[i].push(e.data);
      waiting[i]?.();
      waiting[i] = undefined;
    };
    w.onerror = (e) => {
      e.preventDefault();
      inbox[i].push({ type: "fatal", message: e.message });
      waiting[i]?.();
      waiting[i] = undefined;
    };
    const start: WorkerStart = {
      wasmPath,
      path,
      index: i,
      count: workers,
      chunkBytes: CHUNK_BYTES,
      window: WORKER_WINDOW,
    };
    w.postMessage(start);
    threads.push(w);
  }
  const next = async (i: number): Promise<WorkerMessage> => {
    while (inbox[i].length === 0) await new Promise<void>((r) => (waiting[i] = r));
    return inbox[i].shift()!;
  };
  try {
    while (true) {
      const msgs = await Promise.all(threads.map((_, i) => next(i)));
      const fatal = msgs.find((m) => m.type === "fatal");
      if (fatal && fatal.type === "fatal") {
        throw new CaptureInputError("WORKER_FAILED", `${name}: a worker failed: ${fatal.message}`);
      }
      const chunks = msgs.filter((m) => m.type === "chunk");
      if (chunks.length > 0 && chunks.length < msgs.length) {
        throw new CaptureInputError("WORKER_FAILED", `${name}: workers fell out of step`);
      }
      if (chunks.length === 0) {
        const end = msgs.find((m) => m.type === "end" && m.error);
        if (end && end.type === "end" && end.error) {
          const e = end.error;
          return {
            connections: table.list(),
            error: new CaptureInputError(e.kind.toUpperCase(), `${name}: ${e.message}`),
          };
        }
        return { connections: table.list() };
      }
      const lists = chunks.map((m, i) => {
        const recs = decodeRecordBytes((m as { bytes: Uint8Array }).bytes, dicts[i]);
        for (const r of recs) r.flow = (r.flow - 1) * workers + i + 1;
        return recs;
      });
      // Every worker reads every block, key logs included: any of them says so.
      if (chunks.some((m) => m.type === "chunk" && m.keylog)) table.keyLogSeen();
      for (const r of mergeByPacket(lists)) table.add(r);
      threads.forEach((w) => w.postMessage("ack"));
      opts.onProgress?.((chunks[0] as { read: number }).read);
      handOverReady(table, opts);
    }
  } finally {
    for (const w of threads) w.terminate();
  }
}

async function openInput(
  path: string,
): Promise<{ file?: Deno.FsFile; size?: number; close: () => void }> {
  if (path === "-") return { close: () => {} };
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    throw new CaptureInputError(
      err instanceof Deno.errors.NotFound ? "NOT_FOUND" : "OPEN_FAILED",
      `${path}: cannot open (${(err as Error).message})`,
      { cause: err },
    );
  }
  const size = (await file.stat()).size;
  return { file, size, close: () => file.close() };
}

const encoder = new TextEncoder();
/** Reused UTF-8 buffer for stdout (grown when a slice of output needs more). */
let outBytes = new Uint8Array(1 << 22);

function write(text: string): void {
  // UTF-8 needs at most 3 bytes per UTF-16 unit.
  if (text.length * 3 > outBytes.length) outBytes = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, outBytes);
  let off = 0;
  while (off < written) off += Deno.stdout.writeSync(outBytes.subarray(off, written));
}

/** The `fingerprint` command. */
export const fingerprintCommand: Command = {
  name: "fingerprint",
  summary: "JA4/JA3/JA4S/JA4T/JA4H from capture files, one record per connection",
  usage: "ja4 fingerprint [--format jsonl|csv|table] [--workers N] FILE…   (FILE '-' reads stdin)",
  details: [
    "Reads classic pcap (either byte order, µs or ns) and pcapng. Fields: timestamp,",
    "transport, src, src_port, dst, dst_port, tls_server_name, ja4, ja4_r, ja4_o, ja4_ro,",
    "ja3, ja3_full, ja4s, ja3s, ja4t, ja4h (a list, one per HTTP request).",
    "Exit 1 when an input is not a capture or is cut short (records found are printed).",
    "--workers N: N threads, each reading the whole file and keeping 1/N of the flows;",
    "the output is the same as with one (stdin is always read by one).",
  ].join("\n"),
  flags: [
    {
      name: "format",
      short: "f",
      type: "string",
      value: "FMT",
      help: "jsonl (default), csv or table",
    },
    {
      name: "workers",
      short: "w",
      type: "string",
      value: "N",
      help: "threads per file, flows split between them (default 1)",
    },
  ],
  async run(ctx) {
    const format = (ctx.flags.format as string | undefined) ?? "jsonl";
    if (!FORMATS.includes(format as Format)) {
      throw new UsageError(
        "BAD_FORMAT",
        `ja4 fingerprint: --format must be one of ${FORMATS.join(", ")}, got '${format}'`,
      );
    }
    const workersFlag = (ctx.flags.workers as string | undefined) ?? "1";
    const workers = Number(workersFlag);
    if (!/^\d+$/.test(workersFlag) || workers < 1 || workers > 64) {
      throw new UsageError(
        "BAD_WORKERS",
        `ja4 fingerprint: --workers must be an integer from 1 to 64, got '${workersFlag}'`,
      );
    }
    if (ctx.args.length === 0) {
      throw new UsageError(
        "NO_INPUT",
        "ja4 fingerprint: give at least one capture FILE ('-' for stdin)",
      );
    }
    const engine = await loadEngine();
    const tty = Deno.stderr.isTerminal();
    let failed = false;
    const tableRows: ConnectionRecord[] = [];
    // In slices: the text of every connection of a big capture at once would be a
    // string (and its UTF-8 copy) of hundreds of MB.
    const print = (conns: ConnectionRecord[]) => {
      for (let i = 0; i < conns.length; i += PRINT_BATCH) {
        write(
          conns.slice(i, i + PRINT_BATCH)
            .map((c) => (format === "csv" ? csvLine(c) : jsonLine(c)) + "\n").join(""),
        );
      }
    };
    if (format === "csv") write(csvHeader() + "\n");
    for (const path of ctx.args) {
      const input = await openInput(path);
      const name = path === "-" ? "stdin" : path;
      let result: FileResult;
      try {
        const streamOpts: StreamOptions = {
          onProgress: tty
            ? (n) =>
              Deno.stderr.writeSync(new TextEncoder().encode(progressLine(name, n, input.size)))
            : undefined,
          // jsonl and csv stream out idle connections; a table needs every row first.
          onIdle: format === "table" ? undefined : (conns) => print(conns),
        };
        result = !input.file
          ? await fingerprintStream(engine, name, Deno.stdin.readable, streamOpts)
          : workers > 1
          ? await fingerprintFileSharded(name, path, workers, streamOpts)
          : await fingerprintFile(engine, name, input.file, streamOpts);
      } finally {
        input.close();
        if (tty) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
      }
      if (format === "table") tableRows.push(...result.connections);
      else print(result.connections);
      if (result.error) {
        failed = true;
        console.error(`ja4 fingerprint: ${result.error.message}`);
      }
    }
    if (format === "table") write(tableLines(tableRows).join("\n") + "\n");
    return failed ? 1 : 0;
  },
};
