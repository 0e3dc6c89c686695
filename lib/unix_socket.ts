/**
 * Newline-delimited lines over UNIX stream sockets, shared by the producers (capture/, tests)
 * and the consumer (correlator/).
 *
 * Conventions: one UTF-8 line per event ending in `\n` (a trailing `\r` is tolerated); empty
 * lines are ignored; invalid UTF-8 is replaced (U+FFFD), never fatal; a line longer than
 * `maxLineBytes` is counted and skipped up to its newline. Default socket directory:
 * `/var/run/logcorr` as root, else `$XDG_RUNTIME_DIR/logcorr`, else `/tmp/logcorr-$UID`.
 *
 * @example
 * ```ts
 * const server = await serveLines({
 *   path: "/run/logcorr/http.socket", maxLineBytes: 65536, log,
 *   onLine: (line) => handle(line), onOversize: (n) => oversized++,
 * });
 * const w = await connectLineWriter("/run/logcorr/http.socket");
 * await w.write(['{"type":"http",…}']);
 * await w.close();
 * await server.close();
 * ```
 */
import { Ja4Error } from "./errors.ts";
import type { Logger } from "./log.ts";

/** A UNIX socket could not be set up or used; the message says which path and why. */
export class SocketError extends Ja4Error {}

/** Where the platform's sockets live by default (pure: the inputs are passed in). */
export function defaultSocketDir(uid: number | null, env: Record<string, string | undefined>) {
  if (uid === 0) return "/var/run/logcorr";
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg) return `${xdg.replace(/\/+$/, "")}/logcorr`;
  return `/tmp/logcorr-${uid ?? "user"}`;
}

/** The gid of a group named in /etc/group text (or a numeric gid as is), else undefined. */
export function lookupGroupId(groupFile: string, group: string): number | undefined {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of groupFile.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/** At close, how long the accept backlog must stay empty before the listener closes. */
const ACCEPT_SETTLE_MS = 100;

const NL = 10;
const CR = 13;

/**
 * Splits a byte stream into lines. Pure: chunks in, callbacks out. Oversized lines are
 * reported by byte count and skipped through their newline; the splitter never holds more
 * than `maxLineBytes` bytes.
 */
export class LineSplitter {
  readonly #max: number;
  readonly #onLine: (line: string) => void;
  readonly #onOversize: (bytes: number) => void;
  readonly #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  #buf: Uint8Array;
  #len = 0;
  /** Bytes of the oversized line being skipped, or -1 when not skipping. */
  #skipping = -1;

  constructor(
    maxLineBytes: number,
    onLine: (line: string) => void,
    onOversize: (bytes: number) => void,
  ) {
    this.#max = maxLineBytes;
    this.#onLine = onLine;
    this.#onOversize = onOversize;
    this.#buf = new Uint8Array(Math.min(maxLineBytes, 64 * 1024));
  }

  /** Feeds bytes; complete lines are delivered before it returns. */
  push(chunk: Uint8Array): void {
    let start = 0;
    // A run of complete, in-bounds lines inside this chunk is decoded at once (one decoder call
    // instead of one per line: the common case of a busy writer). A newline byte never occurs
    // inside a UTF-8 sequence, so splitting the decoded text gives the same lines.
    let runStart = -1;
    let runEnd = -1;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.#skipping < 0 && this.#len === 0 && nl !== -1 && end - start <= this.#max) {
        if (runStart < 0) runStart = start;
        runEnd = end;
        start = end + 1;
        continue;
      }
      if (runStart >= 0) {
        this.#deliverRun(chunk.subarray(runStart, runEnd));
        runStart = -1;
      }
      if (this.#skipping >= 0) {
        this.#skipping += end - start;
        if (nl !== -1) {
          this.#onOversize(this.#skipping);
          this.#skipping = -1;
        }
      } else if (this.#len + (end - start) > this.#max) {
        this.#skipping = this.#len + (end - start);
        this.#len = 0;
        if (nl !== -1) {
          this.#onOversize(this.#skipping);
          this.#skipping = -1;
        }
      } else {
        this.#append(chunk.subarray(start, end));
        if (nl !== -1) {
          this.#deliver(this.#buf.subarray(0, this.#len));
          this.#len = 0;
        }
      }
      start = end + 1;
    }
    if (runStart >= 0) this.#deliverRun(chunk.subarray(runStart, runEnd));
  }

  /** End of stream: a last line without a newline is still delivered. */
  end(): void {
    if (this.#skipping >= 0) this.#onOversize(this.#skipping);
    else if (this.#len > 0) this.#deliver(this.#buf.subarray(0, this.#len));
    this.#len = 0;
    this.#skipping = -1;
  }

  #append(bytes: Uint8Array): void {
    if (this.#len + bytes.length > this.#buf.length) {
      const bigger = new Uint8Array(
        Math.min(this.#max, Math.max(this.#buf.length * 2, this.#len + bytes.length)),
      );
      bigger.set(this.#buf.subarray(0, this.#len));
      this.#buf = bigger;
    }
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }

  /** Lines joined by `\n` (the last one without its newline), decoded in one call. */
  #deliverRun(bytes: Uint8Array): void {
    for (const raw of this.#decoder.decode(bytes).split("\n")) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line !== "") this.#onLine(line);
    }
  }

  #deliver(bytes: Uint8Array): void {
    let n = bytes.length;
    if (n > 0 && bytes[n - 1] === CR) n--;
    if (n === 0) return;
    this.#onLine(this.#decoder.decode(bytes.subarray(0, n)));
  }
}

