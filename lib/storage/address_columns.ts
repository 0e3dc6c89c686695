/**
 * Producers send "" for an address they do not have (client_ip without mod_remoteip); an IPv6
 * column cannot parse "". Both adapters send such values as null, which the engine stores as
 * the column default (`::`), so every mode stores the same thing. Which columns are addresses
 * is read once per table from system.columns.
 */
import { type ColumnInfo, type ColumnPlan, planOf } from "./native_format.ts";
import type { Storage } from "./types.ts";

/** Caches one lookup per table; a failed lookup does not stick (the next call asks again). */
export class PerTable<T> {
  readonly #cache = new Map<string, Promise<T>>();
  // Tables do not change column types under a running process; a cache per handle is enough.
  constructor(readonly lookup: (table: string) => Promise<T>) {}

  of(table: string): Promise<T> {
    let v = this.#cache.get(table);
    if (!v) {
      v = this.lookup(table);
      v.catch(() => this.#cache.delete(table));
      this.#cache.set(table, v);
    }
    return v;
  }
}

/** Looks up (and caches) the IPv4/IPv6 columns of tables of one database. */
export class AddressColumns {
  readonly #cols: PerTable<ReadonlySet<string>>;

  constructor(query: Storage["query"], database: string) {
    this.#cols = new PerTable((table) =>
      query<{ name: string }>(
        "SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String} " +
          "AND match(type, 'IPv[46]')",
        { db: database, t: table },
      ).then((rows) => new Set(rows.map((r) => r.name)))
    );
  }

  /** The address columns of `table`. */
  of(table: string): Promise<ReadonlySet<string>> {
    return this.#cols.of(table);
  }
}

/** Looks up (and caches) the Native encoding plan ({@link ColumnPlan}) of tables of one database. */
export class ColumnPlans {
  readonly #plans: PerTable<ColumnPlan>;

  constructor(query: Storage["query"], database: string) {
    this.#plans = new PerTable((table) =>
      query<ColumnInfo>(
        "SELECT name, type, default_kind, default_expression FROM system.columns " +
          "WHERE database = {db:String} AND table = {t:String}",
        { db: database, t: table },
      ).then(planOf)
    );
  }

  /** The plan of `table` (empty for a table that does not exist: every insert goes as JSON). */
  of(table: string): Promise<ColumnPlan> {
    return this.#plans.of(table);
  }
}

/** Rows with "" in the named columns replaced by null (rows without one are passed as is). */
export function emptyAddressesAsNull(
  rows: readonly Record<string, unknown>[],
  columns: ReadonlySet<string>,
): Record<string, unknown>[] {
  if (columns.size === 0) return rows as Record<string, unknown>[];
  return rows.map((row) => {
    let out = row;
    for (const c of columns) {
      if (out[c] === "") {
        if (out === row) out = { ...row };
        out[c] = null;
      }
    }
    return out;
  });
}
