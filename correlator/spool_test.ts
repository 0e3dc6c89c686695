import { assert, assertEquals, assertRejects, assertThrows } from "../lib/testing.ts";
import { createLogger } from "../lib/log.ts";
import { Batcher, payloadOf } from "./batch.ts";
import { decodeSpoolFile, encodeSpoolFile, Spool, SpoolError } from "./spool.ts";

const quiet = createLogger({ level: "error", write: () => {} });

function batches(n: number, rowsEach: number, prefix = "p") {
  const b = new Batcher({ maxRows: rowsEach, maxAgeMs: 1e9, idPrefix: prefix });
  const out = [];
  for (let i = 0; i < n * rowsEach; i++) {
    const full = b.add(i % 3 ? "http_logs" : "tls_handshakes", { i, s: `row "${i}"\n` }, 0);
    if (full) out.push(payloadOf(full));
  }
  return out;
}

Deno.test("spool file: encode/decode round trip; truncation and garbage are CORRUPT", () => {
  const [b] = batches(1, 7);
  const text = encodeSpoolFile(b);
  assertEquals(decodeSpoolFile(text), b);
  const lines = text.split("\n");
  const cut = lines.slice(0, -2).join("\n") + "\n";
  assertThrows(() => decodeSpoolFile(cut), SpoolError, "does not match");
  assertThrows(() => decodeSpoolFile("not json\n"), SpoolError, "header");
  assertThrows(() => decodeSpoolFile(text + "{}\n"), SpoolError, "extra");
});

Deno.test("Spool: durable files replayed oldest first across a reopen; size bound refuses", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const spool = await Spool.open(`${dir}/s`, 1 << 20, quiet);
    const bs = batches(5, 4);
    for (const b of [bs[2], bs[0], bs[1]].sort((x, y) => (x.id < y.id ? -1 : 1))) {
      assert(await spool.append(b));
    }
    // A half-written file from a crash is removed at open.
    await Deno.writeTextFile(`${dir}/s/zzz.batch.tmp`, "partial");
    const again = await Spool.open(`${dir}/s`, 1 << 20, quiet);
    assertEquals(again.count, 3);
    assertEquals(again.bytes, spool.bytes);
    const seen = [];
    while (again.oldest()) {
      const name = again.oldest()!;
      seen.push((await again.read(name)).id);
      await again.remove(name);
    }
    assertEquals(seen, [bs[0].id, bs[1].id, bs[2].id]);
    assertEquals([again.count, again.bytes], [0, 0]);
    const tiny = await Spool.open(`${dir}/tiny`, 100, quiet);
    assertEquals(await tiny.append(bs[3]), false);
    assertEquals(tiny.count, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Spool: a corrupt file is moved to corrupt/ and leaves the replay order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const spool = await Spool.open(dir, 1 << 20, quiet);
    const [a, b] = batches(2, 2);
    await spool.append(a);
    await spool.append(b);
    await Deno.writeTextFile(`${dir}/${a.id}.batch`, "garbage");
    await assertRejects(() => spool.read(spool.oldest()!), SpoolError);
    assertEquals(spool.count, 1);
    assertEquals(spool.oldest(), `${b.id}.batch`);
    assertEquals(await Deno.readTextFile(`${dir}/corrupt/${a.id}.batch`), "garbage");
    await spool.reject(spool.oldest()!);
    assertEquals(spool.count, 0);
    assert((await Deno.stat(`${dir}/rejected/${b.id}.batch`)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Spool: a file removed behind its back leaves the order instead of blocking it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const spool = await Spool.open(dir, 1 << 20, quiet);
    const [a, b] = batches(2, 2);
    await spool.append(a);
    await spool.append(b);
    await Deno.remove(`${dir}/${a.id}.batch`);
    await assertRejects(() => spool.read(`${a.id}.batch`), SpoolError, "cannot read");
    assertEquals(spool.oldest(), `${b.id}.batch`);
    await Deno.remove(`${dir}/${b.id}.batch`);
    await spool.remove(`${b.id}.batch`);
    assertEquals([spool.count, spool.bytes], [0, 0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
