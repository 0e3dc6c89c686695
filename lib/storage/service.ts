/**
 * The storage service of `ja4 start`: owns the embedded chDB data directory, applies the
 * migrations, and serves the ClickHouse HTTP protocol on 127.0.0.1 for the platform's other
 * processes. In server mode it only applies the migrations (the server serves itself).
 */
import type { ServiceStarter } from "../service.ts";
import { ChdbStorage } from "./chdb_storage.ts";
import { StorageError } from "./errors.ts";
import { randomToken, readEndpointInfo, serveEndpoint } from "./http_endpoint.ts";
import { runMigrations } from "./migrations.ts";
import { createClientStorage } from "./client_storage.ts";
import { openStorage, processAlive, retryPolicy, setInProcessOwner } from "./open.ts";

/** Starts the storage service; see the module comment. */
export const storageService: ServiceStarter = async (ctx) => {
  const { config, log } = ctx;
  const ttlDays = config.int("storage.ttl_days");
  const cluster = config.string("storage.cluster");
  if (config.string("storage.mode") === "server") {
    const storage = await openStorage(config, log);
    try {
      await runMigrations(storage, { cluster, ttlDays, log });
    } finally {
      await storage.close();
    }
    return {
      name: "storage",
      where: [`ClickHouse server ${config.string("storage.url")}`],
      stop: async () => {},
    };
  }
  const dataDir = config.string("data_dir");
  const existing = await readEndpointInfo(dataDir);
  if (existing && processAlive(existing.pid)) {
    const probe = createClientStorage({
      url: existing.url,
      user: "default",
      password: existing.token,
      database: config.string("storage.database"),
      retry: { ...retryPolicy(config), attempts: 1 },
      requestTimeoutMs: 2_000,
      kind: "endpoint",
      log,
    });
    const alive = await probe.ping();
    await probe.close();
    if (alive) {
      throw new StorageError(
        "UNAVAILABLE",
        `data directory ${dataDir} is already owned by process ${existing.pid} (${existing.url}); ` +
          `stop it first or use another --data-dir`,
      );
    }
  }
  const db = await ChdbStorage.open(dataDir, config.string("storage.database"));
  try {
    const result = await runMigrations(db, { cluster: "", ttlDays, log });
    if (result.applied.length > 0) log.info("schema migrated", { applied: result.applied.length });
    setInProcessOwner(db);
    const endpoint = await serveEndpoint(db, {
      port: config.int("storage.http_port"),
      token: config.string("storage.http_token") || randomToken(),
      log,
    });
    return {
      name: "storage",
      where: [
        `ClickHouse HTTP ${endpoint.url} (token in ${dataDir}/storage-endpoint.json)`,
        `chDB ${dataDir}`,
      ],
      async stop() {
        await endpoint.stop();
        setInProcessOwner(undefined);
        await db.close();
      },
    };
  } catch (err) {
    setInProcessOwner(undefined);
    await db.close();
    throw err;
  }
};
