/**
 * Embedded adapter: chDB (the ClickHouse engine in-process, npm `chdb`) on a data directory.
 * Queries use chDB's server-side parameter binding. Inserts encode rows as a Native block
 * (lib/storage/native_format.ts) when the batch allows it exactly, else JSONCompactEachRow /
 * JSONEachRow. One process may own a data directory at a time.
 */
import { Session } from "chdb";
import { join } from "node:path";
import { errorMessage } from "../errors.ts";
import { AddressColumns, ColumnPlans, PerTable } from "./address_columns.ts";
import { clickhouseCodeOf, StorageError } from "./errors.ts";
import { type ColumnPlan, NativeEncoder } from "./native_format.ts";
import {
  badInput,
  type InsertOptions,
  insertSettingsOf,
  isPlainIdentifier,
  parseJsonEachRow,
  type Storage,
  toJsonCompactEachRow,
  toJsonEachRow,
  withInsertToken,
} from "./types.ts";

/** Engine arguments fixed at connect: 64-bit integers as JSON numbers, like our server mode. */
const CONNECTION_ARGS = ["--output_format_json_quote_64bit_integers=0"];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Maps a chDB error to a StorageError: engine exceptions are `SQL`, connection loss `UNAVAILABLE`. */
export function fromChdbError(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as { name?: string; code?: string; clickhouseCode?: number };
  const message = errorMessage(err);
  if (e?.name === "ChdbClosedError" || e?.code === "CHDB_CLOSED") {
    return new StorageError("CLOSED", `${what}: the embedded database is closed`, { cause: err });
  }
  if (e?.name === "ChdbConnectionError" || e?.code === "CHDB_CONNECTION") {
    return new StorageError("UNAVAILABLE", `${what}: embedded chDB unavailable: ${message}`, {
      cause: err,
    });
  }
  const code = typeof e?.clickhouseCode === "number" ? e.clickhouseCode : clickhouseCodeOf(message);
  return new StorageError("SQL", `${what}: ${message}`, { cause: err, clickhouseCode: code });
}

/** Result of a raw statement: bytes in the requested format. */
export interface RawResult {
  bytes: Uint8Array;
  rowsRead: number;
  elapsedS: number;
}

/**
 * The embedded engine with a default database. Also the executor behind the owner's HTTP
 * endpoint (lib/storage/http_protocol.ts), which needs raw formats and raw inserts.
 */
export class ChdbStorage implements Storage {
  readonly kind = "embedded" as const;
  readonly database: string;
  readonly dataDir: string;
  #session: Session | undefined;
  readonly #addresses: AddressColumns;
  readonly #plans: ColumnPlans;
  /** Whether a table's engine is plain `MergeTree` (see #insertSettings). */
  readonly #plainMergeTree: PerTable<boolean>;
  /** Private directory for Native insert files (created on the first such insert). */
  #spoolDir: Promise<string> | undefined;
  #spoolSeq = 0;
  /**
   * Spool files not in use by an insert. A file is rewritten in place for the next batch
   * rather than created and removed per batch: a fresh ~40 MB file costs ~40 ms of kernel CPU
   * (page-cache pages and filesystem blocks allocated, then freed), an overwrite ~7 ms.
   */
  readonly #idleSpools: string[] = [];
  readonly #encoder = new NativeEncoder();
  /** Settles when the encoder buffer is free (see #encodeToSpool). */
  #encoding: Promise<void> = Promise.resolve();
  /** Which encoding each insert used (for the benchmark and tests). */
  readonly insertStats = { native: 0, json: 0 };

