import { assert, assertEquals } from "../testing.ts";
import {
  codecOf,
  type ColumnInfo,
  encodeNative,
  ipv4MappedColumn,
  NativeEncoder,
  planOf,
  utcMicrosColumn,
} from "./native_format.ts";

const col = (name: string, type: string, default_expression = ""): ColumnInfo => ({
  name,
  type,
  default_kind: default_expression ? "DEFAULT" : "",
  default_expression,
});

Deno.test("codecOf: encoders for the platform's column types, none for the rest", () => {
  assertEquals(codecOf(col("a", "LowCardinality(String)"))?.kind, "string");
  assertEquals(codecOf(col("a", "Array(LowCardinality(String))"))?.kind, "string_array");
  assertEquals(codecOf(col("a", "UInt16")), {
    kind: "int",
    type: "UInt16",
    bytes: 2,
    signed: false,
    min: 0,
    max: 65535,
  });
  assertEquals(codecOf(col("a", "Int64"))?.kind, "int");
  assertEquals(codecOf(col("a", "DateTime64(6, 'UTC')")), {
    kind: "datetime64",
    type: "DateTime64(6, 'UTC')",
    micros: true,
  });
  assertEquals(codecOf(col("a", "IPv6"))?.kind, "address");
  assertEquals(codecOf(col("a", "IPv6", "toIPv6('::')"))?.kind, "address");
  // "" must store this column's own default, which "::" is not.
  assertEquals(codecOf(col("a", "IPv6", "toIPv6('::1')"))?.kind, "text_only");
  assertEquals(codecOf(col("a", "UUID", "generateUUIDv4()"))?.kind, "text_only");
  for (const t of ["Map(String, Float64)", "Nullable(Float64)", "Float32", "Decimal(10, 2)"]) {
    assertEquals(codecOf(col("a", t)), undefined, t);
  }
  assertEquals(
    codecOf({ name: "m", type: "String", default_kind: "MATERIALIZED", default_expression: "x" }),
    undefined,
  );
});

Deno.test("encodeNative: the engine's own Native bytes for a small block", () => {
  // Bytes of `SELECT toUInt16(7) AS a, 'xy' AS s, ['p','q'] AS arr FORMAT Native` from chDB,
  // with the block header (3 columns, 1 row).
  const plan = planOf([col("a", "UInt16"), col("s", "String"), col("arr", "Array(String)")]);
  const bytes = encodeNative([{ a: 7, s: "xy", arr: ["p", "q"] }], ["a", "s", "arr"], plan);
  const hex = (s: string) => s.split(" ").map((h) => parseInt(h, 16));
  const text = (s: string) => [s.length, ...new TextEncoder().encode(s)];
  assertEquals(Array.from(bytes!), [
    3,
    1,
    ...text("a"),
    ...text("UInt16"),
    ...hex("07 00"),
    ...text("s"),
    ...text("String"),
    ...text("xy"),
    ...text("arr"),
    ...text("Array(String)"),
    ...hex("02 00 00 00 00 00 00 00"),
    ...text("p"),
    ...text("q"),
  ]);
});

Deno.test("encodeNative: UTF-8 lengths, 64-bit halves, booleans, address defaults", () => {
  const plan = planOf([
    col("s", "String"),
    col("n", "Int64"),
    col("b", "UInt8"),
    col("ip", "IPv6"),
  ]);
  const bytes = encodeNative([{ s: "é€", n: -2, b: true, ip: "" }], ["s", "n", "b", "ip"], plan)!;
  const find = (needle: number[]) => {
    outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
      for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
      return true;
    }
    return false;
  };
  assert(find([5, 0xc3, 0xa9, 0xe2, 0x82, 0xac]), "é€ is 5 UTF-8 bytes behind its length");
  assert(find([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), "-2 as Int64 LE");
  assert(find([...new TextEncoder().encode("UInt8"), 1]), "true as 1");
  assert(
    find([...new TextEncoder().encode("IPv6"), ...new Array(16).fill(0)]),
    '"" in an address column as :: (its default), binary',
  );
  // A column with an address in IPv6 notation goes as text, "" as "::".
  const text = encodeNative([{ ip: "2001:db8::1" }, { ip: "" }], ["ip"], plan)!;
  assert(new TextDecoder().decode(text).endsWith("String\x0b2001:db8::1\x02::"));
});

