import { assert, assertEquals } from "../lib/testing.ts";
import { createLogger } from "../lib/log.ts";
import { StorageError } from "../lib/storage/errors.ts";
import type { Storage } from "../lib/storage/types.ts";
import { type Batch, Batcher } from "./batch.ts";
import { ClickHouseSink, insertStatement, isRetryable } from "./sink_clickhouse.ts";
import { FileSink, rotationPlan, StdoutSink } from "./sink_file.ts";
import { Spool } from "./spool.ts";

const quiet = createLogger({ level: "error", write: () => {} });

function makeBatches(n: number, rows = 3): Batch[] {
  const b = new Batcher({ maxRows: rows, maxAgeMs: 1e9, idPrefix: "t" });
  const out: Batch[] = [];
  for (let i = 0; out.length < n; i++) {
    const full = b.add(i % 2 ? "http_logs" : "tls_handshakes", { i }, 0);
    if (full) out.push(full);
  }
  return out;
}

/**
 * A Storage double that parses our INSERT statements, keeps rows per table, deduplicates by
 * token like ClickHouse does, and fails on demand.
 */
class FakeClickHouse {
  up = true;
  /** Never answer (a hung server). */
  hang = false;
  /** Fail the insert after storing (an answer lost on the way back). */
  loseAnswers = 0;
  refuse = false;
  tables = new Map<string, unknown[]>();
  tokens = new Set<string>();
  order: string[] = [];
  connects = 0;

  storage(): Storage {
    this.connects++;
    return {
      kind: "server",
      database: "db",
      query: () => Promise.resolve([]),
      insert: () => Promise.reject(new Error("not used")),
      ping: () => Promise.resolve(this.up),
      close: () => Promise.resolve(),
      command: (sql: string) => {
        if (this.hang) return new Promise<void>(() => {});
        if (!this.up) return Promise.reject(new StorageError("UNAVAILABLE", "connection refused"));
        if (this.refuse) {
          return Promise.reject(
            new StorageError("SQL", "Code: 27. cannot parse", { clickhouseCode: 27 }),
          );
        }
        const m =
          /^INSERT INTO db\.(\w+) SETTINGS insert_deduplication_token = '([^']+)' FORMAT JSONEachRow\n/
            .exec(sql)!;
        const [head, table, token] = m;
        if (!this.tokens.has(token)) {
          this.tokens.add(token);
          this.order.push(token);
          const rows = sql.slice(head.length).split("\n").filter((l) => l).map((l) =>
            JSON.parse(l)
          );
          this.tables.set(table, [...(this.tables.get(table) ?? []), ...rows]);
        }
        if (this.loseAnswers > 0) {
          this.loseAnswers--;
          return Promise.reject(new StorageError("UNAVAILABLE", "timeout"));
        }
        return Promise.resolve();
      },
    };
  }

  rowCount(): number {
    return [...this.tables.values()].reduce((s, r) => s + r.length, 0);
  }
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("insertStatement and isRetryable", () => {
  assertEquals(
    insertStatement("db", "http_logs", "a-1.http_logs", '{"x":1}\n'),
    "INSERT INTO db.http_logs SETTINGS insert_deduplication_token = 'a-1.http_logs' FORMAT JSONEachRow\n" +
      '{"x":1}\n',
  );
  let threw = false;
  try {
    insertStatement("db", "t", "x'; DROP TABLE t; --", "");
  } catch {
    threw = true;
  }
  assert(threw, "a token with a quote must be refused");
  assert(isRetryable(new StorageError("UNAVAILABLE", "down")));
  assert(isRetryable(new StorageError("SQL", "no table", { clickhouseCode: 60 })));
  assert(!isRetryable(new StorageError("SQL", "bad row", { clickhouseCode: 27 })));
});

