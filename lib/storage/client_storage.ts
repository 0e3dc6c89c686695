/**
 * Client-web adapter: `@clickhouse/client-web` against a ClickHouse server, or against an
 * embedded owner's 127.0.0.1 endpoint (lib/storage/http_endpoint.ts). Connection failures
 * are retried with backoff; an answer carrying an exception (even with HTTP 200 and an
 * `X-ClickHouse-Exception-Code` header, which client-web checks) is a `SQL` StorageError.
 */
import {
  type ClickHouseClient,
  ClickHouseError,
  createClient,
  type DataFormat,
} from "@clickhouse/client-web";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { AddressColumns, emptyAddressesAsNull } from "./address_columns.ts";
import { StorageError } from "./errors.ts";
import { type RetryPolicy, withRetry } from "./retry.ts";
import {
  badInput,
  type InsertOptions,
  insertSettingsOf,
  isPlainIdentifier,
  type Storage,
  type StorageKind,
} from "./types.ts";

/**
 * Settings sent with every request: 64-bit integers as JSON numbers (as in embedded mode), and
 * progress headers so a long query keeps the connection alive through idle-timeout proxies.
 */
const CLICKHOUSE_SETTINGS = {
  output_format_json_quote_64bit_integers: 0,
  send_progress_in_http_headers: 1,
  http_headers_progress_interval_ms: "20000",
} as const;

/** Where and how client-web connects. */
export interface ClientStorageOptions {
  url: string;
  user: string;
  password: string;
  database: string;
  retry: RetryPolicy;
  requestTimeoutMs: number;
  kind: Exclude<StorageKind, "embedded">;
  log: Logger;
  /** Replaces the global fetch (tests, or answering in-process). */
  fetch?: typeof fetch;
}

/** Maps a client-web rejection to a StorageError. */
export function fromClientError(err: unknown, what: string, where: string): StorageError {
  if (err instanceof StorageError) return err;
  if (err instanceof ClickHouseError) {
    const code = Number(err.code);
    return new StorageError("SQL", `${what}: ${err.message}`, {
      cause: err,
      clickhouseCode: Number.isFinite(code) ? code : undefined,
    });
  }
  // Anything else never got a ClickHouse answer: refused, reset, DNS, timeout, proxy error.
  return new StorageError(
    "UNAVAILABLE",
    `${what}: ClickHouse at ${where} is unreachable: ${errorMessage(err)}`,
    { cause: err },
  );
}

class ClientStorage implements Storage {
  readonly kind: Exclude<StorageKind, "embedded">;
  readonly database: string;
  readonly #client: ClickHouseClient;
  readonly #opts: ClientStorageOptions;
  readonly #where: string;
  readonly #addresses: AddressColumns;

  constructor(opts: ClientStorageOptions) {
    this.kind = opts.kind;
    this.database = opts.database;
    this.#opts = opts;
    this.#where = new URL(opts.url).origin;
    this.#addresses = new AddressColumns((sql, params) => this.query(sql, params), opts.database);
    this.#client = createClient({
      url: opts.url,
      username: opts.user,
      password: opts.password,
      database: opts.database,
      request_timeout: opts.requestTimeoutMs,
      clickhouse_settings: CLICKHOUSE_SETTINGS,
      fetch: opts.fetch,
    });
  }

  #run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(this.#opts.retry, async () => {
      try {
        return await fn();
      } catch (err) {
        throw fromClientError(err, what, this.#where);
      }
    }, {
      onRetry: (err, retry, delayMs) =>
        this.#opts.log.warn("storage request failed; retrying", {
          what,
          retry,
          delay_ms: delayMs,
          error: err.message,
        }),
    });
  }

  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
    return this.#run("query failed", async () => {
      const rs = await this.#client.query({
        query: sql,
        query_params: params,
        format: "JSONEachRow",
      });
      return await rs.json<T>();
    });
  }

  /** Result as text in any ClickHouse output format (for `ja4 sql --format`). */
  queryText(sql: string, params: Record<string, unknown> | undefined, format: string) {
    return this.#run("query failed", async () => {
      // default_format (not a FORMAT clause) so statements without a result work too.
      const rs = await this.#client.exec({
        query: sql,
        query_params: params,
        // Any ClickHouse output format name is valid here, not only client-web's parsed ones.
        clickhouse_settings: { ...CLICKHOUSE_SETTINGS, default_format: format as DataFormat },
      });
      return await new Response(rs.stream).text();
    });
  }

  command(sql: string, params?: Record<string, unknown>): Promise<void> {
    return this.#run("command failed", async () => {
      await this.#client.command({ query: sql, query_params: params });
    });
  }

  async insert(
    table: string,
    rows: readonly Record<string, unknown>[],
    options?: InsertOptions,
  ): Promise<void> {
    if (!isPlainIdentifier(table)) {
      throw new StorageError("BAD_INPUT", `table name '${table}' is not a plain identifier`);
    }
    const settings = badInput(() => insertSettingsOf(options));
    if (rows.length === 0) return;
    const values = emptyAddressesAsNull(rows, await this.#addresses.of(table));
    await this.#run(`insert into ${table} failed`, async () => {
      await this.#client.insert({
        table,
        values,
        format: "JSONEachRow",
        clickhouse_settings: settings,
      });
    });
  }

  async ping(): Promise<boolean> {
    const r = await this.#client.ping();
    return r.success;
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

/** A Storage over `@clickhouse/client-web` (server mode, or an owner's endpoint). */
export function createClientStorage(opts: ClientStorageOptions): Storage {
  if (!isPlainIdentifier(opts.database)) {
    throw new StorageError("BAD_INPUT", `database name '${opts.database}' is not an identifier`);
  }
  return new ClientStorage(opts);
}

/**
 * Creates the platform database on a server when it is missing: requests name the database,
 * so the first one must go to `default`.
 */
export async function ensureServerDatabase(opts: ClientStorageOptions): Promise<void> {
  const bootstrap = createClientStorage({ ...opts, database: "default" });
  try {
    await bootstrap.command(`CREATE DATABASE IF NOT EXISTS ${opts.database}`);
  } finally {
    await bootstrap.close();
  }
}
