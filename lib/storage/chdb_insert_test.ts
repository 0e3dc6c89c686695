/**
 * The embedded insert path stores exactly what the JSON path stored: the same rows go through
 * `insert()` (Native block) into each raw table and through the previous encoding
 * (JSONCompactEachRow, sent raw) into a copy of it, and the two tables must read back equal.
 */
import { assert, assertEquals, assertRejects } from "../testing.ts";
import { StorageError } from "./errors.ts";
import type { ColumnInfo } from "./native_format.ts";
import { openTestStorage } from "./testing.ts";
import { toJsonCompactEachRow } from "./types.ts";

const HOSTILE = [
  "'); DROP TABLE http_logs; --",
  "back\\slash \\N \\t",
  "tab\there\nnew line\r\0nul",
  "quote ' double \" backtick `",
  "{p:String} $1 %s",
  "é€ 日本 😀",
  "",
  "x".repeat(200_000), // a length needing a 3-byte VarUInt
];

/** A value of `type` for row `i`, covering bounds and hostile text. */
function valueOf(
  name: string,
  type: string,
  i: number,
  tsAsMicros: boolean,
  ipv4Only: boolean,
): unknown {
  // Flags are booleans in the producers' rows.
  if (name === "has_cookie" || name === "is_update") return i % 2 === 0;
  const inner = type.replace(/^LowCardinality\((.*)\)$/, "$1");
  if (inner === "String") return HOSTILE[i % HOSTILE.length];
  if (/^Array\(/.test(inner)) return i % 3 === 0 ? [] : HOSTILE.slice(0, 1 + (i % HOSTILE.length));
  if (inner.startsWith("DateTime64(6")) {
    const us = Date.UTC(2026, 0, 1) * 1000 + i * 1_234_567 + 1;
    if (tsAsMicros) return us;
    const d = new Date(Math.floor(us / 1000)).toISOString().replace("T", " ").replace("Z", "");
    // 6, 3 or no fraction digits
    return (d + String(us % 1000).padStart(3, "0")).slice(0, [26, 23, 19][i % 3]);
  }
  if (inner === "IPv6") {
    // All plain IPv4 (binary IPv6 column) or mixed notations (the column goes as text).
    if (ipv4Only) return ["10.0.0.1", "", "0.0.0.0", "192.0.2.7", "255.255.255.255"][i % 5];
    return ["10.0.0.1", "", "2001:db8::1", "::ffff:192.0.2.7", "255.255.255.255"][i % 5];
  }
  const bounds: Record<string, number[]> = {
    UInt8: [0, 255],
    UInt16: [0, 65535],
    UInt32: [0, 4294967295],
    Int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -1, 0],
  };
  const b = bounds[inner];
  if (b) return b[i % b.length];
  throw new Error(`no test value for ${type}`);
}

async function columnsOf(
  storage: Awaited<ReturnType<typeof openTestStorage>>,
  table: string,
): Promise<ColumnInfo[]> {
  return await storage.query<ColumnInfo>(
    "SELECT name, type, default_kind, default_expression FROM system.columns " +
      "WHERE database = {db:String} AND table = {t:String}",
    { db: storage.database, t: table },
  );
}

for (const table of ["http_logs", "tls_handshakes"]) {
  Deno.test(`embedded insert into ${table}: Native stores exactly what JSON stored`, async () => {
    const storage = await openTestStorage();
    try {
      await storage.command(`CREATE TABLE ref AS ${table}`);
      const columns = await columnsOf(storage, table);
      const addresses = new Set(columns.filter((c) => c.type === "IPv6").map((c) => c.name));
      const before = { ...storage.insertStats };
      for (const [tsAsMicros, ipv4Only] of [[false, false], [true, false], [false, true]]) {
        // Some rows leave the defaulted columns out, like producers that do not know them.
        for (const subset of [columns, columns.filter((c) => c.default_kind === "")]) {
          const rows = Array.from(
            { length: 40 },
            (_, i) =>
              Object.fromEntries(
                subset.map((c) => [c.name, valueOf(c.name, c.type, i, tsAsMicros, ipv4Only)]),
              ),
          );
          await storage.insert(table, rows);
          const json = toJsonCompactEachRow(rows, addresses)!;
          await storage.insertRaw(
            `${storage.database}.ref`,
            new TextEncoder().encode(json.text),
            "JSONCompactEachRow",
            json.columns,
          );
        }
      }
      assertEquals(storage.insertStats.native - before.native, 6, "every batch went as Native");
      assertEquals(storage.insertStats.json, before.json);
      const read = (t: string) => storage.query(`SELECT * FROM ${t} ORDER BY ALL`);
      const [got, want] = [await read(table), await read("ref")];
      assertEquals(got.length, 240);
      // Compared as text: a failure prints two short lines, not 240 rows of 200 KB strings.
      const diff = got.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(want[i]));
      if (diff >= 0) {
        const show = (r: unknown) => JSON.stringify(r).slice(0, 800);
        throw new Error(
          `${table} row ${diff} differs from the JSON-encoded copy:\n` +
            `native: ${show(got[diff])}\njson:   ${show(want[diff])}`,
        );
      }
    } finally {
      await storage.close();
    }
  });
}