Deno.test("encodeNative: LowCardinality, IPv6 and DateTime64 in the engine's own Native bytes", () => {
  // Bytes of chDB's `SELECT … FORMAT Native` for the same values (one block per query).
  const hex = (s: string) => s.split(" ").map((h) => parseInt(h, 16));
  const text = (s: string) => [s.length, ...new TextEncoder().encode(s)];
  const u64 = (n: number) => [n, 0, 0, 0, 0, 0, 0, 0];
  const one = (name: string, type: string, values: unknown[]) =>
    Array.from(
      encodeNative(values.map((v) => ({ [name]: v })), [name], planOf([col(name, type)]))!,
    );
  // SELECT toLowCardinality(x) AS s FROM (SELECT arrayJoin(['xy','','ab','xy']) AS x)
  assertEquals(one("s", "LowCardinality(String)", ["xy", "", "ab", "xy"]), [
    1,
    4,
    ...text("s"),
    ...text("LowCardinality(String)"),
    ...u64(1),
    ...hex("00 06 00 00 00 00 00 00"),
    ...u64(3),
    ...text(""),
    ...text("xy"),
    ...text("ab"),
    ...u64(4),
    ...hex("01 00 02 01"),
  ]);
  // SELECT CAST(['a','b'], 'Array(LowCardinality(String))') AS h
  assertEquals(one("h", "Array(LowCardinality(String))", [["a", "b"]]), [
    1,
    1,
    ...text("h"),
    ...text("Array(LowCardinality(String))"),
    ...u64(1),
    ...u64(2),
    ...hex("00 06 00 00 00 00 00 00"),
    ...u64(3),
    ...text(""),
    ...text("a"),
    ...text("b"),
    ...u64(2),
    ...hex("01 02"),
  ]);
  // SELECT toIPv6('10.0.0.1') AS a
  assertEquals(one("a", "IPv6", ["10.0.0.1"]), [
    1,
    1,
    ...text("a"),
    ...text("IPv6"),
    ...hex("00 00 00 00 00 00 00 00 00 00 ff ff 0a 00 00 01"),
  ]);
  // SELECT toDateTime64('2026-01-01 00:00:00.5', 6, 'UTC') AS t
  assertEquals(one("t", "DateTime64(6, 'UTC')", ["2026-01-01 00:00:00.5"]), [
    1,
    1,
    ...text("t"),
    ...text("DateTime64(6, 'UTC')"),
    ...hex("20 e1 27 46 48 47 06 00"),
  ]);
  // Rows repeating the previous row's array reuse its indexes; a changed row does not.
  const h = "Array(LowCardinality(String))";
  assertEquals(
    one("h", h, [["a", "b"], ["a", "b"], ["b"], [], ["b", "c"]]).slice(-15),
    [...u64(7), ...hex("01 02 01 02 02 02 03")],
  );
  // More than 255 distinct values: 16-bit indexes.
  const many = one("s", "LowCardinality(String)", Array.from({ length: 300 }, (_, i) => `v${i}`));
  assertEquals(many.slice(36, 44), hex("01 06 00 00 00 00 00 00"));
});

