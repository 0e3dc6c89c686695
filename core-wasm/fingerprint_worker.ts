/**
 * Worker of `ja4 fingerprint --workers N` (see sharded.ts): reads the whole capture file
 * itself, keeps the flows of its shard, and posts each chunk's records still encoded
 * (transferred, not cloned) so the main thread can merge all shards in capture order.
 *
 * Protocol: in `{ wasmPath, path, index, count, chunkBytes, window }`; out, per chunk,
 * `{ type: "chunk", read, bytes, keylog }`, then `{ type: "end", error? }`, or `{ type: "fatal" }`.
 * At most `window` chunks are in flight: the main thread answers each with `"ack"`, so a
 * slow consumer bounds the worker's memory instead of queueing the whole capture.
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { CaptureFormatError, loadEngine, pumpReads, SESSION_DEFAULTS } from "./loader.ts";

/** Start message of a worker. */
export interface WorkerStart {
  /** The built engine (the main thread has run ensureWasm: no source digest per worker). */
  wasmPath: string;
  path: string;
  index: number;
  count: number;
  chunkBytes: number;
  window: number;
}

/** Messages a worker posts. */
export type WorkerMessage =
  | {
    type: "chunk";
    read: number;
    bytes: Uint8Array;
    /** The capture has carried TLS secrets so far (see EngineStats.keylog_secrets). */
    keylog: boolean;
  }
  | { type: "end"; error?: { kind: string; offset: number; message: string } }
  | { type: "fatal"; message: string };

let credits = 0;
let wake: (() => void) | undefined;

async function run(start: WorkerStart): Promise<void> {
  credits = start.window;
  const engine = await loadEngine(await Deno.readFile(start.wasmPath));
  // A shard sees 1/count of the flows: its share of the tables keeps the total capacity
  // (and memory) of one session instead of multiplying it by the worker count.
  const share = (n: number) => Math.ceil(n / start.count);
  const session = await engine.createSession({
    shard: { index: start.index, count: start.count },
    maxFlows: share(SESSION_DEFAULTS.maxFlows),
    reassemblySlabs: share(SESSION_DEFAULTS.reassemblySlabs),
    quicStates: share(SESSION_DEFAULTS.quicStates),
  });
  const file = await Deno.open(start.path);
  try {
    // Zero copy: the file is read straight into the engine's input areas, the next chunk
    // while the engine decodes the current one. A capture error met by commitEncoded is
    // thrown by the next call (here: finish), after the records found before it are sent.
    await pumpReads(
      session,
      (view) => file.read(view),
      start.chunkBytes,
      (n, onFed) => session.commitEncoded(n, onFed),
      async (bytes, read) => {
        while (credits === 0) await new Promise<void>((r) => (wake = r));
        credits--;
        const keylog = session.stats().keylog_secrets > 0;
        const msg: WorkerMessage = { type: "chunk", read, bytes, keylog };
        self.postMessage(msg, [bytes.buffer]);
      },
    );
    session.finish();
    self.postMessage({ type: "end" } satisfies WorkerMessage);
  } catch (err) {
    if (!(err instanceof CaptureFormatError)) throw err;
    const msg: WorkerMessage = {
      type: "end",
      error: { kind: err.kind, offset: err.offset, message: err.message },
    };
    self.postMessage(msg);
  } finally {
    file.close();
  }
}

self.onmessage = (e: MessageEvent<WorkerStart | "ack">) => {
  if (e.data === "ack") {
    credits++;
    wake?.();
    wake = undefined;
    return;
  }
  run(e.data).catch((err) => {
    const msg: WorkerMessage = { type: "fatal", message: String(err?.stack ?? err) };
    self.postMessage(msg);
  });
};
