/**
 * The storage contract every component codes against: ClickHouse SQL with `{name:Type}`
 * parameters, rows as plain objects (JSONEachRow), batched JSONEachRow inserts into the
 * platform database. Implemented by the embedded chDB adapter and by the client-web adapter
 * (ClickHouse server, or an embedded owner's 127.0.0.1 endpoint).
 */
import { StorageError } from "./errors.ts";

/** A handle on the platform's ClickHouse. */
export interface Storage {
  /** Parameterized query ({name:Type} placeholders), rows as objects (JSONEachRow). */
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /** DDL / statements without result. */
  command(sql: string, params?: Record<string, unknown>): Promise<void>;
  /**
   * Batched insert into `table` of the platform database (ja4_processing). The wire encoding is
   * the adapter's (Native on embedded chDB when exact, else JSONCompactEachRow/JSONEachRow).
   */
  insert(
    table: string,
    rows: readonly Record<string, unknown>[],
    options?: InsertOptions,
  ): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /** How this handle reaches ClickHouse: `embedded`, `endpoint` (owner's HTTP) or `server`. */
  readonly kind: StorageKind;
  /** The platform database name (`storage.database`). */
  readonly database: string;
}

/** Options of {@link Storage.insert}. */
export interface InsertOptions {
  /**
   * `insert_deduplication_token`: a retried batch with the same token is stored once (on
   * Replicated* tables, or MergeTree with `non_replicated_deduplication_window`). Letters,
   * digits, `_`, `.`, `-`.
   */
  deduplicationToken?: string;
}

const TOKEN = /^[A-Za-z0-9_.-]{1,200}$/;

/**
 * Insert settings for `options`; a malformed token is refused before anything is sent.
 * Without a token the insert gets a fresh random one: the raw tables keep a deduplication
 * window for the correlator's replays (migration 07), and a token-less block identical to a
 * recent one would otherwise be dropped as a "retry" (`insert_deduplicate = 0` does not turn
 * that off for a non-replicated MergeTree). Retries of the same call reuse the same token.
 */
export function insertSettingsOf(options?: InsertOptions): Record<string, string> {
  const token = options?.deduplicationToken;
  if (token === undefined) return withInsertToken(undefined);
  if (!TOKEN.test(token)) {
    throw new TypeError(`deduplication token '${token}' must be 1-200 of [A-Za-z0-9_.-]`);
  }
  return { insert_deduplication_token: token };
}

/**
 * `settings` with an `insert_deduplication_token`, a random one when none is given, so that
 * only inserts that carry their own token are ever deduplicated (see {@link insertSettingsOf});
 * used where settings arrive from elsewhere (raw inserts, the owner's HTTP endpoint).
 */
export function withInsertToken(
  settings: Record<string, string> | undefined,
): Record<string, string> {
  if (settings?.insert_deduplication_token) return settings;
  return { ...settings, insert_deduplication_token: `auto-${crypto.randomUUID()}` };
}

/** How a Storage reaches ClickHouse. */
export type StorageKind = "embedded" | "endpoint" | "server";

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Runs `fn`; a TypeError it throws (a caller's mistake) becomes StorageError `BAD_INPUT`. */
export function badInput<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeError) {
      throw new StorageError("BAD_INPUT", err.message, { cause: err });
    }
    throw err;
  }
}

/** Table names are interpolated into INSERT statements, so only plain identifiers pass. */
export function isPlainIdentifier(name: string): boolean {
  return TABLE_NAME.test(name);
}

/**
 * Rows → JSONEachRow text (one JSON object per line, newline-terminated). Columns named in
 * `emptyAsNull` send "" as null, which the engine stores as the column default.
 */
export function toJsonEachRow(
  rows: readonly Record<string, unknown>[],
  emptyAsNull: ReadonlySet<string> = new Set(),
): string {
  let out = "";
  for (const row of rows) {
    let r = row;
    for (const c of emptyAsNull) {
      if (r[c] === "") r = r === row ? { ...row, [c]: null } : Object.assign(r, { [c]: null });
    }
    out += stringify(r) + "\n";
  }
  return out;
}

/**
 * Rows that all have the same keys in the same order (rows built by one function, like the
 * correlator's) → JSONCompactEachRow text and the column list; undefined otherwise. Half the
 * serialization work of JSONEachRow and a third fewer bytes for the engine to parse.
 */
export function toJsonCompactEachRow(
  rows: readonly Record<string, unknown>[],
  emptyAsNull: ReadonlySet<string> = new Set(),
): { columns: string[]; text: string } | undefined {
  const columns = sharedKeys(rows);
  if (!columns) return undefined;
  const nullable = columns.flatMap((c, i) => (emptyAsNull.has(c) ? [i] : []));
  let out = "";
  for (const row of rows) {
    const values = Object.values(row);
    for (const j of nullable) if (values[j] === "") values[j] = null;
    out += stringify(values) + "\n";
  }
  return { columns, text: out };
}

/**
 * The keys of the rows when every row has the same keys in the same order (rows built by one
 * function); undefined otherwise or for no rows.
 */
export function sharedKeys(rows: readonly Record<string, unknown>[]): string[] | undefined {
  if (rows.length === 0) return undefined;
  const columns = Object.keys(rows[0]);
  for (const row of rows) {
    let i = 0;
    for (const key in row) {
      if (key !== columns[i++]) return undefined;
    }
    if (i !== columns.length) return undefined;
  }
  return columns;
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    // Only BigInt makes JSON.stringify throw here; the replacer is slower, so only then.
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(value, bigintReplacer);
  }
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/** JSONEachRow text → rows. Empty lines are skipped. */
export function parseJsonEachRow<T>(text: string): T[] {
  const rows: T[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    if (end > start) rows.push(JSON.parse(text.slice(start, end)) as T);
    start = end + 1;
  }
  return rows;
}

/** A Storage that can also return text in any ClickHouse output format (both adapters can). */
export interface TextQueryable {
  queryText(
    sql: string,
    params: Record<string, unknown> | undefined,
    format: string,
  ): Promise<string>;
}

/** Text in `format` from any Storage; falls back to JSONEachRow rows when unsupported. */
export async function queryAsText(
  storage: Storage,
  sql: string,
  params: Record<string, unknown> | undefined,
  format: string,
): Promise<string> {
  if ("queryText" in storage) {
    return await (storage as Storage & TextQueryable).queryText(sql, params, format);
  }
  return toJsonEachRow(await storage.query(sql, params));
}
