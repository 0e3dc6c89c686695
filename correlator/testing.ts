/**
 * Helpers for the correlator's tests and benchmark (not used by the service itself).
 *
 * @example
 * ```ts
 * const storage = await openTestStorage();
 * const config = correlatorConfig(dir, { "correlator.batch_ms": 50 });
 * await startCorrelator({ config, log }, { connectStorage: () => Promise.resolve(borrowedStorage(storage)) });
 * ```
 */
import { type Config, loadConfig } from "../lib/config.ts";
import { LIB_CONFIG_KEYS } from "../lib/settings.ts";
import { STORAGE_CONFIG_KEYS } from "../lib/storage/config.ts";
import type { Storage } from "../lib/storage/types.ts";
import { CORRELATOR_CONFIG_KEYS } from "./config.ts";

/** The keys a correlator reads: shared, storage and its own. */
export const CORRELATOR_TEST_KEYS = [
  ...LIB_CONFIG_KEYS,
  ...STORAGE_CONFIG_KEYS,
  ...CORRELATOR_CONFIG_KEYS,
] as const;

/**
 * A configuration rooted in `dir`: data under `dir/data`, both sockets in `dir/run`, no
 * periodic stats line, a generous shutdown bound; `flags` (by key) override or add.
 */
export function correlatorConfig(dir: string, flags: Record<string, unknown> = {}): Config {
  return loadConfig(CORRELATOR_TEST_KEYS, {
    flags: {
      data_dir: `${dir}/data`,
      "correlator.http_socket": `${dir}/run/http.socket`,
      "correlator.network_socket": `${dir}/run/network.socket`,
      "correlator.stats_interval_s": 0,
      // A loaded CI machine can make chDB take seconds per batch: give stop() room to insert
      // the last batches rather than spool them (60% of this bound goes to ClickHouse).
      "shutdown.timeout_ms": 120_000,
      ...flags,
    },
  });
}

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
