/**
 * The network.socket writer, run in a Worker (its own thread and event loop). A write to a UNIX
 * socket moves at most one socket buffer (~200 KiB) per event-loop turn of the thread that
 * awaits it; in the sensor's main thread, turns are spaced by capture rounds, which would cap the
 * output well below the capture rate. Here, each chunk (MiBs) is written whole on this thread's
 * own loop, and the main thread is told once per chunk.
 *
 * Protocol (postMessage):
 * - in: `{type: "connect", path}` → out: `{type: "connected"}` or `{type: "error", message}`
 * - in: `{type: "write", id, data}` → out: `{type: "written", id}` or `{type: "error", id, message}`
 * - in: `{type: "disconnect"}` closes the connection; out: `{type: "gone"}` when the peer closes.
 */
/// <reference lib="deno.worker" />

/** Messages the main thread sends. */
export type WorkerRequest =
  | { type: "connect"; path: string }
  | { type: "write"; id: number; data: Uint8Array }
  | { type: "disconnect" };

/** Messages the worker sends back. */
export type WorkerReply =
  | { type: "connected" }
  | { type: "written"; id: number }
  | { type: "error"; id?: number; message: string }
  | { type: "gone" };

let conn: Deno.UnixConn | undefined;

function reply(msg: WorkerReply): void {
  self.postMessage(msg);
}

/** Reads (and discards) until the peer closes, so that a restart is noticed even when idle. */
async function watch(c: Deno.UnixConn): Promise<void> {
  const buf = new Uint8Array(4096);
  try {
    while ((await c.read(buf)) !== null) { /* the correlator never writes back */ }
  } catch {
    // A read error means the connection is unusable: that is what "gone" reports.
  }
  if (conn === c) {
    conn = undefined;
    reply({ type: "gone" });
  }
}

self.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  const msg = e.data;
  if (msg.type === "connect") {
    try {
      const c = await Deno.connect({ transport: "unix", path: msg.path });
      conn = c;
      reply({ type: "connected" });
      watch(c);
    } catch (err) {
      reply({ type: "error", message: (err as Error).message });
    }
  } else if (msg.type === "write") {
    const c = conn;
    if (!c) {
      reply({ type: "error", id: msg.id, message: "not connected" });
      return;
    }
    try {
      let off = 0;
      while (off < msg.data.length) off += await c.write(msg.data.subarray(off));
      reply({ type: "written", id: msg.id });
    } catch (err) {
      reply({ type: "error", id: msg.id, message: (err as Error).message });
    }
  } else if (msg.type === "disconnect") {
    const c = conn;
    conn = undefined;
    try {
      c?.close();
    } catch {
      // Already closed by the watcher after the peer went away.
    }
  }
};
