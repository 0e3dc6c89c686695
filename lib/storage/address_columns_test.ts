import { assertEquals } from "../testing.ts";
import { AddressColumns, emptyAddressesAsNull } from "./address_columns.ts";

Deno.test('emptyAddressesAsNull: only "" in address columns, rows copied only when changed', () => {
  const rows = [{ ip: "", path: "" }, { ip: "::1", path: "/" }];
  const out = emptyAddressesAsNull(rows, new Set(["ip"]));
  assertEquals(out, [{ ip: null, path: "" }, { ip: "::1", path: "/" }]);
  assertEquals(rows[0].ip, "", "input not modified");
  assertEquals(out[1] === rows[1], true);
  assertEquals(emptyAddressesAsNull(rows, new Set()) === rows, true);
});

Deno.test("AddressColumns: one lookup per table; a failed lookup is retried next time", async () => {
  let calls = 0;
  let fail = true;
  const query = (<T>(_sql: string, params?: Record<string, unknown>) => {
    calls++;
    if (params?.t === "bad" && fail) return Promise.reject(new Error("down"));
    return Promise.resolve([{ name: "src_ip" }] as T[]);
  }) as ConstructorParameters<typeof AddressColumns>[0];
  const cols = new AddressColumns(query, "db");
  assertEquals([...await cols.of("http_logs")], ["src_ip"]);
  await cols.of("http_logs");
  assertEquals(calls, 1);
  let failed = false;
  await cols.of("bad").catch(() => (failed = true));
  assertEquals(failed, true);
  fail = false;
  assertEquals([...await cols.of("bad")], ["src_ip"]);
  assertEquals(calls, 3);
});