Deno.test("ipv4MappedColumn / utcMicrosColumn: only the exact plain forms", () => {
  assertEquals(Array.from(ipv4MappedColumn(["1.2.3.4"])!.subarray(10)), [255, 255, 1, 2, 3, 4]);
  assertEquals(ipv4MappedColumn(["", "0.0.0.0", "255.255.255.255"])?.length, 48);
  // Repeats of the previous row, "" between equal addresses.
  const mapped = (
    a: string,
  ) => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...a.split(".").map(Number)];
  const none = new Array(16).fill(0);
  assertEquals(
    Array.from(ipv4MappedColumn(["1.2.3.4", "1.2.3.4", "", "", "1.2.3.4", "5.6.7.8"])!),
    [
      ...mapped("1.2.3.4"),
      ...mapped("1.2.3.4"),
      ...none,
      ...none,
      ...mapped("1.2.3.4"),
      ...mapped("5.6.7.8"),
    ],
  );
  for (const bad of ["01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "::1", "a.b.c.d"]) {
    assertEquals(ipv4MappedColumn(["1.1.1.1", bad]), undefined, bad);
  }
  assertEquals(
    Array.from(utcMicrosColumn(["1970-01-01 00:00:00", "2026-01-01 10:00:00.000001"])!),
    [0, Date.UTC(2026, 0, 1, 10) * 1000 + 1],
  );
  // Rows of one hour share its start; a row of another hour recomputes it.
  assertEquals(
    Array.from(
      utcMicrosColumn([
        "2026-03-01 10:00:01",
        "2026-03-01 10:59:59.25",
        "2026-03-01 11:00:00",
        "2026-03-01 10:00:00.000007",
      ])!,
    ),
    [
      Date.UTC(2026, 2, 1, 10, 0, 1) * 1000,
      Date.UTC(2026, 2, 1, 10, 59, 59) * 1000 + 250_000,
      Date.UTC(2026, 2, 1, 11) * 1000,
      Date.UTC(2026, 2, 1, 10) * 1000 + 7,
    ],
  );
  // A bad row after good rows of the same hour still rejects the column.
  assertEquals(utcMicrosColumn(["2026-03-01 10:00:01", "2026-03-01 10:0x:01"]), undefined);
  assertEquals(
    utcMicrosColumn(["2024-02-29 23:59:59.5"])![0],
    Date.UTC(2024, 1, 29, 23, 59, 59, 500) * 1000,
  );
  for (
    const bad of [
      "2025-02-29 00:00:00",
      "2026-13-01 00:00:00",
      "2026-01-01 24:00:00",
      "2026-01-01 00:00:60",
      "1969-12-31 23:59:59",
      "2026-01-01 00:00:00.1234567",
      "2026-01-01 00:00:00.",
      "2026-01-01T00:00:00",
      "2026-1-01 00:00:00",
      "20x6-01-01 00:00:00",
      "2026-01-01 00:00:0x",
      "2026-01-01 00:00:00.12a",
      "2026-01-01 00:00:00 ",
    ]
  ) {
    assertEquals(utcMicrosColumn([bad]), undefined, bad);
  }
});