Deno.test("ClickHouseSink: healthy path inserts every batch once, in order", async () => {
  await withDir(async (dir) => {
    const ch = new FakeClickHouse();
    const sink = new ClickHouseSink({
      connect: () => Promise.resolve(ch.storage()),
      spool: await Spool.open(dir, 1 << 20, quiet),
      retryMs: 10,
      maxQueueRows: 1000,
      log: quiet,
    });
    const bs = makeBatches(5);
    for (const b of bs) sink.write(b);
    await sink.close();
    assertEquals(ch.rowCount(), 15);
    assertEquals(sink.stats().inserted_batches, 5);
    assertEquals(sink.stats().spooled_batches, 0);
    assertEquals(
      ch.order.filter((t) => t.endsWith("http_logs")),
      bs.map((b) => `${b.id}.http_logs`),
    );
  });
});

Deno.test("ClickHouseSink: outage → spool → recovery, exact counts, no duplicates, in order", async () => {
  await withDir(async (dir) => {
    const ch = new FakeClickHouse();
    const spool = await Spool.open(dir, 1 << 20, quiet);
    const sink = new ClickHouseSink({
      connect: () => Promise.resolve(ch.storage()),
      spool,
      retryMs: 20,
      maxQueueRows: 1000,
      log: quiet,
    });
    const bs = makeBatches(20);
    for (const b of bs.slice(0, 3)) sink.write(b);
    await sink.flush();
    ch.up = false;
    for (const b of bs.slice(3, 12)) sink.write(b);
    await sink.flush();
    assertEquals(spool.count, 9);
    assertEquals(sink.stats().healthy, 0);
    // The answer of the first insert after recovery is lost: stored, but reported failed.
    ch.up = true;
    ch.loseAnswers = 1;
    for (const b of bs.slice(12)) sink.write(b);
    for (let i = 0; i < 200 && (spool.count > 0 || sink.stats().queue_rows > 0); i++) {
      await new Promise((r) => setTimeout(r, 10));
      await sink.flush();
    }
    await sink.close();
    assertEquals(spool.count, 0);
    assertEquals(ch.rowCount(), 60, "every row exactly once");
    const httpOrder = ch.order.filter((t) => t.endsWith("http_logs"));
    assertEquals(httpOrder, bs.map((b) => `${b.id}.http_logs`), "in creation order");
    const s = sink.stats();
    assert(s.spooled_batches >= 9);
    assertEquals(s.dropped_rows, 0);
  });
});

Deno.test("ClickHouseSink: unreachable at start; a batch refused for good goes to rejected/", async () => {
  await withDir(async (dir) => {
    const ch = new FakeClickHouse();
    let connectable = false;
    const spool = await Spool.open(dir, 1 << 20, quiet);
    const sink = new ClickHouseSink({
      connect: () =>
        connectable
          ? Promise.resolve(ch.storage())
          : Promise.reject(new StorageError("UNAVAILABLE", "no server")),
      spool,
      retryMs: 5,
      maxQueueRows: 1000,
      log: quiet,
    });
    const [a, b] = makeBatches(2);
    sink.write(a);
    await sink.flush();
    assertEquals(spool.count, 1);
    connectable = true;
    ch.refuse = true;
    for (let i = 0; i < 100 && spool.count > 0; i++) {
      await new Promise((r) => setTimeout(r, 6));
      await sink.flush();
    }
    assertEquals(sink.stats().rejected_batches, 1);
    assert((await Deno.stat(`${dir}/rejected/${a.id}.batch`)).isFile);
    ch.refuse = false;
    await new Promise((r) => setTimeout(r, 6));
    sink.write(b);
    await sink.close();
    assertEquals(ch.rowCount(), 3);
  });
});

Deno.test("ClickHouseSink: a full spool drops and counts, never blocks", async () => {
  await withDir(async (dir) => {
    const ch = new FakeClickHouse();
    ch.up = false;
    const sink = new ClickHouseSink({
      connect: () => Promise.resolve(ch.storage()),
      spool: await Spool.open(dir, 400, quiet),
      retryMs: 10_000,
      maxQueueRows: 1000,
      log: quiet,
    });
    for (const b of makeBatches(10)) sink.write(b);
    await sink.close();
    const s = sink.stats();
    assertEquals(s.dropped_rows + s.spool_batches * 3, 30);
    assert(s.dropped_rows > 0);
  });
});

