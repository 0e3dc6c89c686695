/**
 * `ja4 fingerprint [--format jsonl|csv|table] FILE…` — one record per connection from
 * pcap/pcapng files (`-` reads stdin). Files are streamed in chunks, never loaded whole.
 * A file that is not a capture, or is cut short, prints the records found so far, then
 * one error naming the byte offset, and the command exits 1.
 */
import type { Command } from "../lib/cli.ts";
import { Ja4Error, UsageError } from "../lib/errors.ts";
import { loadEngine } from "./engine_deno.ts";
import { CaptureFormatError, type Engine } from "./loader.ts";
import {
  type ConnectionRecord,
  ConnectionTable,
  csvHeader,
  csvLine,
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
   * Receives connections idle for {@link IDLE_US} of capture time as the stream goes, so
   * memory stays bounded on long captures. Without it, everything comes at the end.
   */
  onIdle?: (connections: ConnectionRecord[]) => void;
}

/** Fingerprints one readable stream of capture bytes. */
export async function fingerprintStream(
  engine: Engine,
  name: string,
  stream: ReadableStream<Uint8Array>,
  opts: StreamOptions = {},
): Promise<FileResult> {
  const session = await engine.createSession();
  const table = new ConnectionTable();
  let read = 0;
  let latestUs = 0;
  try {
    for await (const chunk of stream) {
      for (const r of session.push(chunk)) {
        table.add(r);
        if (r.ts_us > latestUs) latestUs = r.ts_us;
      }
      read += chunk.length;
      opts.onProgress?.(read);
      if (opts.onIdle) {
        const idle = table.takeIdle(latestUs, IDLE_US);
        if (idle.length) opts.onIdle(idle);
      }
    }
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

async function openInput(
  path: string,
): Promise<{ stream: ReadableStream<Uint8Array>; size?: number; close: () => void }> {
  if (path === "-") return { stream: Deno.stdin.readable, close: () => {} };
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
  // Read fixed-size chunks ourselves: FsFile.readable yields small pieces.
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buf = new Uint8Array(CHUNK_BYTES);
      let n = 0;
      while (n < buf.length) {
        const r = await file.read(buf.subarray(n));
        if (r === null) break;
        n += r;
      }
      if (n > 0) controller.enqueue(buf.subarray(0, n));
      if (n < buf.length) controller.close();
    },
  });
  return { stream, size, close: () => file.close() };
}

function write(text: string): void {
  const data = new TextEncoder().encode(text);
  let off = 0;
  while (off < data.length) off += Deno.stdout.writeSync(data.subarray(off));
}

/** The `fingerprint` command. */
export const fingerprintCommand: Command = {
  name: "fingerprint",
  summary: "JA4/JA3/JA4S/JA4T/JA4H from capture files, one record per connection",
  usage: "ja4 fingerprint [--format jsonl|csv|table] FILE…   (FILE '-' reads stdin)",
  details: [
    "Reads classic pcap (either byte order, µs or ns) and pcapng. Fields: timestamp,",
    "transport, src, src_port, dst, dst_port, tls_server_name, ja4, ja4_r, ja4_o, ja4_ro,",
    "ja3, ja3_full, ja4s, ja3s, ja4t, ja4h (a list, one per HTTP request).",
    "Exit 1 when an input is not a capture or is cut short (records found are printed).",
  ].join("\n"),
  flags: [
    {
      name: "format",
      short: "f",
      type: "string",
      value: "FMT",
      help: "jsonl (default), csv or table",
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
    const print = (conns: ConnectionRecord[]) =>
      write(
        conns.map((c) => (format === "csv" ? csvLine(c) : JSON.stringify(c)) + "\n").join(""),
      );
    if (format === "csv") write(csvHeader() + "\n");
    for (const path of ctx.args) {
      const input = await openInput(path);
      const name = path === "-" ? "stdin" : path;
      let result: FileResult;
      try {
        result = await fingerprintStream(engine, name, input.stream, {
          onProgress: tty
            ? (n) =>
              Deno.stderr.writeSync(new TextEncoder().encode(progressLine(name, n, input.size)))
            : undefined,
          // jsonl and csv stream out idle connections; a table needs every row first.
          onIdle: format === "table" ? undefined : (conns) => print(conns),
        });
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