Deno.test("encodeNative: anything without an exact binary form → undefined (JSON path)", () => {
  const plan = planOf([
    col("s", "String"),
    col("u", "UInt8"),
    col("f", "Float64"),
    col("a", "Array(String)"),
    col("m", "Map(String, Float64)"),
    col("t3", "DateTime64(3, 'UTC')"),
    col("t6", "DateTime64(6, 'UTC')"),
    col("id", "UUID", "generateUUIDv4()"),
  ]);
  const cases: [string, Record<string, unknown>][] = [
    ["null", { s: null }],
    ["undefined", { s: undefined }],
    ["number in a String column", { s: 1 }],
    ["out of range", { u: 256 }],
    ["negative unsigned", { u: -1 }],
    ["fraction in an integer column", { u: 1.5 }],
    ["bigint", { u: 1n }],
    ["string in an integer column", { u: "1" }],
    ["NaN", { f: NaN }],
    ["Infinity", { f: Infinity }],
    ["non-string array element", { a: ["x", 1] }],
    ["lone surrogate", { s: "a\ud800b" }],
    ["column without an encoder", { m: {} }],
    ["unknown column", { nope: "x" }],
    ["µs in a DateTime64(3) column", { t3: 1 }],
    ["a bare number as DateTime64 text", { t6: "1735689600" }],
    ["an ISO 'T' timestamp", { t6: "2026-01-01T00:00:00Z" }],
    ['"" in a UUID column', { id: "" }],
  ];
  for (const [what, row] of cases) {
    assertEquals(encodeNative([row], Object.keys(row), plan), undefined, what);
  }
  // The plain layouts do go as Native.
  assert(
    encodeNative([{ t6: "2026-01-01 00:00:00.5", t3: "2026-01-01 00:00:00" }], ["t6", "t3"], plan),
  );
  assert(encodeNative([{ t6: 1, id: "61f0c404-5cb3-11e7-907b-a6006ad3dba0" }], ["t6", "id"], plan));
  // Rows whose keys are not exactly the columns, in order, fall back too.
  assertEquals(encodeNative([{ s: "a", u: 1 }, { u: 1, s: "a" }], ["s", "u"], plan), undefined);
  assertEquals(encodeNative([{ s: "a", u: 1 }, { s: "a" }], ["s", "u"], plan), undefined);
  assertEquals(encodeNative([{ s: "a" }, { s: "a", u: 1 }], ["s"], plan), undefined);
  // An inherited enumerable key is no value of the row (JSON leaves it out).
  const inherited = Object.assign(Object.create({ u: 1 }), { s: "a" });
  assertEquals(encodeNative([{ s: "b", u: 2 }, inherited], ["s", "u"], plan), undefined);
  // A prototype without enumerable keys is fine.
  class Row {
    constructor(readonly s: string) {}
  }
  assert(encodeNative([new Row("a"), { s: "b" }, Object.assign(Object.create(null), { s: "c" })], [
    "s",
  ], plan));
  // A later row that changes type also falls back (String and LowCardinality columns are
  // checked in the row pass, the others column by column).
  assertEquals(encodeNative([{ s: "a" }, { s: 2 }], ["s"], plan), undefined);
  const lc = planOf([col("l", "LowCardinality(String)")]);
  assertEquals(encodeNative([{ l: "a" }, { l: "a" }, { l: null }], ["l"], lc), undefined);
  assertEquals(encodeNative([{ s: "a" }, { s: "a" }, { s: "a\udc00" }], ["s"], plan), undefined);
  assertEquals(encodeNative([], ["s"], plan), undefined);
});

Deno.test("encodeNative: String values repeated, non-ASCII and long are written like single ones", () => {
  const plan = planOf([col("s", "String")]);
  const long = "x".repeat(200); // VarUInt length of two bytes
  const values = ["a", "a", "", "", "é€", "é€", "b", long, long, "a"];
  const bytes = encodeNative(values.map((s) => ({ s })), ["s"], plan)!;
  const text = (s: string) => {
    const b = new TextEncoder().encode(s);
    return b.length < 0x80 ? [b.length, ...b] : [(b.length & 0x7f) | 0x80, b.length >> 7, ...b];
  };
  assertEquals(Array.from(bytes), [
    1,
    values.length,
    ...text("s"),
    ...text("String"),
    ...values.flatMap(text),
  ]);
});

