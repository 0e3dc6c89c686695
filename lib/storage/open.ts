/**
 * openStorage: the one way components reach ClickHouse. `storage.mode = server` → client-web
 * to `storage.url`. `storage.mode = embedded` → the owner's endpoint when another process
 * owns `data_dir` (it advertises itself in the data directory), the owner's own handle when
 * this process is the owner (`ja4 start`), else chDB in-process.
 */
import { resolve } from "node:path";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { ChdbStorage } from "./chdb_storage.ts";
import {
  type ClientStorageOptions,
  createClientStorage,
  ensureServerDatabase,
} from "./client_storage.ts";
import { handleClickHouseHttp } from "./http_protocol.ts";
import { readEndpointInfo } from "./http_endpoint.ts";
import type { RetryPolicy } from "./retry.ts";
import type { Storage } from "./types.ts";

/** Retry settings from the configuration. */
export function retryPolicy(config: Config): RetryPolicy {
  return {
    attempts: config.int("storage.retry_attempts"),
    baseMs: config.int("storage.retry_base_ms"),
    maxMs: config.int("storage.retry_max_ms"),
  };
}

/** The embedded database this process owns (set by the storage service of `ja4 start`). */
let inProcessOwner: ChdbStorage | undefined;

/**
 * Declares (or clears) the embedded database this process owns, so openStorage in the same
 * process (the other services of `ja4 start`) shares it instead of going through HTTP.
 */
export function setInProcessOwner(db: ChdbStorage | undefined): void {
  inProcessOwner = db;
}

/** A handle on a shared Storage whose close() leaves the owner's connection open. */
function borrowed(owner: ChdbStorage): Storage {
  return {
    kind: owner.kind,
    database: owner.database,
    query: (sql, params) => owner.query(sql, params),
    command: (sql, params) => owner.command(sql, params),
    insert: (table, rows, options) => owner.insert(table, rows, options),
    ping: () => owner.ping(),
    close: () => Promise.resolve(),
    // Kept for `ja4 sql --format` style callers.
    queryText: (sql: string, params: Record<string, unknown> | undefined, format: string) =>
      owner.queryText(sql, params, format),
  } as Storage;
}

/**
 * Opens the platform's storage as configured.
 *
 * @example
 * ```ts
 * const storage = await openStorage(ctx.config, ctx.log);
 * const rows = await storage.query("SELECT count() AS n FROM http_logs WHERE src_ip = {ip:IPv6}", { ip });
 * await storage.close();
 * ```
 */
export async function openStorage(config: Config, log: Logger): Promise<Storage> {
  const database = config.string("storage.database");
  const common = {
    database,
    retry: retryPolicy(config),
    requestTimeoutMs: config.int("storage.request_timeout_ms"),
    log: log.child({ component: "storage" }),
  };
  if (config.string("storage.mode") === "server") {
    const opts: ClientStorageOptions = {
      ...common,
      url: config.string("storage.url"),
      user: config.string("storage.user"),
      password: config.string("storage.password"),
      kind: "server",
    };
    await ensureServerDatabase(opts);
    return createClientStorage(opts);
  }
  const dataDir = config.string("data_dir");
  if (
    inProcessOwner && resolve(inProcessOwner.dataDir) === resolve(dataDir) &&
    inProcessOwner.database === database
  ) {
    return borrowed(inProcessOwner);
  }
  const owner = await readEndpointInfo(dataDir);
  // A file left by a dead owner may point at a port some other program now answers on.
  if (owner && processAlive(owner.pid)) {
    const viaOwner = createClientStorage({
      ...common,
      url: owner.url,
      user: "default",
      password: owner.token,
      kind: "endpoint",
    });
    if (await viaOwner.ping()) {
      log.debug("using the data directory owner's endpoint", { url: owner.url, pid: owner.pid });
      return viaOwner;
    }
    await viaOwner.close();
    log.warn("stale storage endpoint file; opening the data directory directly", {
      url: owner.url,
      pid: owner.pid,
    });
  }
  return await ChdbStorage.open(dataDir, database);
}

/** Whether a process id is alive (Linux /proc); true where that cannot be told. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return !existsProc();
    throw err;
  }
}

function existsProc(): boolean {
  try {
    Deno.statSync("/proc/self");
    return true;
  } catch {
    return false; // no procfs (not Linux): liveness unknown, the ping decides
  }
}

/**
 * The client-web code path answered in-process by chDB: client-web's `fetch` is the
 * endpoint's handler, no socket involved. Used to compare against the direct adapter (bench)
 * and to test the protocol handler without a port.
 */
export function clientWebOverChdb(db: ChdbStorage, log: Logger): Storage {
  const handler: typeof fetch = (input, init) => handleClickHouseHttp(new Request(input, init), db);
  return createClientStorage({
    url: "http://embedded.chdb.invalid:8123",
    user: "default",
    password: "",
    database: db.database,
    retry: { attempts: 1, baseMs: 1, maxMs: 1 },
    requestTimeoutMs: 3_600_000,
    kind: "endpoint",
    log,
    fetch: handler,
  });
}
