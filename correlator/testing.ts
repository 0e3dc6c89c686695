/**
 * Helpers for the correlator's tests and benchmark (not used by the service itself).
 *
 * @example
 * ```ts
 * const storage = await openTestStorage();
 * await startCorrelator({ config, log }, { connectStorage: () => Promise.resolve(borrowedStorage(storage)) });
 * ```
 */
import type { Storage } from "../lib/storage/types.ts";

/**
 * A view of `s` whose close() does nothing: the ClickHouse sink closes its handle at stop, and
 * a test still needs the database afterwards to count rows.
 */
export function borrowedStorage(s: Storage): Storage {
  return {
    kind: s.kind,
    database: s.database,
    query: (q, p) => s.query(q, p),
    command: (q, p) => s.command(q, p),
    insert: (t, r) => s.insert(t, r),
    ping: () => s.ping(),
    close: () => Promise.resolve(),
  };
}
