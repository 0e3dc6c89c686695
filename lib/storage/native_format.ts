/**
 * Rows → ClickHouse `Native` format (columnar, binary) for the embedded insert path. The engine
 * reads Native with almost no parsing (no escapes, no number or date text): about half the
 * engine CPU-seconds per http_logs row of JSONCompactEachRow (bench/results/storage.md).
 *
 * Exactness first: a batch is encoded only when every value has one obvious binary form that
 * the engine stores exactly as the JSON path would. Anything else (null/undefined values,
 * bigint, non-finite or out-of-range numbers, objects, unknown columns, types without an
 * encoder) makes `encodeNative` return undefined and the caller sends JSON as before, so the
 * engine keeps producing the same values and the same errors (e.g. an unknown key).
 *
 * Columns go in the table's own type when the values have one exact binary form, so the
 * engine has nothing to convert: LowCardinality(String) and Array(LowCardinality(String)) as
 * dictionary + indexes, IPv6 as 16 bytes when every value of the batch's column is a plain
 * dotted IPv4 (or "" for the default `::`), DateTime64(6, 'UTC') as µs ticks when every value
 * is plain `YYYY-MM-DD hh:mm:ss[.ffffff]` text. Other texts (IPv6 notation, other date
 * layouts…) send that column as `String` and the engine converts it with its text parser, as
 * it does for JSON strings.
 */

/** One column of a table as `system.columns` describes it. */
export interface ColumnInfo {
  name: string;
  type: string;
  /** `DEFAULT`, `MATERIALIZED`, `ALIAS`, `EPHEMERAL` or "" (system.columns default_kind). */
  default_kind: string;
  default_expression: string;
}

/** How values of one column are written; derived once per table from its type. */
export type ColumnCodec =
  | { kind: "string"; lowCardinality: boolean }
  | { kind: "string_array"; lowCardinality: boolean }
  | { kind: "int"; type: string; bytes: 1 | 2 | 4 | 8; signed: boolean; min: number; max: number }
  | { kind: "float64" }
  | { kind: "datetime64"; type: string; micros: boolean }
  | { kind: "address"; ipv6: boolean }
  | { kind: "text_only" };

/** Per-table plan: column name → codec (columns without a codec are absent). */
export type ColumnPlan = ReadonlyMap<string, ColumnCodec>;

const INTS: Record<string, { bytes: 1 | 2 | 4 | 8; signed: boolean }> = {
  UInt8: { bytes: 1, signed: false },
  UInt16: { bytes: 2, signed: false },
  UInt32: { bytes: 4, signed: false },
  UInt64: { bytes: 8, signed: false },
  Int8: { bytes: 1, signed: true },
  Int16: { bytes: 2, signed: true },
  Int32: { bytes: 4, signed: true },
  Int64: { bytes: 8, signed: true },
};

/** Codec for one ClickHouse type, or undefined when the JSON path must carry it. */
export function codecOf(column: ColumnInfo): ColumnCodec | undefined {
  // Only columns a client may write; MATERIALIZED/ALIAS columns are refused by the engine,
  // and the JSON path keeps reporting that.
  if (column.default_kind !== "" && column.default_kind !== "DEFAULT") return undefined;
  const t = column.type;
  if (t === "String" || t === "LowCardinality(String)") {
    return { kind: "string", lowCardinality: t !== "String" };
  }
  if (t === "Array(String)" || t === "Array(LowCardinality(String))") {
    return { kind: "string_array", lowCardinality: t !== "Array(String)" };
  }
  const int = INTS[t];
  if (int) {
    const bits = int.bytes * 8;
    // 64-bit columns take JS safe integers only (exact in a double).
    const max = bits === 64
      ? Number.MAX_SAFE_INTEGER
      : (int.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1);
    const min = int.signed ? (bits === 64 ? Number.MIN_SAFE_INTEGER : -(2 ** (bits - 1))) : 0;
    return { kind: "int", type: t, ...int, min, max };
  }
  if (t === "Float64") return { kind: "float64" };
  const dt64 = /^DateTime64\((\d), '[A-Za-z0-9_/+-]+'\)$/.exec(t);
  if (dt64) return { kind: "datetime64", type: t, micros: dt64[1] === "6" };
  if (t === "IPv6" || t === "IPv4") {
    // "" stands for "no address" and must store the column default; "::"/"0.0.0.0" is that
    // default only when the column has none of its own (or the same one).
    const zero = t === "IPv6" ? "toIPv6('::')" : "toIPv4('0.0.0.0')";
    const d = column.default_expression;
    return d === "" || d === zero ? { kind: "address", ipv6: t === "IPv6" } : { kind: "text_only" };
  }
  if (/^(Date|Date32|DateTime|DateTime\('[A-Za-z0-9_/+-]+'\)|UUID)$/.test(t)) {
    return { kind: "text_only" };
  }
  return undefined;
}

