import { assertEquals } from "../testing.ts";
import {
  isPlainIdentifier,
  parseJsonEachRow,
  toJsonCompactEachRow,
  toJsonEachRow,
} from "./types.ts";

Deno.test("toJsonEachRow / parseJsonEachRow round trip, bigint as text", () => {
  const text = toJsonEachRow([{ a: 1, s: "x\ny" }, { a: 2n ** 60n }]);
  assertEquals(text, '{"a":1,"s":"x\\ny"}\n{"a":"1152921504606846976"}\n');
  assertEquals(parseJsonEachRow(text + "\n"), [{ a: 1, s: "x\ny" }, { a: "1152921504606846976" }]);
});

Deno.test("toJsonCompactEachRow: same keys in order → arrays and the column list", () => {
  assertEquals(toJsonCompactEachRow([{ a: 1, b: "x" }, { a: 2, b: undefined }]), {
    columns: ["a", "b"],
    text: '[1,"x"]\n[2,null]\n',
  });
});

Deno.test("toJsonCompactEachRow: differing keys or order → undefined (caller uses JSONEachRow)", () => {
  assertEquals(toJsonCompactEachRow([{ a: 1, b: 2 }, { b: 2, a: 1 }]), undefined);
  assertEquals(toJsonCompactEachRow([{ a: 1, b: 2 }, { a: 1 }]), undefined);
  assertEquals(toJsonCompactEachRow([{ a: 1 }, { a: 1, b: 2 }]), undefined);
  assertEquals(toJsonCompactEachRow([]), undefined);
});

Deno.test("isPlainIdentifier refuses anything but a plain name", () => {
  assertEquals(isPlainIdentifier("http_logs"), true);
  assertEquals(isPlainIdentifier("db.http_logs"), false);
  assertEquals(isPlainIdentifier("t; DROP TABLE x"), false);
  assertEquals(isPlainIdentifier("`t`"), false);
  assertEquals(isPlainIdentifier(""), false);
});

Deno.test('emptyAsNull: "" becomes null (the column default) only in the named columns', () => {
  const rows = [{ a: "", ip: "" }, { a: "x", ip: "::1" }];
  assertEquals(
    toJsonCompactEachRow(rows, new Set(["ip"]))?.text,
    '["",null]\n["x","::1"]\n',
  );
  assertEquals(toJsonEachRow(rows, new Set(["ip"])), '{"a":"","ip":null}\n{"a":"x","ip":"::1"}\n');
  assertEquals(rows[0].ip, "", "input rows are not modified");
});