Deno.test("FileSink: tagged lines, rotation keeps N files; StdoutSink writes the same lines", async () => {
  assertEquals(rotationPlan("/x/e.jsonl", 2), {
    remove: "/x/e.jsonl.2",
    moves: [["/x/e.jsonl.1", "/x/e.jsonl.2"], ["/x/e.jsonl", "/x/e.jsonl.1"]],
  });
  assertEquals(rotationPlan("/x/e.jsonl", 0), { remove: "/x/e.jsonl", moves: [] });
  await withDir(async (dir) => {
    const path = `${dir}/out/events.jsonl`;
    const sink = await FileSink.open({ path, maxBytes: 120, keep: 2, log: quiet });
    const bs = makeBatches(8);
    for (const b of bs) sink.write(b);
    await sink.close();
    const files = [path, `${path}.1`, `${path}.2`];
    const lines = (await Promise.all(files.map((f) => Deno.readTextFile(f))))
      .flatMap((t) => t.split("\n").filter((l) => l));
    assert(
      lines.every((l) => /^\{"table":"(http_logs|tls_handshakes)","i":\d+\}$/.test(l)),
      lines[0],
    );
    await assertNoFile(`${path}.3`);
    assert(sink.stats().file_rotations >= 3);
    // The newest rows are in the live file.
    const live = (await Deno.readTextFile(path)).trim().split("\n");
    assertEquals(Math.max(...live.map((l) => JSON.parse(l).i)), 23);
  });
  const chunks: string[] = [];
  const out = new StdoutSink(quiet, {
    write: (p) => {
      chunks.push(new TextDecoder().decode(p));
      return Promise.resolve(p.length);
    },
  });
  out.write(makeBatches(1)[0]);
  await out.close();
  assertEquals(chunks.join("").trim().split("\n").length, 3);
  assertEquals(out.stats().written_rows, 3);
});

Deno.test("StdoutSink: a destination that never drains costs bounded memory; the excess is counted", async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const stuck = new StdoutSink(quiet, { write: async (p) => (await gate, p.length) }, 7);
  for (const b of makeBatches(5)) stuck.write(b);
  assertEquals(stuck.stats().queue_rows, 6);
  assertEquals(stuck.stats().dropped_rows, 9);
  release();
  await stuck.close();
  assertEquals(stuck.stats().written_rows, 6);
});

async function assertNoFile(path: string) {
  try {
    await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  throw new Error(`${path} should not exist`);
}

Deno.test("ClickHouseSink: a hung server — the queue overflows to the spool, close() spools the rest in time", async () => {
  await withDir(async (dir) => {
    const ch = new FakeClickHouse();
    ch.hang = true;
    const spool = await Spool.open(dir, 1 << 20, quiet);
    const sink = new ClickHouseSink({
      connect: () => Promise.resolve(ch.storage()),
      spool,
      retryMs: 10,
      maxQueueRows: 6,
      closeGraceMs: 50,
      log: quiet,
    });
    const bs = makeBatches(10);
    for (const b of bs) sink.write(b);
    // Let the overflow pump run: memory holds at most maxQueueRows rows.
    for (let i = 0; i < 50 && sink.stats().queue_rows > 6; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert(sink.stats().queue_rows <= 6, `queue ${sink.stats().queue_rows}`);
    await sink.close();
    assertEquals(spool.count, 10, "queued batches and the one in flight are all on disk");
    // The next start replays them, oldest first, into a server that answers.
    const up = new FakeClickHouse();
    const next = new ClickHouseSink({
      connect: () => Promise.resolve(up.storage()),
      spool: await Spool.open(dir, 1 << 20, quiet),
      retryMs: 10,
      maxQueueRows: 100,
      log: quiet,
    });
    next.start();
    await next.close();
    assertEquals(up.rowCount(), 30);
    assertEquals(
      up.order.filter((t) => t.endsWith("http_logs")),
      bs.map((b) => `${b.id}.http_logs`),
    );
  });
});