/** Options of {@link serveLines}. */
export interface LineServerOptions {
  path: string;
  /** File mode of the socket; 0o660 by default (owner and group may connect). */
  mode?: number;
  /** Group (name or gid) given the socket and a directory this creates; "" leaves it. */
  group?: string;
  maxLineBytes: number;
  onLine: (line: string) => void;
  onOversize: (bytes: number) => void;
  log: Logger;
  /**
   * At close, each open connection is still read until its writer closes, or nothing arrives
   * for `drainQuietMs` (1 s), or `drainMs` (3 s) passes in all: lines already sent are
   * not lost.
   */
  drainQuietMs?: number;
  drainMs?: number;
}

/** A listening line server. */
export interface LineServer {
  readonly path: string;
  /** Writers connected now. */
  connections(): number;
  /** Writers accepted since start. */
  accepted(): number;
  /**
   * Stops reading (a read already under way completes): the kernel's socket buffers fill
   * and writers see a full socket, as with a stuck consumer. For backpressure and tests.
   */
  pause(): void;
  /** Reads again after {@link pause}. */
  resume(): void;
  /** Stops accepting, drains open connections (bounded), removes the socket file. */
  close(): Promise<void>;
}

async function isLive(path: string): Promise<boolean> {
  try {
    const c = await Deno.connect({ transport: "unix", path });
    c.close();
    return true;
  } catch {
    // Refused or missing: nobody listens there, so the file is stale.
    return false;
  }
}

/** Prepares the directory and clears a stale socket file; refuses to touch a live one. */
async function prepare(path: string, group: number | undefined): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  try {
    await Deno.stat(dir);
  } catch {
    try {
      // 0750: the group (e.g. Apache's) must traverse the directory to reach the socket.
      await Deno.mkdir(dir, { recursive: true, mode: 0o750 });
      if (group !== undefined) await Deno.chown(dir, null, group);
    } catch (err) {
      throw new SocketError(
        "DIR",
        `cannot create socket directory ${dir}: ${(err as Error).message} ` +
          `(create it, or choose another path with --http-socket/--network-socket)`,
        { cause: err },
      );
    }
  }
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.lstat(path);
  } catch {
    return;
  }
  if (!info.isSocket) {
    throw new SocketError(
      "NOT_SOCKET",
      `${path} exists and is not a socket; refusing to remove it`,
    );
  }
  if (await isLive(path)) {
    throw new SocketError(
      "IN_USE",
      `${path} is in use by another process (is a correlator already running?)`,
    );
  }
  await Deno.remove(path);
}

