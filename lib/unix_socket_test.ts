import { assert, assertEquals, assertRejects } from "./testing.ts";
import { createLogger } from "./log.ts";
import {
  connectLineWriter,
  defaultSocketDir,
  type LineServerOptions,
  LineSplitter,
  lookupGroupId,
  serveLines,
  SocketError,
} from "./unix_socket.ts";

const quiet = createLogger({ level: "error", write: () => {} });

/** A line server on `path` that collects every line it reads into `got`. */
async function collectingServer(path: string, extra: Partial<LineServerOptions> = {}) {
  const got: string[] = [];
  const server = await serveLines({
    path,
    maxLineBytes: 1024,
    log: quiet,
    onLine: (l) => got.push(l),
    onOversize: () => {},
    ...extra,
  });
  return { server, got };
}
const enc = new TextEncoder();

function split(chunks: (string | Uint8Array)[], max = 16) {
  const lines: string[] = [];
  const over: number[] = [];
  const s = new LineSplitter(max, (l) => lines.push(l), (n) => over.push(n));
  for (const c of chunks) s.push(typeof c === "string" ? enc.encode(c) : c);
  s.end();
  return { lines, over };
}

Deno.test("LineSplitter: lines across chunk boundaries, CRLF, empty lines, last line without newline", () => {
  assertEquals(split(["ab", "c\nde", "f\r\n\n", "g"]).lines, ["abc", "def", "g"]);
  assertEquals(split(["one\ntwo\nthree\n"]).lines, ["one", "two", "three"]);
});

Deno.test("LineSplitter: oversized lines are counted by size and skipped through their newline", () => {
  const r = split(["ok\n", "x".repeat(10), "y".repeat(10), "\nafter\n", "z".repeat(40) + "\nlast"]);
  assertEquals(r.lines, ["ok", "after", "last"]);
  assertEquals(r.over, [20, 40]);
  // Exactly the limit is allowed.
  assertEquals(split(["a".repeat(16) + "\n"]).lines, ["a".repeat(16)]);
  assertEquals(split(["a".repeat(17) + "\n"]).over, [17]);
  // An oversized line at end of stream is still reported once.
  assertEquals(split(["b".repeat(30)]).over, [30]);
});

Deno.test("LineSplitter: invalid UTF-8 is replaced, not fatal; multi-byte split across chunks is kept", () => {
  const bad = new Uint8Array([0x61, 0xff, 0x62, 0x0a]);
  assertEquals(split([bad]).lines, ["a\uFFFDb"]);
  const e = enc.encode("é\n"); // 0xc3 0xa9 0x0a
  assertEquals(split([e.subarray(0, 1), e.subarray(1)]).lines, ["é"]);
});

Deno.test("defaultSocketDir and lookupGroupId", () => {
  assertEquals(defaultSocketDir(0, { XDG_RUNTIME_DIR: "/run/user/0" }), "/var/run/logcorr");
  assertEquals(
    defaultSocketDir(1000, { XDG_RUNTIME_DIR: "/run/user/1000/" }),
    "/run/user/1000/logcorr",
  );
  assertEquals(defaultSocketDir(1000, {}), "/tmp/logcorr-1000");
  const groups = "root:x:0:\nwww-data:x:33:\nlogcorr:x:998:www-data\n";
  assertEquals(lookupGroupId(groups, "logcorr"), 998);
  assertEquals(lookupGroupId(groups, "42"), 42);
  assertEquals(lookupGroupId(groups, "nope"), undefined);
});