  private constructor(session: Session, dataDir: string, database: string) {
    this.#session = session;
    this.dataDir = dataDir;
    this.database = database;
    const query: Storage["query"] = (sql, params) => this.query(sql, params);
    this.#addresses = new AddressColumns(query, database);
    this.#plans = new ColumnPlans(query, database);
    this.#plainMergeTree = new PerTable((table) =>
      query<{ engine: string }>(
        "SELECT engine FROM system.tables WHERE database = {db:String} AND name = {t:String}",
        { db: database, t: table },
      ).then((rows) => rows[0]?.engine === "MergeTree")
    );
  }

  /**
   * Settings of an `insert()` into `table`. On a plain MergeTree (the raw tables) also
   * `optimize_on_insert = 0`: that pass merges rows of equal sort key inside each inserted
   * block, which does nothing for a MergeTree itself but also runs for every materialized
   * view target the insert feeds. The platform's views GROUP BY their AggregatingMergeTree
   * target's sort key, so each view block holds one row per key and the pass finds nothing
   * to merge; it cost ~0.8 µs per http_logs row (~40% of writing agg_http_1h). Readers of
   * aggregate tables merge rows anyway (FINAL / GROUP BY), so what they read is the same.
   * Tables of other engines (ReplacingMergeTree…) keep the default.
   */
  async #insertSettings(
    table: string,
    options: InsertOptions | undefined,
  ): Promise<Record<string, string>> {
    const settings = badInput(() => insertSettingsOf(options));
    return await this.#plainMergeTree.of(table)
      ? { ...settings, optimize_on_insert: "0" }
      : settings;
  }

  /**
   * Opens (creating if needed) the data directory and the database. Throws StorageError
   * `UNAVAILABLE` when another process owns the directory.
   */
  static async open(dataDir: string, database: string): Promise<ChdbStorage> {
    if (!isPlainIdentifier(database)) {
      throw new StorageError("BAD_INPUT", `database name '${database}' is not an identifier`);
    }
    await Deno.mkdir(dataDir, { recursive: true });
    let session: Session;
    try {
      session = new Session(dataDir, { connectionArgs: CONNECTION_ARGS });
    } catch (err) {
      throw new StorageError(
        "UNAVAILABLE",
        `cannot open embedded chDB at ${dataDir}: ${errorMessage(err)} ` +
          `(is another process, e.g. 'ja4 start', the owner? then use its endpoint)`,
        { cause: err },
      );
    }
    const storage = new ChdbStorage(session, dataDir, database);
    try {
      await storage.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
      // Unqualified names in every later statement resolve to the platform database.
      await storage.command(`USE ${database}`);
    } catch (err) {
      session.close();
      throw err;
    }
    return storage;
  }

  #live(): Session {
    if (!this.#session) throw new StorageError("CLOSED", "the embedded database is closed");
    return this.#session;
  }

  /** Runs one statement and returns its output in `format` (ClickHouse format name). */
  async raw(
    sql: string,
    params: Record<string, unknown> | undefined,
    format: string,
  ): Promise<RawResult> {
    const session = this.#live();
    try {
      const r = params && Object.keys(params).length > 0
        ? await session.queryBindAsync(sql, params, { format })
        : await session.queryAsync(sql, { format });
      return { bytes: r.bytes(), rowsRead: r.rowsRead, elapsedS: r.elapsed };
    } catch (err) {
      throw fromChdbError(err, "query failed");
    }
  }

  async query<T = Record<string, unknown>>(
    sql: string,
    params?: Record<string, unknown>,
  ): Promise<T[]> {
    const r = await this.raw(sql, params, "JSONEachRow");
    return parseJsonEachRow<T>(decoder.decode(r.bytes));
  }

  /** Result as text in any ClickHouse output format (for `ja4 sql --format`). */
  async queryText(sql: string, params: Record<string, unknown> | undefined, format: string) {
    return decoder.decode((await this.raw(sql, params, format)).bytes);
  }

  async command(sql: string, params?: Record<string, unknown>): Promise<void> {
    await this.raw(sql, params, "TabSeparated");
  }

  /**
   * Inserts payload bytes already in `format` (JSONEachRow, TSV, CSV, Native…) into `table`
   * (database-qualified). Returns the rows written as the engine counts them for the text
   * formats; Native needs `columns` and returns 0.
   */
  async insertRaw(
    table: string,
    payload: Uint8Array,
    format:
      | "JSONEachRow"
      | "JSONCompactEachRow"
      | "CSV"
      | "CSVWithNames"
      | "TabSeparated"
      | "Native",
    columns?: string[],
    settings?: Record<string, string>,
  ): Promise<number> {
    settings = withInsertToken(settings);
    if (format === "Native") {
      if (!columns) throw new StorageError("BAD_INPUT", "a Native insert needs its column list");
      const file = await this.#spool(payload);
      try {
        await this.#insertFile(table, columns, file, settings);
      } finally {
        this.#idleSpools.push(file);
      }
      return 0;
    }
    const session = this.#live();
    try {
      const r = await session.insert({ table, values: payload, format, columns, settings });
      return r.rowsWritten;
    } catch (err) {
      throw fromChdbError(err, `insert into ${table} failed`);
    }
  }

  async insert(
    table: string,
    rows: readonly Record<string, unknown>[],
    options?: InsertOptions,
  ): Promise<void> {
    if (!isPlainIdentifier(table)) {
      throw new StorageError("BAD_INPUT", `table name '${table}' is not a plain identifier`);
    }
    if (rows.length === 0) {
      badInput(() => insertSettingsOf(options)); // a bad token is refused even without rows
      return;
    }
    const settings = await this.#insertSettings(table, options);
    const target = `${this.database}.${table}`;
    // The encoder itself checks that every row has these keys in this order.
    const columns = Object.keys(rows[0]);
    const file = await this.#encodeToSpool(rows, columns, await this.#plans.of(table));
    if (file) {
      try {
        await this.#insertFile(target, columns, file, settings);
      } finally {
        this.#idleSpools.push(file);
      }
      this.insertStats.native++;
      return;
    }
    this.insertStats.json++;
    // "" for an absent address (client_ip) must store `::`, not fail the batch. Mapping it to
    // null here (null takes the column default) is cheaper than the engine's
    // input_format_json_empty_as_default, which slows every field's parsing by ~20%.
    const ipColumns = await this.#addresses.of(table);
    const compact = toJsonCompactEachRow(rows, ipColumns);
    if (compact) {
      await this.insertRaw(
        target,
        encoder.encode(compact.text),
        "JSONCompactEachRow",
        compact.columns,
        settings,
      );
    } else {
      await this.insertRaw(
        target,
        encoder.encode(toJsonEachRow(rows, ipColumns)),
        "JSONEachRow",
        undefined,
        settings,
      );
    }
  }

  /**
   * Encodes `rows` as a Native block into a spool file (undefined when the batch has no exact
   * Native form). One encoder buffer serves every batch, so encodings take turns until their
   * bytes are in the file; the engine's work on earlier files goes on meanwhile.
   */
  async #encodeToSpool(
    rows: readonly Record<string, unknown>[],
    columns: readonly string[],
    plan: ColumnPlan,
  ): Promise<string | undefined> {
    const previous = this.#encoding;
    let release!: () => void;
    this.#encoding = new Promise((r) => (release = r));
    await previous;
    try {
      const block = this.#encoder.encode(rows, columns, plan);
      return block && await this.#spool(block);
    } finally {
      release();
    }
  }

  /**
   * Writes `block` to a spool file of this handle's private directory that no insert is using
   * (an idle one, else a new one) and returns its path; the caller puts it back in
   * #idleSpools once the engine has read it. The file is overwritten from the start and then
   * cut to the block's length, never truncated to zero first (see #idleSpools).
   */
  async #spool(block: Uint8Array): Promise<string> {
    this.#spoolDir ??= Deno.makeTempDir({ prefix: "ja4-chdb-insert-" });
    const dir = await this.#spoolDir;
    const file = this.#idleSpools.pop() ?? join(dir, `${++this.#spoolSeq}.native`);
    const f = await Deno.open(file, { write: true, create: true, mode: 0o600 });
    try {
      for (let at = 0; at < block.length;) at += await f.write(block.subarray(at));
      await f.truncate(block.length);
    } catch (err) {
      f.close();
      // A half-written file goes back to no pool: remove it, best effort.
      await Deno.remove(file).catch(() => {});
      throw err;
    }
    f.close();
    return file;
  }

  /**
   * Inserts a spooled Native block (the caller recycles the file). chDB's raw insert takes text formats
   * only, so the block goes through `INSERT … SELECT FROM file()`; the engine reads it with
   * almost no parsing.
   */
  async #insertFile(
    target: string,
    columns: readonly string[],
    file: string,
    settings: Record<string, string> | undefined,
  ): Promise<void> {
    try {
      // Settings values are validated tokens ([A-Za-z0-9_.-]); quoting them is enough.
      const extra = Object.entries(settings ?? {}).map(([k, v]) => `, ${k} = '${v}'`).join("");
      await this.raw(
        `INSERT INTO ${target} (${columns.map(quoteIdentifier).join(", ")}) ` +
          `SELECT * FROM file({file:String}, 'Native') ` +
          // Every file is new: caching its inferred schema would only grow a cache.
          `SETTINGS schema_inference_use_cache_for_file = 0${extra}`,
        { file },
        "TabSeparated",
      );
    } catch (err) {
      throw err instanceof StorageError && err.code === "SQL"
        ? new StorageError(
          "SQL",
          err.message.replace("query failed", `insert into ${target} failed`),
          { cause: err.cause, clickhouseCode: err.clickhouseCode },
        )
        : err;
    }
  }

  ping(): Promise<boolean> {
    return Promise.resolve(this.#session?.open ?? false);
  }

  async close(): Promise<void> {
    this.#session?.close();
    this.#session = undefined;
    const spool = this.#spoolDir;
    this.#spoolDir = undefined;
    if (spool) await Deno.remove(await spool, { recursive: true });
  }
}

/** `name` as a back-quoted identifier (column names come from the caller's row keys). */
function quoteIdentifier(name: string): string {
  return "`" + name.replaceAll("\\", "\\\\").replaceAll("`", "\\`") + "`";
}
