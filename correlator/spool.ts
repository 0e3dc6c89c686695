/**
 * The on-disk spool of batches that ClickHouse did not take: one file per batch under
 * `<data_dir>/spool/correlator/`, named by batch id so that a directory listing is the replay
 * order. A file is written to `*.tmp`, fsync'd, renamed and the directory fsync'd, so after a
 * crash a batch file is either complete or absent. Files that fail to decode are moved to
 * `corrupt/` (kept for an operator, never replayed); batches ClickHouse refuses for good go to
 * `rejected/`.
 *
 * File format: line 1 is `{"id":…,"counts":{"http_logs":N,"tls_handshakes":M}}`, then the N
 * http_logs rows, then the M tls_handshakes rows, one JSON object per line.
 *
 * @example
 * ```ts
 * const spool = await Spool.open("/var/lib/ja4/spool/correlator", 2 ** 31, log);
 * await spool.append(batch);
 * const name = spool.oldest(); const b = await spool.read(name!); await spool.remove(name!);
 * ```
 */
import { Ja4Error } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { Payload } from "./batch.ts";
import { type TableName, TABLES } from "./rows.ts";

/** A spool file or directory problem; the message names the path. */
export class SpoolError extends Ja4Error {}

const SUFFIX = ".batch";
const enc = new TextEncoder();

/** Payload → spool file text. */
export function encodeSpoolFile(p: Payload): string {
  const counts: Record<string, number> = {};
  for (const t of TABLES) counts[t] = lineCount(p.text[t]);
  let out = JSON.stringify({ id: p.id, counts }) + "\n";
  for (const t of TABLES) out += p.text[t];
  return out;
}

function lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/**
 * Spool file text → payload; throws SpoolError("CORRUPT") when the header's counts do not
 * match the lines. Rows stay text: ClickHouse parses them on replay.
 */
export function decodeSpoolFile(text: string): Payload {
  const nl = text.indexOf("\n");
  let header: { id?: unknown; counts?: Record<string, unknown> };
  try {
    header = JSON.parse(nl === -1 ? text : text.slice(0, nl));
  } catch (err) {
    throw new SpoolError("CORRUPT", `spool file header is not JSON: ${(err as Error).message}`);
  }
  if (typeof header?.id !== "string" || typeof header.counts !== "object" || !header.counts) {
    throw new SpoolError("CORRUPT", "spool file header lacks id/counts");
  }
  const out: Payload = { id: header.id, count: 0, text: { http_logs: "", tls_handshakes: "" } };
  let at = nl + 1;
  for (const t of TABLES) {
    const n = header.counts[t] ?? 0;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      throw new SpoolError("CORRUPT", `spool file ${header.id}: bad count of ${t}`);
    }
    let end = at;
    for (let k = 0; k < n; k++) {
      const e = text.indexOf("\n", end);
      if (e === -1) {
        throw new SpoolError(
          "CORRUPT",
          `spool file ${header.id}: count of ${t} does not match its lines`,
        );
      }
      end = e + 1;
    }
    out.text[t as TableName] = text.slice(at, end);
    out.count += n;
    at = end;
  }
  if (at !== text.length) throw new SpoolError("CORRUPT", `spool file ${header.id}: extra lines`);
  return out;
}

async function fsyncDir(dir: string): Promise<void> {
  const d = await Deno.open(dir, { read: true });
  try {
    await d.sync();
  } finally {
    d.close();
  }
}

/** The spool directory; one writer (this process) at a time. */
export class Spool {
  readonly dir: string;
  readonly #maxBytes: number;
  readonly #log: Logger;
  /** Batch file names, oldest first, with their sizes. */
  #files: { name: string; size: number }[] = [];
  #bytes = 0;

  private constructor(dir: string, maxBytes: number, log: Logger) {
    this.dir = dir;
    this.#maxBytes = maxBytes;
    this.#log = log;
  }

