import { assertEquals } from "../testing.ts";
import { bindHttpParams, isCompositeType, placeholderTypes, unescapeText } from "./params.ts";

Deno.test("placeholderTypes finds names and types, nested parentheses included", () => {
  const t = placeholderTypes("SELECT {a:String}, { b : Array(Tuple(String, UInt8)) }, {a:UInt8}");
  assertEquals([...t.entries()], [["a", "String"], ["b", "Array(Tuple(String, UInt8))"]]);
});

Deno.test("unescapeText reverses ClickHouse escaping (client-web's formatQueryParams)", () => {
  assertEquals(unescapeText("a\\tb\\nc\\\\d\\'e"), "a\tb\nc\\d'e");
  assertEquals(unescapeText("plain"), "plain");
  assertEquals(unescapeText("\\x"), "x");
  assertEquals(unescapeText("trailing\\"), "trailing\\");
});

Deno.test("isCompositeType", () => {
  assertEquals(isCompositeType("Array(String)"), true);
  assertEquals(isCompositeType("Nullable(Tuple(UInt8))"), true);
  assertEquals(isCompositeType("Map(String, UInt8)"), true);
  assertEquals(isCompositeType("LowCardinality(String)"), false);
  assertEquals(isCompositeType("IPv6"), false);
});

Deno.test("bindHttpParams: scalars unescaped, NULL marker, composites cast from String", () => {
  const r = bindHttpParams(
    "SELECT {s:String}, {n:Nullable(UInt8)}, {xs:Array(String)} WHERE has({xs:Array(String)}, 'a')",
    { s: "it\\'s\\n", n: "\\N", xs: "['a','b\\'c']" },
  );
  assertEquals(r.params, { s: "it's\n", n: null, xs: "['a','b\\'c']" });
  assertEquals(
    r.sql,
    "SELECT {s:String}, {n:Nullable(UInt8)}, CAST({xs:String} AS Array(String)) " +
      "WHERE has(CAST({xs:String} AS Array(String)), 'a')",
  );
});
