/**
 * When mod_reqin_log's lines reach the reader while a keep-alive connection stays open: in a
 * threaded MPM the per-child flusher thread sends them (~0.5 s after the first line); under
 * prefork, which has no flusher thread, the connection's next request or its end does.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type Mpm, startApache, startLineReader } from "../tests/helpers/apache.ts";

/** Sends one request for the test page (told apart by `query`) and reads its whole response. */
async function request(conn: Deno.Conn, query: string): Promise<void> {
  await conn.write(
    new TextEncoder().encode(
      `GET /index.html?${query} HTTP/1.1\r\nHost: delivery.test\r\n\r\n`,
    ),
  );
  const buf = new Uint8Array(16384);
  let text = "";
  while (!text.endsWith("</p>\n")) {
    const n = await conn.read(buf);
    assert(n !== null, "connection closed before the response ended");
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  assert(text.startsWith("HTTP/1.1 200"), text);
}

async function withApache(
  mpm: Mpm,
  body: (port: number, queries: () => string[]) => Promise<void>,
): Promise<void> {
  const reader = await startLineReader();
  const apache = await startApache({ socketPath: reader.path, mpm });
  try {
    await body(apache.httpPort, () => reader.events.map((e) => e.query ?? ""));
  } finally {
    await apache.stop();
    await reader.close();
  }
}

async function waitFor(what: string, check: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

Deno.test("mod_reqin_log delivery: the flusher sends lines of an open connection (mpm_event)", async () => {
  await withApache("event", async (port, queries) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await request(conn, "open=1");
      // Nothing else happens: only the flusher thread can send this line.
      const ms = await waitFor("line of open=1", () => queries().includes("open=1"), 5000);
      assert(ms < 3000, `delivered after ${ms} ms`);
    } finally {
      conn.close();
    }
  });
});

Deno.test("mod_reqin_log delivery: prefork sends at the connection's next request or end", async () => {
  await withApache("prefork", async (port, queries) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    let closed = false;
    try {
      await request(conn, "pf=1");
      // No flusher thread: the line waits in the child's batch while the connection idles...
      await new Promise((r) => setTimeout(r, 700));
      assertEquals(queries().includes("pf=1"), false);
      // ...a request after the batch's age limit (500 ms) sends it (and itself).
      await request(conn, "pf=2");
      await waitFor("lines of pf=1 and pf=2", () => queries().includes("pf=2"), 5000);
      assertEquals(queries().filter((p) => p.startsWith("pf=")), ["pf=1", "pf=2"]);
      // A last request is sent when its connection ends.
      await request(conn, "pf=3");
      conn.close();
      closed = true;
      await waitFor("line of pf=3", () => queries().includes("pf=3"), 5000);
    } finally {
      if (!closed) conn.close();
    }
  });
});