Deno.test("NativeEncoder: a reused encoder gives each batch the bytes of a fresh one", () => {
  const plan = planOf([
    col("l", "LowCardinality(String)"),
    col("s", "String"),
    col("u", "UInt16"),
    col("ip", "IPv6"),
    col("h", "Array(LowCardinality(String))"),
    col("t", "DateTime64(6, 'UTC')"),
  ]);
  const columns = ["l", "s", "u", "ip", "h", "t"];
  const batch = (n: number, salt: string) =>
    Array.from({ length: n }, (_, i) => ({
      l: `${salt}${i % 3}`,
      s: i % 2 ? "same" : `${salt}-${i}`,
      u: i,
      // One batch has an address in IPv6 notation (the column goes as text), one a
      // timestamp with 7 fraction digits (likewise).
      ip: salt === "b" && i === 3 ? "::1" : `10.0.0.${i % 256}`,
      h: i % 3 ? ["host", salt] : [salt],
      t: `2026-01-01 0${i % 10}:00:00.${salt === "c" ? "1234567" : i % 7}`,
    }));
  const encoder = new NativeEncoder();
  // Larger, then smaller (reused arrays longer than the batch), then larger again.
  for (const [n, salt] of [[300, "a"], [5, "b"], [1, "c"], [400, "d"]] as const) {
    const rows = batch(n, salt);
    assertEquals(
      Array.from(encoder.encode(rows, columns, plan)!),
      Array.from(encodeNative(rows, columns, plan)!),
      `${n} rows`,
    );
  }
  // A batch refused half-way leaves nothing behind for the next one.
  assertEquals(encoder.encode([...batch(3, "e"), { l: 1 }], columns, plan), undefined);
  const rows = batch(2, "f");
  assertEquals(
    Array.from(encoder.encode(rows, columns, plan)!),
    Array.from(encodeNative(rows, columns, plan)!),
  );
});

Deno.test("encodeNative: a later address or timestamp without a binary form sends its column as text", () => {
  const plan = planOf([col("ip", "IPv6"), col("t", "DateTime64(6, 'UTC')")]);
  const rows = [
    { ip: "10.0.0.1", t: "2026-01-01 00:00:00.5" },
    { ip: "", t: "2026-01-01 00:00:00.25" },
    { ip: "2001:db8::1", t: "2026-01-01 00:00:01" },
    { ip: "10.0.0.1", t: "2026-01-01 00:00:01.1234567" }, // 7 digits: the engine's parser
  ];
  const bytes = new TextDecoder().decode(encodeNative(rows, ["ip", "t"], plan)!);
  assert(bytes.includes("\x02ip\x06String\x0810.0.0.1\x02::\x0b2001:db8::1\x0810.0.0.1"), bytes);
  assert(
    bytes.endsWith(
      "\x01t\x06String\x152026-01-01 00:00:00.5\x162026-01-01 00:00:00.25" +
        "\x132026-01-01 00:00:01\x1b2026-01-01 00:00:01.1234567",
    ),
    bytes,
  );
  // Ticks read from the same second reuse its start, and only the fraction is parsed.
  assertEquals(
    Array.from(
      utcMicrosColumn([
        "2026-01-01 10:00:00.5",
        "2026-01-01 10:00:00.000007",
        "2026-01-01 10:00:00",
        "2026-01-01 10:00:0x.5",
      ]) ?? [],
    ),
    [],
  );
  const base = Date.UTC(2026, 0, 1, 10) * 1000;
  assertEquals(
    Array.from(utcMicrosColumn(["2026-01-01 10:00:00.5", "2026-01-01 10:00:00.000007"])!),
    [base + 500_000, base + 7],
  );
  assertEquals(utcMicrosColumn(["2026-01-01 10:00:00.5", "2026-01-01 10:00:00.x"]), undefined);
  // An array element that is not a string, in a later row, falls back to JSON.
  const h = planOf([col("h", "Array(LowCardinality(String))")]);
  assertEquals(encodeNative([{ h: ["a"] }, { h: ["a", 1] }], ["h"], h), undefined);
  assertEquals(encodeNative([{ h: ["a"] }, { h: "a" }], ["h"], h), undefined);
});

Deno.test("NativeEncoder: arrays of a batch over 2^20 rows are not kept for the next one", () => {
  const plan = planOf([col("l", "LowCardinality(String)"), col("u", "UInt8")]);
  const encoder = new NativeEncoder();
  encoder.encode([{ l: "a", u: 1 }, { l: "b", u: 2 }], ["l", "u"], plan);
  const small = encoder.keptElements;
  assert(small > 0 && small < 100, `${small}`);
  const big = Array.from({ length: (1 << 20) + 1 }, (_, i) => ({ l: "x", u: i & 1 }));
  assert(encoder.encode(big, ["l", "u"], plan));
  assertEquals(encoder.keptElements, 0);
});
