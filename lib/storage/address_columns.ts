/**
 * Producers send "" for an address they do not have (client_ip without mod_remoteip); an IPv6
 * column cannot parse "". Both adapters send such values as null, which the engine stores as
 * the column default (`::`), so every mode stores the same thing. Which columns are addresses
 * is read once per table from system.columns.
 */
import type { Storage } from "./types.ts";

/** Looks up (and caches) the IPv4/IPv6 columns of tables of one database. */
export class AddressColumns {
  readonly #cache = new Map<string, Promise<ReadonlySet<string>>>();
  readonly #query: Storage["query"];
  readonly #database: string;

  constructor(query: Storage["query"], database: string) {
    this.#query = query;
    this.#database = database;
    // Tables do not change column types under a running process; a cache per handle is enough.
  }

  /** The address columns of `table`. */
  of(table: string): Promise<ReadonlySet<string>> {
    let cols = this.#cache.get(table);
    if (!cols) {
      cols = this.#query<{ name: string }>(
        "SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String} " +
          "AND match(type, 'IPv[46]')",
        { db: this.#database, t: table },
      ).then((rows) => new Set(rows.map((r) => r.name)));
      // A failed lookup must not stick: the next insert asks again.
      cols.catch(() => this.#cache.delete(table));
      this.#cache.set(table, cols);
    }
    return cols;
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