/** The plan of a table from its `system.columns` rows. */
export function planOf(columns: readonly ColumnInfo[]): ColumnPlan {
  const plan = new Map<string, ColumnCodec>();
  for (const c of columns) {
    const codec = codecOf(c);
    if (codec) plan.set(c.name, codec);
  }
  return plan;
}

/** A LowCardinality block's dictionary: value → index, "" (the default) at 0. */
class Dictionary {
  readonly keys: string[] = [""];
  readonly #ids = new Map<string, number>([["", 0]]);

  id(v: string): number {
    let id = this.#ids.get(v);
    if (id === undefined) {
      id = this.keys.length;
      this.#ids.set(v, id);
      this.keys.push(v);
    }
    return id;
  }
}

/** The last String value a column wrote and where its bytes are (see Writer.stringValue). */
class StringTail {
  value: string | undefined = undefined;
  at = 0;
  len = 0;
}

/** A growable little-endian byte buffer with the writers Native needs. */
class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  static readonly #encoder = new TextEncoder();

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  varUInt(n: number): void {
    this.reserve(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /** VarUInt byte length + UTF-8 bytes (for names and types). */
  string(s: string): void {
    const bytes = Writer.#encoder.encode(s);
    this.varUInt(bytes.length);
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /**
   * A String column: per value VarUInt byte length + UTF-8 bytes. False when a value is not
   * well-formed UTF-16 (a lone surrogate: JSON would carry it differently).
   */
  stringColumn(values: readonly string[]): boolean {
    const tail = new StringTail();
    for (let i = 0; i < values.length; i++) if (!this.stringValue(values[i], tail)) return false;
    return true;
  }

  /**
   * Appends one String value (VarUInt byte length + UTF-8 bytes); false for a value that is
   * not well-formed UTF-16. A value equal to the previous one of `tail` (same column) copies
   * its bytes. ASCII is written by a JS loop: per value, that is cheaper than a native
   * encodeInto call (which needs a view per call) and than joining the column for one call
   * (measured: 2-4x fewer ns per value; the join also copies every value once more).
   */
  stringValue(v: string, tail: StringTail): boolean {
    const n = v.length;
    if (v === tail.value) {
      const len = tail.len;
      this.reserve(len);
      const buf = this.buf;
      const from = tail.at;
      const pos = this.pos;
      if (len <= 24) { for (let j = 0; j < len; j++) buf[pos + j] = buf[from + j]; }
      else buf.copyWithin(pos, from, from + len);
      tail.at = pos;
      this.pos = pos + len;
      return true;
    }
    this.reserve(5 + n);
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    let len = n; // ASCII: bytes = UTF-16 units
    while (len >= 0x80) {
      buf[pos++] = (len & 0x7f) | 0x80;
      len >>>= 7;
    }
    buf[pos++] = len;
    for (let j = 0; j < n; j++) {
      const ch = v.charCodeAt(j);
      if (ch > 0x7f) return this.#utf8Value(v, tail);
      buf[pos++] = ch;
    }
    this.pos = pos;
    tail.value = v;
    tail.at = start;
    tail.len = pos - start;
    return true;
  }

  /** Slow path of stringValue for a value with non-ASCII text (this.pos is where it starts). */
  #utf8Value(v: string, tail: StringTail): boolean {
    if (!v.isWellFormed()) return false;
    const start = this.pos;
    this.string(v);
    tail.value = v;
    tail.at = start;
    tail.len = this.pos - start;
    return true;
  }

  /** The LowCardinality block of a dictionary and the indexes into it. */
  lowCardinalityIndexes(keys: readonly string[], index: Uint32Array): boolean {
    const n = index.length;
    const width = keys.length <= 0x100 ? 1 : keys.length <= 0x10000 ? 2 : 4;
    this.reserve(16);
    this.int(LC_ADDITIONAL_KEYS | (width >> 1), 8, false); // 0: UInt8, 1: UInt16, 2: UInt32
    this.int(keys.length, 8, false);
    if (!this.stringColumn(keys)) return false;
    this.reserve(8 + width * n);
    this.int(n, 8, false);
    const p = this.pos;
    if (width === 1) this.buf.set(index, p); // Uint32 → Uint8 elementwise (ids < 256)
    else if (width === 2) {
      for (let r = 0; r < n; r++) this.view.setUint16(p + 2 * r, index[r], true);
    } else {
      for (let r = 0; r < n; r++) this.view.setUint32(p + 4 * r, index[r], true);
    }
    this.pos = p + width * n;
    return true;
  }

  /** Bytes as they are. */
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Fixed-width little-endian integer; the caller has reserved the space (per column). */
  int(n: number, bytes: 1 | 2 | 4 | 8, signed: boolean): void {
    const v = this.view;
    const p = this.pos;
    switch (bytes) {
      case 1:
        signed ? v.setInt8(p, n) : v.setUint8(p, n);
        break;
      case 2:
        signed ? v.setInt16(p, n, true) : v.setUint16(p, n, true);
        break;
      case 4:
        signed ? v.setInt32(p, n, true) : v.setUint32(p, n, true);
        break;
      default: {
        // Two 32-bit halves: exact for safe integers, negative ones included.
        const hi = Math.floor(n / 0x1_0000_0000);
        v.setUint32(p, n - hi * 0x1_0000_0000, true);
        v.setInt32(p + 4, hi, true);
      }
    }
    this.pos += bytes;
  }

  /** The caller has reserved the space (per column). */
  float64(n: number): void {
    this.view.setFloat64(this.pos, n, true);
    this.pos += 8;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** What one column of a batch holds (from its first row); decides its Native type. */
type Shape = "string" | "string_array" | "number" | "bool";

/** The shape of the column from its first value, if `codec` can carry that shape. */
function shapeOf(codec: ColumnCodec, first: unknown): Shape | undefined {
  const shape: Shape | undefined = typeof first === "string"
    ? "string"
    : typeof first === "number"
    ? "number"
    : typeof first === "boolean"
    ? "bool"
    : Array.isArray(first)
    ? "string_array"
    : undefined;
  switch (codec.kind) {
    case "string":
    case "address":
    case "text_only":
      return shape === "string" ? shape : undefined;
    case "string_array":
      return shape === "string_array" ? shape : undefined;
    case "int":
      return shape === "number" || shape === "bool" ? shape : undefined;
    case "float64":
      return shape === "number" ? shape : undefined;
    case "datetime64":
      // Text goes through the engine's parser; an integer is µs for DateTime64(6), as the
      // JSON path reads it (verified by chdb_insert_test.ts; other scales go as JSON).
      return shape === "string" || (shape === "number" && codec.micros) ? shape : undefined;
  }
}

/** Largest buffer an encoder keeps between batches (one unusual batch must not pin more). */
const MAX_KEPT = 256 << 20;
/** Rows whose per-column arrays an encoder keeps between batches (larger ones are dropped). */
const MAX_KEPT_ROWS = 1 << 20;

/**
 * How the row pass handles a column: LowCardinality(String), String, IPv6,
 * DateTime64(6, 'UTC') text and Array(LowCardinality(String)) columns are encoded right there
 * (dictionary ids, bytes, address bytes, ticks), while the row's values are in the CPU cache;
 * the other columns (numbers mostly) are only gathered and written column by column
 * afterwards. Producers' rows hold their own string objects, spread over the heap with the
 * rows: a second pass over one column touches a new cache line per value, which cost more
 * than the encoding itself (rows as JSON.parse builds them: ~60-100 ns per LowCardinality
 * value, ~200-300 per String, ~100-300 per address, timestamp or header-name array).
 */
const KEEP = 0;
const LOW_CARDINALITY = 1;
const STRING = 2;
/** IPv6 from text: bytes while every value is plain IPv4 or "", the values kept for text. */
const ADDRESS = 3;
/** DateTime64(6, 'UTC') from text: ticks while every value reads exactly, values kept. */
const MICROS = 4;
const LOW_CARDINALITY_ARRAY = 5;

/** Per-column state of the row pass, reused from batch to batch. */
class ColumnState {
  mode = KEEP;
  /** KEEP, ADDRESS, MICROS: the column's values. */
  values: unknown[] = [];
  /** LOW_CARDINALITY(_ARRAY): the block's dictionary and one id per value. */
  dict = new Dictionary();
  ids = new Uint32Array(0);
  /** The previous row's value (and its id for LOW_CARDINALITY), for repeats. */
  last: unknown = undefined;
  lastId = 0;
  /** STRING: the column's bytes as the block carries them. */
  bytes = new Writer(1 << 10);
  tail = new StringTail();
  /** ADDRESS, MICROS: whether every value so far has its binary form, and those forms. */
  binary = true;
  addresses = new Uint8Array(0);
  ticks = new Float64Array(0);
  micros = new UtcMicrosParser();
  /** LOW_CARDINALITY_ARRAY: each row's end offset; `total` ids so far, the last array's at. */
  ends = new Float64Array(0);
  total = 0;
  lastAt = 0;

  reset(mode: number, n: number): void {
    this.mode = mode;
    this.last = undefined;
    this.lastId = 0;
    this.binary = true;
    // Reused arrays may be longer than the batch: the pass writes every index below n (or
    // `total`), and only those are read.
    if (mode === KEEP || mode === ADDRESS || mode === MICROS) {
      if (this.values.length < n) this.values = new Array(n);
    } else {
      this.values = [];
    }
    if (mode === LOW_CARDINALITY || mode === LOW_CARDINALITY_ARRAY) {
      this.dict = new Dictionary();
      if (this.ids.length < n) this.ids = new Uint32Array(n);
    }
    if (mode === STRING) {
      this.bytes.pos = 0;
      this.tail = new StringTail();
    } else if (mode === ADDRESS) {
      if (this.addresses.length < 16 * n) this.addresses = new Uint8Array(16 * n);
    } else if (mode === MICROS) {
      if (this.ticks.length < n) this.ticks = new Float64Array(n);
      this.micros = new UtcMicrosParser();
    } else if (mode === LOW_CARDINALITY_ARRAY) {
      if (this.ends.length < n) this.ends = new Float64Array(n);
      this.total = 0;
      this.lastAt = 0;
    }
  }

  /** ADDRESS: one row's value (r > 0 when the previous row's address can be copied). */
  address(v: string, r: number): void {
    this.values[r] = v;
    if (!this.binary) return;
    if (r > 0 && v === this.last) copyPrevious16(this.addresses, 16 * r);
    else this.binary = putIpv4Mapped(v, this.addresses, 16 * r);
    this.last = v;
  }

  /** MICROS: one row's value. */
  timestamp(v: string, r: number): void {
    this.values[r] = v;
    if (!this.binary) return;
    const t = this.micros.parse(v);
    if (t < 0) this.binary = false;
    else this.ticks[r] = t;
  }

  /**
   * LOW_CARDINALITY_ARRAY: one row's array; false when an element is not a string. A row
   * whose array holds the same strings as the previous row's (header_names of one client)
   * reuses that row's ids instead of looking each value up.
   */
  lowCardinalityArray(a: unknown[], r: number): boolean {
    const len = a.length;
    const at = this.total;
    if (this.ids.length < at + len) {
      const grown = new Uint32Array(Math.max(2 * this.ids.length, at + len));
      grown.set(this.ids.subarray(0, at));
      this.ids = grown;
    }
    const ids = this.ids;
    const prev = this.last as unknown[] | undefined;
    let same = prev !== undefined && len === prev.length;
    for (let j = 0; same && j < len; j++) same = a[j] === prev![j];
    if (same) {
      for (let j = 0; j < len; j++) ids[at + j] = ids[this.lastAt + j];
    } else {
      for (let j = 0; j < len; j++) {
        const v = a[j];
        if (typeof v !== "string") return false;
        ids[at + j] = this.dict.id(v);
      }
    }
    this.last = a;
    this.lastAt = at;
    this.total = at + len;
    this.ends[r] = this.total;
    return true;
  }

  /** Drops references to the batch's values (a kept encoder must not pin a batch). */
  release(): void {
    this.dict = new Dictionary();
    this.last = undefined;
    this.tail = new StringTail();
    // One unusually large batch must not pin its arrays (~150 bytes per row over 41 columns)
    // for the encoder's lifetime.
    if (this.values.length > MAX_KEPT_ROWS) this.values = [];
    else this.values.fill(undefined);
    if (this.ids.length > MAX_KEPT_ROWS) this.ids = new Uint32Array(0);
    if (this.ends.length > MAX_KEPT_ROWS) this.ends = new Float64Array(0);
    if (this.ticks.length > MAX_KEPT_ROWS) this.ticks = new Float64Array(0);
    if (this.addresses.length > 16 * MAX_KEPT_ROWS) this.addresses = new Uint8Array(0);
    if (this.bytes.buf.length > MAX_KEPT >> 4) this.bytes = new Writer(1 << 10);
  }

  /** Elements this state keeps between batches (for tests). */
  kept(): number {
    return this.values.length + this.ids.length + this.ends.length + this.ticks.length +
      this.addresses.length / 16;
  }
}

/** The row pass's mode for a column of `codec` whose first value has `shape`. */
function modeOf(codec: ColumnCodec, shape: Shape): number {
  if (shape === "string") {
    if (codec.kind === "string") return codec.lowCardinality ? LOW_CARDINALITY : STRING;
    if (codec.kind === "address" && codec.ipv6) return ADDRESS;
    if (codec.kind === "datetime64" && codec.type === UTC_MICROS) return MICROS;
  }
  if (shape === "string_array" && codec.kind === "string_array" && codec.lowCardinality) {
    return LOW_CARDINALITY_ARRAY;
  }
  return KEEP;
}

/**
 * Encodes batches into one reused buffer: a fresh ~40 MB buffer per batch costs more in page
 * faults and zeroing than the encoding. The bytes returned are valid until the next encode;
 * callers that keep them across an `await` must serialize their use of one encoder.
 */
export class NativeEncoder {
  #w = new Writer(1 << 20);
  #columns: ColumnState[] = [];

  /** Array elements kept between batches over all columns (for tests). */
  get keptElements(): number {
    return this.#columns.reduce((n, c) => n + c.kept(), 0);
  }

  /**
   * Rows that all have exactly the keys `columns` (in that order) → one Native block, or
   * undefined when they do not, or when the batch has a value or a column the encoding
   * cannot carry exactly.
   */
  encode(
    rows: readonly Record<string, unknown>[],
    columns: readonly string[],
    plan: ColumnPlan,
  ): Uint8Array | undefined {
    if (rows.length === 0) return undefined;
    const codecs: ColumnCodec[] = [];
    const shapes: Shape[] = [];
    const first = rows[0];
    for (const name of columns) {
      const codec = plan.get(name);
      const shape = codec && shapeOf(codec, first[name]);
      if (!shape) return undefined;
      codecs.push(codec);
      shapes.push(shape);
    }
    const states = this.#columns;
    while (states.length < columns.length) states.push(new ColumnState());
    for (let c = 0; c < columns.length; c++) {
      states[c].reset(modeOf(codecs[c], shapes[c]), rows.length);
    }
    try {
      if (!rowPass(rows, columns, states)) return undefined;
      if (this.#w.buf.length > MAX_KEPT) this.#w = new Writer(1 << 20);
      const w = this.#w;
      w.pos = 0;
      w.varUInt(columns.length);
      w.varUInt(rows.length);
      for (let c = 0; c < columns.length; c++) {
        if (!writeState(w, columns[c], states[c], codecs[c], shapes[c], rows.length)) {
          return undefined;
        }
      }
      return w.bytes();
    } finally {
      for (let c = 0; c < columns.length; c++) states[c].release();
    }
  }
}

/** Writes one column whose values the row pass has gathered or encoded. */
function writeState(
  w: Writer,
  name: string,
  state: ColumnState,
  codec: ColumnCodec,
  shape: Shape,
  n: number,
): boolean {
  const mode = state.mode;
  if (mode === LOW_CARDINALITY) {
    writeString(w, name);
    writeString(w, "LowCardinality(String)");
    w.reserve(8);
    w.int(LC_KEYS_VERSION, 8, false);
    return w.lowCardinalityIndexes(state.dict.keys, state.ids.subarray(0, n));
  }
  if (mode === STRING) {
    writeString(w, name);
    writeString(w, "String");
    w.raw(state.bytes.bytes());
    return true;
  }
  if (mode === LOW_CARDINALITY_ARRAY) {
    writeString(w, name);
    writeString(w, "Array(LowCardinality(String))");
    w.reserve(8 + 8 * n);
    // The nested LowCardinality's prefix comes before the array's offsets.
    w.int(LC_KEYS_VERSION, 8, false);
    for (let r = 0; r < n; r++) w.int(state.ends[r], 8, false);
    return w.lowCardinalityIndexes(state.dict.keys, state.ids.subarray(0, state.total));
  }
  if (mode === ADDRESS && state.binary) {
    writeString(w, name);
    writeString(w, "IPv6");
    w.raw(state.addresses.subarray(0, 16 * n));
    return true;
  }
  if (mode === MICROS && state.binary) {
    writeString(w, name);
    writeString(w, UTC_MICROS);
    w.reserve(8 * n);
    for (let r = 0; r < n; r++) w.int(state.ticks[r], 8, true);
    return true;
  }
  // KEEP, and ADDRESS / MICROS columns with a value that has no binary form (as text).
  const values = state.values.length === n ? state.values : state.values.slice(0, n);
  return writeColumn(w, name, values, codec, shape);
}

/**
 * The pass over the rows: checks that every row's own enumerable keys are exactly `columns`,
 * in that order, encodes the columns it can (see {@link KEEP}) and gathers the others'
 * values. One for-in per row: V8 loads `row[key]` inside it from the
 * object's enum cache, ~3× faster than 41 separate loads by a key held in a variable, and
 * the key check comes with it. False when a row has other keys or a value does not fit its
 * column (the batch then goes as JSON).
 */
function rowPass(
  rows: readonly Record<string, unknown>[],
  columns: readonly string[],
  states: readonly ColumnState[],
): boolean {
  const n = rows.length;
  const k = columns.length;
  // for-in also lists inherited enumerable keys, which are no row values (JSON leaves them
  // out): a row whose prototype chain has any is refused. Checked once per prototype.
  let proto: unknown = Object.prototype;
  let protoClean = noEnumerableKeys(proto as object);
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    const p = Object.getPrototypeOf(row);
    if (p !== proto) {
      proto = p;
      protoClean = p === null || noEnumerableKeys(p);
    }
    if (!protoClean) return false;
    let c = 0;
    for (const key in row) {
      if (c === k || key !== columns[c]) return false;
      const v = row[key];
      const s = states[c++];
      const mode = s.mode;
      if (mode === KEEP) {
        s.values[r] = v;
      } else if (mode === LOW_CARDINALITY_ARRAY) {
        if (!Array.isArray(v) || !s.lowCardinalityArray(v, r)) return false;
      } else if (typeof v !== "string") {
        return false;
      } else if (mode === LOW_CARDINALITY) {
        // Neighbouring rows often repeat a value: compared before the hash lookup.
        if (v !== s.last) {
          s.last = v;
          s.lastId = s.dict.id(v);
        }
        s.ids[r] = s.lastId;
      } else if (mode === STRING) {
        if (!s.bytes.stringValue(v, s.tail)) return false;
      } else if (mode === ADDRESS) {
        s.address(v, r);
      } else {
        s.timestamp(v, r);
      }
    }
    if (c !== k) return false;
  }
  return true;
}

function noEnumerableKeys(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** One-off {@link NativeEncoder.encode} whose bytes the caller owns. */
export function encodeNative(
  rows: readonly Record<string, unknown>[],
  columns: readonly string[],
  plan: ColumnPlan,
): Uint8Array | undefined {
  return new NativeEncoder().encode(rows, columns, plan);
}

/**
 * LowCardinality's serialization version (SharedDictionariesWithAdditionalKeys), the column
 * prefix; each block then carries its own dictionary ("additional keys") and indexes.
 */
const LC_KEYS_VERSION = 1;
/** Index flags of a LowCardinality block: HasAdditionalKeys | NeedUpdateDictionary. */
const LC_ADDITIONAL_KEYS = (1 << 9) | (1 << 10);

/** The DateTime64 type whose text this encoder turns into ticks itself. */
const UTC_MICROS = "DateTime64(6, 'UTC')";

/** `YYYY-MM-DD hh:mm:ss[.fraction]`, the layout producers and the engine both write. */
const PLAIN_DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/;

function validInt(n: number, codec: { min: number; max: number }): boolean {
  return Number.isInteger(n) && n >= codec.min && n <= codec.max;
}

/**
 * Writes one column (name, type, data) from its values (one per row); false when a value is
 * not of the column's shape or has no exact binary form.
 */
function writeColumn(
  w: Writer,
  key: string,
  column: unknown[],
  codec: ColumnCodec,
  shape: Shape,
): boolean {
  writeString(w, key);
  const n = column.length;
  if (shape === "string") {
    for (let r = 0; r < n; r++) if (typeof column[r] !== "string") return false;
    // The column array is this encoding's own (from the row pass): changed in place below.
    // (LowCardinality(String) and String columns were encoded by the row pass.)
    // Address and DateTime64(6, 'UTC') columns come here only when the row pass found a
    // value without a binary form (ADDRESS / MICROS modes): they go as text.
    const values = column as string[];
    if (codec.kind === "address") {
      for (let r = 0; r < n; r++) if (values[r] === "") values[r] = "::";
    } else if (codec.kind === "datetime64") {
      // As text, only the plain layout: other texts (a bare number, a date alone…) might be
      // read differently by a String → DateTime64 conversion than by the JSON parser.
      for (let r = 0; r < n; r++) if (!PLAIN_DATETIME.test(values[r])) return false;
    } else if (codec.kind === "text_only") {
      // "" is not a value of these types; let the JSON path report it as it always did.
      for (let r = 0; r < n; r++) if (values[r] === "") return false;
    }
    writeString(w, "String");
    return w.stringColumn(values);
  }
  if (shape === "string_array") {
    // (Array(LowCardinality(String)) columns were encoded by the row pass.)
    writeString(w, "Array(String)");
    w.reserve(8 * n);
    let total = 0;
    for (let r = 0; r < n; r++) {
      const a = column[r];
      if (!Array.isArray(a)) return false;
      total += a.length;
      w.int(total, 8, false);
    }
    const values = new Array<string>(total);
    let i = 0;
    for (let r = 0; r < n; r++) {
      for (const v of column[r] as unknown[]) {
        if (typeof v !== "string") return false;
        values[i++] = v;
      }
    }
    return w.stringColumn(values);
  }
  if (shape === "bool") {
    if (codec.kind !== "int") return false;
    writeString(w, codec.type);
    w.reserve(codec.bytes * n);
    for (let r = 0; r < n; r++) {
      const v = column[r];
      if (typeof v !== "boolean") return false;
      w.int(v ? 1 : 0, codec.bytes, codec.signed);
    }
    return true;
  }
  // numbers
  if (codec.kind === "float64") {
    writeString(w, "Float64");
    w.reserve(8 * n);
    for (let r = 0; r < n; r++) {
      const v = column[r];
      // JSON.stringify turns NaN/±Infinity into null (the column default): not the same value.
      if (typeof v !== "number" || !Number.isFinite(v)) return false;
      w.float64(v);
    }
    return true;
  }
  if (codec.kind === "int" || codec.kind === "datetime64") {
    const spec = codec.kind === "int" ? codec : {
      type: codec.type,
      bytes: 8 as const,
      signed: true,
      min: Number.MIN_SAFE_INTEGER,
      max: Number.MAX_SAFE_INTEGER,
    };
    writeString(w, spec.type);
    w.reserve(spec.bytes * n);
    for (let r = 0; r < n; r++) {
      const v = column[r];
      if (typeof v !== "number" || !validInt(v, spec)) return false;
      w.int(v, spec.bytes, spec.signed);
    }
    return true;
  }
  return false;
}

function writeString(w: Writer, s: string): void {
  w.string(s);
}

/**
 * Column form of the row pass's address encoding (ColumnState.address), kept for the tests
 * that pin its rules. Plain dotted IPv4 texts (`a.b.c.d`, decimal 0–255 without leading zeros)
 * and "" (the column default `::`) → IPv6 column bytes (IPv4-mapped `::ffff:a.b.c.d`, network order), as
 * the engine stores those texts; undefined when any value has another form (IPv6 notation,
 * leading zeros…): the column then goes as text.
 */
export function ipv4MappedColumn(values: readonly string[]): Uint8Array | undefined {
  const out = new Uint8Array(16 * values.length);
  for (let r = 0; r < values.length; r++) {
    if (r > 0 && values[r] === values[r - 1]) copyPrevious16(out, 16 * r);
    else if (!putIpv4Mapped(values[r], out, 16 * r)) return undefined;
  }
  return out;
}

/** Copies the 16 bytes before `at` to `at` (a row's address equal to the previous row's). */
function copyPrevious16(out: Uint8Array, at: number): void {
  for (let j = at; j < at + 16; j++) out[j] = out[j - 16];
}

/**
 * Writes the IPv6 column bytes of one value at out[at, at + 16) (see ipv4MappedColumn):
 * `::ffff:a.b.c.d` for plain dotted IPv4, `::` for ""; false for any other form.
 */
function putIpv4Mapped(s: string, out: Uint8Array, at: number): boolean {
  // The buffer may be reused: every byte of the value is written.
  for (let j = at; j < at + 12; j++) out[j] = 0;
  if (s === "") {
    for (let j = at + 12; j < at + 16; j++) out[j] = 0;
    return true;
  }
  let i = 0;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (s.charCodeAt(i) !== 46) return false; // '.'
      i++;
    }
    const start = i;
    let n = 0;
    while (i < s.length && i - start < 3) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
      i++;
    }
    const len = i - start;
    if (len === 0 || n > 255 || (len > 1 && s.charCodeAt(start) === 48)) return false;
    out[at + 12 + octet] = n;
  }
  if (i !== s.length) return false;
  out[at + 10] = 0xff;
  out[at + 11] = 0xff;
  return true;
}

/** Days per month of a common year. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Column form of the row pass's timestamp reading (UtcMicrosParser), kept for the tests that
 * pin its rules. `YYYY-MM-DD hh:mm:ss[.f{1,6}]` texts → µs since the epoch, read as UTC; undefined when any
 * value has another layout or is outside what this reads exactly (years 1970–2105, a real
 * calendar date and time, at most 6 fraction digits): the column then goes as text for the
 * engine's parser.
 */
export function utcMicrosColumn(values: readonly string[]): Float64Array | undefined {
  const out = new Float64Array(values.length);
  const parser = new UtcMicrosParser();
  for (let r = 0; r < values.length; r++) {
    const t = parser.parse(values[r]);
    if (t < 0) return undefined;
    out[r] = t;
  }
  return out;
}

/** Digits of s[from, to) as a number; -1 when one is not a digit. */
function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * One DateTime64(6, 'UTC') text at a time (see utcMicrosColumn). Consecutive values mostly
 * share their hour: its epoch ms is computed once per change.
 */
class UtcMicrosParser {
  #hourKey = -1;
  #hourMs = 0;
  /** The last value's "YYYY-MM-DD hh:mm:ss" and its µs (-1: none). */
  #second = "";
  #secondUs = -1;

  /** µs since the epoch, or -1 when `s` has no exact reading here. */
  parse(s: string): number {
    const fraction = s.length - 20; // digits after "YYYY-MM-DD hh:mm:ss."
    if (s.length !== 19 && (fraction < 1 || fraction > 6 || s.charCodeAt(19) !== 46)) {
      return -1;
    }
    // Consecutive values mostly share their second: then only the fraction is read.
    if (this.#secondUs < 0 || !s.startsWith(this.#second)) {
      this.#secondUs = this.#parseSecond(s);
      this.#second = this.#secondUs < 0 ? "" : s.substring(0, 19);
    }
    const t = this.#secondUs;
    if (t < 0 || fraction <= 0) return t;
    const micros = digits(s, 20, s.length);
    return micros < 0 ? -1 : t + micros * 10 ** (6 - fraction);
  }

  /** µs of s's "YYYY-MM-DD hh:mm:ss" (layout and length checked by parse), or -1. */
  #parseSecond(s: string): number {
    if (
      s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32 ||
      s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58
    ) return -1;
    const year = digits(s, 0, 4);
    const month = digits(s, 5, 7);
    const day = digits(s, 8, 10);
    const hour = digits(s, 11, 13);
    const minute = digits(s, 14, 16);
    const second = digits(s, 17, 19);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
      return -1;
    }
    if (year < 0 || month < 0 || day < 0) return -1;
    const key = ((year * 100 + month) * 100 + day) * 100 + hour;
    if (key !== this.#hourKey) {
      if (year < 1970 || year > 2105 || month < 1 || month > 12 || day < 1) return -1;
      const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
      if (day > MONTH_DAYS[month - 1] + (month === 2 && leap ? 1 : 0)) return -1;
      this.#hourKey = key;
      this.#hourMs = Date.UTC(year, month - 1, day, hour);
    }
    return (this.#hourMs + (minute * 60 + second) * 1000) * 1000;
  }
}