Deno.test("serveLines: many writers at once, every line delivered, mode 0660, stale file replaced", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sub/dir/test.socket`;
  try {
    // A stale socket file from a crashed run: bound once, then left behind.
    await Deno.mkdir(`${dir}/sub/dir`, { recursive: true });
    const stale = Deno.listen({ transport: "unix", path });
    stale.close();
    const { server, got } = await collectingServer(path);
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o660);
    const writers = await Promise.all(Array.from({ length: 8 }, () => connectLineWriter(path)));
    await Promise.all(writers.map(async (w, i) => {
      for (let b = 0; b < 10; b++) {
        await w.write(Array.from({ length: 100 }, (_, k) => `w${i}-${b * 100 + k}`));
      }
      w.close();
    }));
    await server.close();
    assertEquals(got.length, 8000);
    assertEquals(new Set(got).size, 8000);
    assertEquals(server.accepted(), 8);
    await assertRejects(() => Deno.stat(path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serveLines: pause stops reading after the read under way, resume delivers the rest", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/pause.socket`;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    const { server, got } = await collectingServer(path);
    const w = await connectLineWriter(path);
    await w.write(["first"]);
    while (got.length < 1) await sleep(5);
    server.pause();
    // The read already waiting for bytes still completes: one more line gets through.
    await w.write(["in-flight"]);
    while (got.length < 2) await sleep(5);
    await w.write(Array.from({ length: 500 }, (_, i) => `held-${i}`));
    await sleep(200);
    assertEquals(got, ["first", "in-flight"]);
    server.resume();
    while (got.length < 502) await sleep(5);
    assertEquals(got.at(-1), "held-499");
    // Closing while paused still drains what was sent.
    server.pause();
    await w.write(["late"]);
    await w.write(["later"]);
    w.close();
    await server.close();
    assertEquals(got.slice(502), ["late", "later"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serveLines: refuses a live socket and a non-socket file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/live.socket`;
    const server = await serveLines({
      path,
      maxLineBytes: 64,
      log: quiet,
      onLine: () => {},
      onOversize: () => {},
    });
    const err = await assertRejects(
      () =>
        serveLines({ path, maxLineBytes: 64, log: quiet, onLine: () => {}, onOversize: () => {} }),
      SocketError,
      "in use",
    );
    assertEquals(err.code, "IN_USE");
    await server.close();
    await Deno.writeTextFile(`${dir}/file`, "precious");
    await assertRejects(
      () =>
        serveLines({
          path: `${dir}/file`,
          maxLineBytes: 64,
          log: quiet,
          onLine: () => {},
          onOversize: () => {},
        }),
      SocketError,
      "not a socket",
    );
    assertEquals(await Deno.readTextFile(`${dir}/file`), "precious");
    await assertRejects(
      () => connectLineWriter(`${dir}/absent.socket`),
      SocketError,
      "cannot connect",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serveLines: close drains lines a writer already sent, and does not hang on an idle writer", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/drain.socket`;
  try {
    const { server, got } = await collectingServer(path, { drainQuietMs: 50 });
    const idle = await connectLineWriter(path);
    const busy = await connectLineWriter(path);
    await idle.write(["idle-1"]);
    const lines = Array.from({ length: 20_000 }, (_, i) => `line-${i}`);
    // Closing starts while the busy writer is still sending.
    const sending = (async () => {
      for (let i = 0; i < lines.length; i += 1000) await busy.write(lines.slice(i, i + 1000));
      busy.close();
    })();
    await new Promise((r) => setTimeout(r, 5));
    await Promise.all([server.close(), sending]);
    idle.close();
    assert(got.includes("idle-1"));
    assertEquals(got.filter((l) => l.startsWith("line-")).length, 20_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LineSplitter: any chunking of a stream gives the lines of the whole stream", () => {
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const pieces = ["a", "é", "€", "\r", "\n", "\n", "x".repeat(20), "\u{1F600}"];
  for (let round = 0; round < 200; round++) {
    let text = "";
    for (let i = rnd(60); i > 0; i--) text += pieces[rnd(pieces.length)];
    const bytes = enc.encode(text);
    if (rnd(4) === 0 && bytes.length) bytes[rnd(bytes.length)] = 0xff; // invalid UTF-8
    // Reference: split the bytes at newlines, each line on its own.
    const want: string[] = [];
    const wantOver: number[] = [];
    const dec = new TextDecoder();
    let from = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 10) continue;
      const line = bytes.subarray(from, i);
      if (line.length > 16) wantOver.push(line.length);
      else {
        const s = dec.decode(line[line.length - 1] === 13 ? line.subarray(0, -1) : line);
        if (s !== "") want.push(s);
      }
      from = i + 1;
    }
    // The same bytes in random chunks.
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length;) {
      const n = 1 + rnd(12);
      chunks.push(bytes.slice(at, at + n));
      at += n;
    }
    const got = split(chunks);
    assertEquals(got.lines, want, JSON.stringify(text));
    assertEquals(got.over, wantOver, JSON.stringify(text));
  }
});

Deno.test("serveLines: close keeps accepting until connections stop arriving (backlog not reset)", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/backlog.socket`;
  try {
    const { server, got } = await collectingServer(path);
    // Writers that connect right as the close begins, as one still queued in the kernel's
    // accept backlog would be taken: their lines must not be lost to a reset.
    const closing = server.close();
    const writers = await Promise.all(Array.from({ length: 5 }, () => connectLineWriter(path)));
    for (const [i, w] of writers.entries()) await w.write([`late-${i}`]);
    for (const w of writers) w.close();
    await closing;
    assertEquals(got.sort(), ["late-0", "late-1", "late-2", "late-3", "late-4"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