  /** Opens (creating) the directory, removes half-written `*.tmp` files, lists the batches. */
  static async open(dir: string, maxBytes: number, log: Logger): Promise<Spool> {
    const spool = new Spool(dir, maxBytes, log);
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o750 });
      for await (const e of Deno.readDir(dir)) {
        if (!e.isFile) continue;
        if (e.name.endsWith(".tmp")) {
          // Written but never renamed: the batch was still in memory, and is accounted there.
          await Deno.remove(`${dir}/${e.name}`);
        } else if (e.name.endsWith(SUFFIX)) {
          const size = (await Deno.stat(`${dir}/${e.name}`)).size;
          spool.#files.push({ name: e.name, size });
          spool.#bytes += size;
        }
      }
    } catch (err) {
      throw new SpoolError("DIR", `spool directory ${dir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    spool.#files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return spool;
  }

  /** Batches on disk. */
  get count(): number {
    return this.#files.length;
  }

  /** Bytes on disk. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The oldest batch's file name. */
  oldest(): string | undefined {
    return this.#files[0]?.name;
  }

  /**
   * Writes a batch durably. Returns false (and writes nothing) when it would exceed the
   * size bound; throws SpoolError when the disk refuses.
   */
  async append(batch: Payload): Promise<boolean> {
    // Already on disk (a batch spooled at shutdown whose late insert failed too): nothing to add.
    if (this.#files.some((f) => f.name === batch.id + SUFFIX)) return true;
    const bytes = enc.encode(encodeSpoolFile(batch));
    if (this.#bytes + bytes.length > this.#maxBytes) return false;
    const name = batch.id + SUFFIX;
    const path = `${this.dir}/${name}`;
    try {
      const f = await Deno.open(`${path}.tmp`, {
        write: true,
        create: true,
        truncate: true,
        mode: 0o640,
      });
      try {
        let off = 0;
        while (off < bytes.length) off += await f.write(bytes.subarray(off));
        await f.syncData();
      } finally {
        f.close();
      }
      await Deno.rename(`${path}.tmp`, path);
      await fsyncDir(this.dir);
    } catch (err) {
      await Deno.remove(`${path}.tmp`).catch(() => {
        // Nothing to clean when the tmp file was never created.
      });
      throw new SpoolError("WRITE", `cannot write spool file ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    // Ids sort in creation order; appends usually come in order, but an overflow and a failed
    // insert may finish out of order, so the entry goes to its sorted place.
    let i = this.#files.length;
    while (i > 0 && this.#files[i - 1].name > name) i--;
    this.#files.splice(i, 0, { name, size: bytes.length });
    this.#bytes += bytes.length;
    return true;
  }

  /** Reads a batch back; a file that does not decode is moved to `corrupt/` and reported. */
  async read(name: string): Promise<Payload> {
    const path = `${this.dir}/${name}`;
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      // Removed behind our back: drop it from the order rather than retry it forever.
      if (err instanceof Deno.errors.NotFound) this.#forget(name);
      throw new SpoolError("READ", `cannot read spool file ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      return decodeSpoolFile(text);
    } catch (err) {
      await this.#moveTo(name, "corrupt");
      this.#log.error("spool file is corrupt; moved aside", {
        file: name,
        error: (err as Error).message,
      });
      throw err;
    }
  }

  /** Deletes a batch that ClickHouse has taken. */
  async remove(name: string): Promise<void> {
    try {
      await Deno.remove(`${this.dir}/${name}`);
    } catch (err) {
      // Already gone (an operator cleaned up): the goal is reached; other errors are real.
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    this.#forget(name);
  }

  /** Moves a batch ClickHouse refuses for good to `rejected/`, out of the replay order. */
  async reject(name: string): Promise<void> {
    await this.#moveTo(name, "rejected");
  }

  async #moveTo(name: string, sub: string): Promise<void> {
    await Deno.mkdir(`${this.dir}/${sub}`, { recursive: true });
    await Deno.rename(`${this.dir}/${name}`, `${this.dir}/${sub}/${name}`);
    this.#forget(name);
  }

  #forget(name: string): void {
    const i = this.#files.findIndex((f) => f.name === name);
    if (i >= 0) {
      this.#bytes -= this.#files[i].size;
      this.#files.splice(i, 1);
    }
  }
}
