/**
 * Storage for tests. chDB binds ONE data directory per process and `deno test` runs every test
 * file in one process, so all tests share one process-wide temporary directory and each test
 * gets its own database in it (migrated, dropped on close). Use this rather than opening chDB
 * on a temp dir of your own, which fails as soon as two test files do it.
 *
 * @example
 * ```ts
 * const storage = await openTestStorage();
 * try {
 *   await storage.insert("http_logs", rows);
 *   const features = await storage.query("SELECT * FROM view_ai_features_1h");
 * } finally {
 *   await storage.close(); // drops the test database
 * }
 * ```
 */
import { join } from "node:path";
import { tmpdir } from "node:os";
import { ChdbStorage } from "./chdb_storage.ts";
import { type MigrateOptions, runMigrations } from "./migrations.ts";
import type { Storage } from "./types.ts";

let sharedDir: string | undefined;
let counter = 0;

/** The process-wide embedded data directory for tests (created on first use). */
export function testDataDir(): string {
  if (!sharedDir) {
    sharedDir = join(tmpdir(), `ja4-storage-test-${Deno.pid}`);
    Deno.mkdirSync(sharedDir, { recursive: true });
    const dir = sharedDir;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) console.error(`cannot remove ${dir}: ${err}`);
      }
    });
  }
  return sharedDir;
}

/** Options of openTestStorage. */
export interface TestStorageOptions {
  /** Apply the migrations (default true). */
  migrate?: boolean;
  /** Passed to runMigrations (e.g. `dir` for a test's own migrations). */
  migrateOptions?: MigrateOptions;
}

/** An embedded Storage on a fresh database of the shared test directory; close() drops it. */
export async function openTestStorage(
  opts: TestStorageOptions = {},
): Promise<ChdbStorage & Storage> {
  const database = `ja4_test_${Deno.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  const storage = await ChdbStorage.open(testDataDir(), database);
  if (opts.migrate ?? true) await runMigrations(storage, opts.migrateOptions ?? {});
  const close = storage.close.bind(storage);
  storage.close = async () => {
    try {
      await storage.command(`DROP DATABASE IF EXISTS ${database} SYNC`);
    } finally {
      await close();
    }
  };
  return storage;
}