Deno.test("embedded insert: the hourly aggregates see Native rows like JSON rows", async () => {
  const storage = await openTestStorage();
  try {
    const row = (i: number) => ({
      ts: `2026-01-01 10:${String(i).padStart(2, "0")}:00.000000`,
      src_ip: "10.0.0.9",
      dst_port: 443,
      method: i % 2 ? "POST" : "GET",
      path: "/login",
      protocol: "HTTP/2.0",
      status: 200 + i,
      user_agent: "curl/8.5.0",
      client_ip: "",
      match_status: "no_tls",
    });
    await storage.insert("http_logs", [row(1), row(2), row(3)]);
    const [agg] = await storage.query<{ requests: number; login_post_concentration: number }>(
      "SELECT requests, login_post_concentration FROM view_ai_features_1h",
    );
    assertEquals(agg.requests, 3);
    assertEquals(agg.login_post_concentration, 2 / 3);
    assert(storage.insertStats.native > 0);
  } finally {
    await storage.close();
  }
});

Deno.test("embedded insert: batches the Native block cannot carry still go as JSON", async () => {
  const storage = await openTestStorage();
  try {
    const before = storage.insertStats.json;
    // Map and Nullable columns (ml_all_scores) and a null value: JSON path, same result.
    await storage.insert("http_logs", [{ ts: "2026-01-01 00:00:00", path: null, method: "GET" }]);
    const [r] = await storage.query<{ path: string }>("SELECT path FROM http_logs");
    assertEquals(r.path, "");
    assertEquals(storage.insertStats.json, before + 1);
    // Rows with an unknown key: still the engine's error, naming the key.
    const err = await assertRejects(
      () => storage.insert("http_logs", [{ ts: "2026-01-01 00:00:00", no_such_column: 1 }]),
      StorageError,
    );
    assert(err.message.includes("no_such_column"), err.message);
    assertEquals(err.code, "SQL");
  } finally {
    await storage.close();
  }
});

Deno.test("embedded insert: concurrent batches share the encoder without mixing rows", async () => {
  const storage = await openTestStorage();
  try {
    const batch = (b: number) =>
      Array.from({ length: 500 }, (_, i) => ({
        ts: `2026-01-01 0${b}:00:00.${String(i).padStart(6, "0")}`,
        src_ip: `10.0.${b}.1`,
        path: `/batch/${b}/${i}`,
        status: 200 + b,
      }));
    await Promise.all([1, 2, 3, 4].map((b) => storage.insert("http_logs", batch(b))));
    const rows = await storage.query<{ b: string; n: number; ok: number }>(
      "SELECT extract(path, '^/batch/(\\\\d)/') AS b, count() AS n, " +
        "countIf(status = 200 + toUInt16(b) AND src_ip = toIPv6(concat('10.0.', b, '.1'))) AS ok " +
        "FROM http_logs GROUP BY b ORDER BY b",
    );
    assertEquals(rows, [1, 2, 3, 4].map((b) => ({ b: String(b), n: 500, ok: 500 })));
  } finally {
    await storage.close();
  }
});

Deno.test("embedded insert: a spool file reused for a shorter batch holds only that batch", async () => {
  const storage = await openTestStorage();
  try {
    const batch = (b: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        ts: `2026-01-01 0${b}:00:00.${String(i).padStart(6, "0")}`,
        src_ip: "10.0.0.1",
        path: `/b${b}/${"x".repeat(b === 1 ? 500 : 1)}`,
      }));
    // One after the other: the second batch overwrites the first one's (longer) file.
    for (const [b, n] of [[1, 2000], [2, 3], [3, 1000], [4, 1]]) {
      await storage.insert("http_logs", batch(b, n));
    }
    const rows = await storage.query<{ h: number; n: number }>(
      "SELECT toHour(ts) AS h, count() AS n FROM http_logs GROUP BY h ORDER BY h",
    );
    assertEquals(rows, [{ h: 1, n: 2000 }, { h: 2, n: 3 }, { h: 3, n: 1000 }, { h: 4, n: 1 }]);
  } finally {
    await storage.close();
  }
});
