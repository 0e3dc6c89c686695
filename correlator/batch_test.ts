import { assert, assertEquals } from "../lib/testing.ts";
import {
  Batcher,
  batchRows,
  batchText,
  newBatchPrefix,
  payloadOf,
  payloadRows,
  taggedLines,
} from "./batch.ts";

Deno.test("Batcher: cuts by row count and by age; ids are unique and sort in order", () => {
  const b = new Batcher({ maxRows: 3, maxAgeMs: 100, idPrefix: "p" });
  assertEquals(b.add("http_logs", { a: 1 }, 0), undefined);
  assertEquals(b.add("tls_handshakes", { b: 2 }, 10), undefined);
  const full = b.add("http_logs", { a: 3 }, 20)!;
  assertEquals(full.count, 3);
  assertEquals(batchRows(full, "http_logs"), [{ a: 1 }, { a: 3 }]);
  assertEquals(batchRows(full, "tls_handshakes"), [{ b: 2 }]);
  b.add("http_logs", { a: 4 }, 50);
  assertEquals(b.poll(149), undefined);
  const old = b.poll(150)!;
  assertEquals(old.count, 1);
  assertEquals(b.poll(1000), undefined);
  assertEquals(b.take(), undefined);
  assert(full.id < old.id, `${full.id} < ${old.id}`);
  assertEquals(full.id, "p-0000000000");
});

Deno.test("newBatchPrefix: later starts sort after earlier ones", () => {
  const a = newBatchPrefix(1_700_000_000_000, () => 0.99);
  const b = newBatchPrefix(1_700_000_000_001, () => 0);
  assert(a < b);
  assertEquals(a.length, b.length);
});

Deno.test("batchText and taggedLines: JSONEachRow per table, tagged lines for files", () => {
  const b = new Batcher({ maxRows: 10, maxAgeMs: 100, idPrefix: "p" });
  b.add("http_logs", { path: "/a", n: 1 }, 0);
  b.add("tls_handshakes", { ja4: "t13" }, 0);
  const batch = b.take()!;
  assertEquals(batchText(batch, "http_logs"), '{"path":"/a","n":1}\n');
  assertEquals(
    taggedLines(batch),
    '{"table":"http_logs","path":"/a","n":1}\n{"table":"tls_handshakes","ja4":"t13"}\n',
  );
});

Deno.test("payloadRows: a payload's JSONEachRow text back to the batch's rows, per table", () => {
  const b = new Batcher({ maxRows: 10, maxAgeMs: 100, idPrefix: "p" });
  const rows = [{ a: "line\nbreak", n: 1 }, { a: 'é "q"', n: 2 }, { a: "", n: 3 }];
  for (const r of rows) b.add("http_logs", r, 0);
  const p = payloadOf(b.take()!);
  assertEquals(payloadRows(p, "http_logs"), rows);
  assertEquals(payloadRows(p, "tls_handshakes"), []);
});
