/**
 * lib/storage: the platform's ClickHouse. Embedded chDB by default (one process owns the data
 * directory and serves the others over the ClickHouse HTTP protocol on 127.0.0.1), or a
 * ClickHouse server/cluster through `@clickhouse/client-web`.
 *
 * @example
 * ```ts
 * import { openStorage } from "../lib/storage/mod.ts";
 * const storage = await openStorage(ctx.config, ctx.log);
 * await storage.insert("http_logs", rows);
 * const top = await storage.query<{ ja4: string; n: number }>(
 *   "SELECT ja4, count() AS n FROM http_logs WHERE ts >= {since:DateTime64(6)} GROUP BY ja4",
 *   { since: "2026-01-01 00:00:00" },
 * );
 * ```
 */
export type { InsertOptions, Storage, StorageKind } from "./types.ts";
export { StorageError, type StorageErrorCode } from "./errors.ts";
export { clientWebOverChdb, openStorage } from "./open.ts";
export { ChdbStorage } from "./chdb_storage.ts";
export {
  type MigrateOptions,
  type MigrateResult,
  MIGRATIONS_DIR,
  type MigrationState,
  migrationStatus,
  runMigrations,
} from "./migrations.ts";
export { type RunningEndpoint, serveEndpoint } from "./http_endpoint.ts";
export { migrateCommand, sqlCommand } from "./commands.ts";
export { storageService } from "./service.ts";
export { STORAGE_CONFIG_KEYS } from "./config.ts";
