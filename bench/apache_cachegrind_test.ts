/** The pure parts of bench/apache_cachegrind.ts: cachegrind's summary and the difference. */
import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { CachegrindError, parseCachegrindSummary, perRequest } from "./apache_cachegrind.ts";

const OUT = (ir: number, i1: number, d1r: number, d1w: number) =>
  `desc: I1 cache: 32768 B, 64 B, 8-way associative
cmd: /usr/sbin/apache2 -X -f /tmp/x/httpd.conf
events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw
fl=???
summary: ${ir} ${i1} 5 100 ${d1r} 3 50 ${d1w} 2
`;

Deno.test("parseCachegrindSummary maps the summary to the event names", () => {
  const m = parseCachegrindSummary(OUT(1000, 20, 7, 4));
  assertEquals(m.get("Ir"), 1000);
  assertEquals(m.get("I1mr"), 20);
  assertEquals(m.get("D1mr"), 7);
  assertEquals(m.get("D1mw"), 4);
  assertEquals(m.get("DLmw"), 2);
});

Deno.test("perRequest divides the difference of two runs by the extra requests", () => {
  const small = parseCachegrindSummary(OUT(1_000_000, 5_000, 900, 400));
  const large = parseCachegrindSummary(OUT(1_600_000, 8_000, 1_500, 700));
  assertEquals(perRequest(small, large, 300), {
    instructions: 2000,
    l1iMisses: 10,
    l1dReadMisses: 2,
    l1dWriteMisses: 1,
  });
});

Deno.test("a cachegrind file without a summary, or with fewer values, is refused", () => {
  assertThrows(() => parseCachegrindSummary("events: Ir I1mr\n"), CachegrindError);
  assertThrows(() => parseCachegrindSummary("events: Ir I1mr\nsummary: 5\n"), CachegrindError);
});