/** Listens on a UNIX stream socket and delivers every line of every writer. */
export async function serveLines(opts: LineServerOptions): Promise<LineServer> {
  const { path, log } = opts;
  let gid: number | undefined;
  if (opts.group) {
    const groups = await Deno.readTextFile("/etc/group").catch(() => "");
    gid = lookupGroupId(groups, opts.group);
    if (gid === undefined) {
      throw new SocketError(
        "GROUP",
        `socket group '${opts.group}' does not exist (see /etc/group)`,
      );
    }
  }
  await prepare(path, gid);
  let listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  try {
    listener = Deno.listen({ transport: "unix", path });
    await Deno.chmod(path, opts.mode ?? 0o660);
    if (gid !== undefined) await Deno.chown(path, null, gid);
  } catch (err) {
    throw new SocketError("LISTEN", `cannot listen on ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const conns = new Set<Deno.UnixConn>();
  const readers = new Set<Promise<void>>();
  let accepted = 0;
  let closing = false;
  let drainDeadline = 0;
  const quietMs = opts.drainQuietMs ?? 1000;

  let onClosing: () => void = () => {};
  const closingSignal = new Promise<"closing">((r) => (onClosing = () => r("closing")));
  // While paused, readers wait on `resumed` (or the close) before their next read.
  let paused = false;
  let onResume: () => void = () => {};
  let resumed = Promise.resolve();

  const readConn = async (conn: Deno.UnixConn) => {
    const splitter = new LineSplitter(opts.maxLineBytes, opts.onLine, opts.onOversize);
    const buf = new Uint8Array(64 * 1024);
    // One read is in flight at a time; it is raced against shutdown, never abandoned while
    // it may still deliver bytes, except after a quiet period while draining.
    let inflight: Promise<number | null> | undefined;
    try {
      while (true) {
        if (paused && !closing && !inflight) await Promise.race([resumed, closingSignal]);
        inflight ??= conn.read(buf);
        let got: number | null | "closing" | "quiet";
        if (!closing) got = await Promise.race([inflight, closingSignal]);
        else {
          // Draining: read what is already sent, but do not wait on a writer that stays idle.
          const left = Math.max(0, Math.min(quietMs, drainDeadline - Date.now()));
          let timer: ReturnType<typeof setTimeout> | undefined;
          const quiet = new Promise<"quiet">((r) => (timer = setTimeout(() => r("quiet"), left)));
          got = await Promise.race([inflight, quiet]);
          clearTimeout(timer);
        }
        if (got === "closing") continue;
        if (got === "quiet") {
          // The abandoned read fails when the connection closes below; that is expected.
          inflight.catch(() => {});
          break;
        }
        inflight = undefined;
        if (got === null) break;
        splitter.push(buf.subarray(0, got));
      }
      splitter.end();
    } catch (err) {
      if (!(err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted)) {
        log.warn("socket writer failed", { socket: path, error: (err as Error).message });
      }
      splitter.end();
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch {
        // Already closed by the other side of the race: nothing left to release.
      }
    }
  };

  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) {
        accepted++;
        conns.add(conn);
        const r = readConn(conn);
        readers.add(r);
        r.finally(() => readers.delete(r));
      }
    } catch (err) {
      if (!closing) {
        log.error("socket accept failed", { socket: path, error: (err as Error).message });
      }
    }
  })();

  return {
    path,
    connections: () => conns.size,
    accepted: () => accepted,
    pause() {
      if (paused) return;
      paused = true;
      resumed = new Promise<void>((r) => (onResume = r));
    },
    resume() {
      if (!paused) return;
      paused = false;
      onResume();
    },
    async close() {
      if (closing) return;
      closing = true;
      drainDeadline = Date.now() + (opts.drainMs ?? 3000);
      // Wake readers waiting in read() so they go on in draining mode.
      onClosing();
      // A writer that connected and wrote just before the close may still sit in the kernel's
      // accept backlog: closing the listener now would reset it and lose its lines. Keep
      // accepting until a short spell passes with no new connection, then close.
      for (let seen = -1; seen !== accepted && Date.now() < drainDeadline;) {
        seen = accepted;
        await new Promise((r) => setTimeout(r, ACCEPT_SETTLE_MS));
      }
      listener.close();
      await acceptLoop;
      await Promise.all([...readers]);
      await Deno.remove(path).catch(() => {
        // The file may be gone already (removed by an operator): nothing to clean.
      });
    },
  };
}

/** A simple writer of lines to a UNIX stream socket (for producers and tests). */
export interface LineWriter {
  /** Writes the lines, each followed by `\n`, in one or more socket writes. */
  write(lines: readonly string[]): Promise<void>;
  close(): void;
}

/** Connects a {@link LineWriter}; a missing or refusing socket is a SocketError. */
export async function connectLineWriter(path: string): Promise<LineWriter> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (err) {
    throw new SocketError("CONNECT", `cannot connect to ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const enc = new TextEncoder();
  return {
    async write(lines) {
      const bytes = enc.encode(lines.length ? lines.join("\n") + "\n" : "");
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    },
    close() {
      conn.close();
    },
  };
}
