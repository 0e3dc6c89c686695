import { assertEquals, assertThrows } from "../testing.ts";
import { StorageError } from "./errors.ts";
import { exceptionBody, insertSettings, parseInsertHead } from "./http_protocol.ts";
import { presentedToken, sameToken } from "./http_endpoint.ts";

Deno.test("parseInsertHead: table, optional columns, format (TSV alias)", () => {
  assertEquals(parseInsertHead("INSERT INTO http_logs FORMAT JSONEachRow"), {
    table: "http_logs",
    columns: undefined,
    format: "JSONEachRow",
  });
  assertEquals(parseInsertHead("insert into db.t (a, `b`) format TSV\n"), {
    table: "db.t",
    columns: ["a", "b"],
    format: "TabSeparated",
  });
  assertEquals(parseInsertHead("INSERT INTO t VALUES (1)"), undefined);
  assertEquals(parseInsertHead("SELECT 1 FORMAT JSONEachRow"), undefined);
  assertThrows(() => parseInsertHead("INSERT INTO t FORMAT Native"), StorageError, "Native");
});

Deno.test("exceptionBody: ClickHouse's shape that client-web parses", () => {
  assertEquals(
    exceptionBody(516, "no", "AUTHENTICATION_FAILED"),
    "Code: 516. DB::Exception: no (AUTHENTICATION_FAILED)\n",
  );
  assertEquals(
    exceptionBody(47, "query failed: Code: 47. DB::Exception: x (UNKNOWN_IDENTIFIER)"),
    "Code: 47. DB::Exception: x (UNKNOWN_IDENTIFIER)\n",
  );
});

Deno.test("presentedToken: X-ClickHouse-Key, Bearer, Basic password; none otherwise", () => {
  assertEquals(presentedToken(new Headers({ "X-ClickHouse-Key": "k1" })), "k1");
  assertEquals(presentedToken(new Headers({ Authorization: "Bearer k2" })), "k2");
  assertEquals(
    presentedToken(new Headers({ Authorization: `Basic ${btoa("default:k:3")}` })),
    "k:3",
  );
  assertEquals(presentedToken(new Headers({ Authorization: "Basic !!!" })), undefined);
  assertEquals(presentedToken(new Headers()), undefined);
});

Deno.test("sameToken compares whole values", () => {
  assertEquals(sameToken("abc", "abc"), true);
  assertEquals(sameToken("abc", "abd"), false);
  assertEquals(sameToken("abc", "abcd"), false);
  assertEquals(sameToken("", "x"), false);
});

Deno.test("insertSettings: only whitelisted input-format settings with plain values", () => {
  const q = new URLSearchParams(
    "input_format_json_empty_as_default=1&max_memory_usage=1&date_time_input_format=best_effort" +
      "&input_format_null_as_default=1%27%3B",
  );
  assertEquals(insertSettings(q), {
    input_format_json_empty_as_default: "1",
    date_time_input_format: "best_effort",
  });
  assertEquals(insertSettings(new URLSearchParams("")), undefined);
});
