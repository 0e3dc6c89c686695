/**
 * The ClickHouse sink: batches go to `http_logs` and `tls_handshakes`; when ClickHouse is
 * unreachable they go to the on-disk spool and are replayed, oldest first, when it returns.
 *
 * Order: batches reach ClickHouse in creation order. The spool is only ever filled from the
 * head of the in-memory queue, so everything spooled is older than everything queued, and the
 * queue is inserted directly only while the spool is empty.
 *
 * No duplicates: every insert carries `insert_deduplication_token = <batch id>.<table>`, the
 * same on every attempt, so a replay of a batch that ClickHouse did take before the failure
 * (an answer lost in a timeout, a crash between insert and spool removal) is dropped by
 * ClickHouse. That needs `non_replicated_deduplication_window` on a MergeTree table
 * (Replicated* tables deduplicate by default); {@link checkDeduplication} reports it.
 *
 * Memory: the queue holds at most `maxQueueRows` rows; beyond that, batches go to the spool
 * even while ClickHouse is up (disk is the overflow).
 */
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { rateLimited } from "../lib/log.ts";
import { StorageError } from "../lib/storage/errors.ts";
import type { Storage } from "../lib/storage/types.ts";
import { type Batch, type Payload, payloadOf, payloadRows } from "./batch.ts";
import { TABLES } from "./rows.ts";
import type { Sink } from "./sink.ts";
import type { Spool } from "./spool.ts";

/** ClickHouse codes that mean "not there yet" (run migrations), worth retrying: 60, 81. */
const RETRYABLE_SQL_CODES = new Set([60, 81]);
/** Attempts before a batch ClickHouse keeps refusing is moved to `rejected/`. */
const MAX_REFUSALS = 3;

/** Options of {@link ClickHouseSink}. */
export interface ClickHouseSinkOptions {
  /** Returns the storage handle; called again after a failure to reconnect. */
  connect: () => Promise<Storage>;
  spool: Spool;
  retryMs: number;
  maxQueueRows: number;
  log: Logger;
  /**
   * At close, how long to wait for ClickHouse before putting what is still queued (and the
   * insert in flight) into the spool instead; 3 s by default (the service passes 60% of
   * `shutdown.timeout_ms`).
   */
  closeGraceMs?: number;
}

/** Counters of the ClickHouse sink. */
export type ClickHouseSinkStats = {
  inserted_rows: number;
  inserted_batches: number;
  spooled_batches: number;
  replayed_batches: number;
  rejected_batches: number;
  /** Rows lost because the spool was full or the disk refused. */
  dropped_rows: number;
  insert_failures: number;
  queue_rows: number;
  spool_batches: number;
  spool_bytes: number;
  healthy: number;
};

/** Whether a failed insert may succeed later (connection lost, database or table missing). */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof StorageError)) return true;
  if (err.code === "UNAVAILABLE" || err.code === "CLOSED") return true;
  return err.code === "SQL" && err.clickhouseCode !== undefined &&
    RETRYABLE_SQL_CODES.has(err.clickhouseCode);
}

/** The INSERT statement of one table of a batch, with its data inline and its dedup token. */
export function insertStatement(
  database: string,
  table: string,
  token: string,
  text: string,
): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(token)) throw new Error(`unsafe dedup token ${token}`);
  return `INSERT INTO ${database}.${table} SETTINGS insert_deduplication_token = '${token}' ` +
    `FORMAT JSONEachRow\n${text}`;
}

/**
 * Whether the target tables deduplicate token-carrying inserts; returns the tables that do not
 * (so the caller can warn that a replay after an ambiguous failure could duplicate rows).
 */
export async function checkDeduplication(storage: Storage): Promise<string[]> {
  const rows = await storage.query<{ name: string; engine: string; engine_full: string }>(
    "SELECT name, engine, engine_full FROM system.tables WHERE database = {db:String} AND name IN {t:Array(String)}",
    { db: storage.database, t: [...TABLES] },
  );
  return TABLES.filter((t) => {
    const r = rows.find((x) => x.name === t);
    if (!r) return true;
    if (r.engine.startsWith("Replicated") || r.engine === "Distributed") return false;
    return !/non_replicated_deduplication_window\s*=\s*[1-9]/.test(r.engine_full);
  });
}

/** The ClickHouse sink with its spool; see the module comment for order, dedup and memory. */
export class ClickHouseSink implements Sink {
  readonly name = "clickhouse";
  readonly #opt: ClickHouseSinkOptions;
  readonly #warn: ReturnType<typeof rateLimited>;
  #storage: Storage | undefined;
  #queue: Batch[] = [];
  #queueRows = 0;
  #healthy = true;
  #nextRetryMs = 0;
  #refusals = new Map<string, number>();
  #running: Promise<void> | undefined;
  #pumping: Promise<void> | undefined;
  /** The batch whose insert is awaiting ClickHouse's answer. */
  #inflight: Payload | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopping = false;
  #s = {
    inserted_rows: 0,
    inserted_batches: 0,
    spooled_batches: 0,
    replayed_batches: 0,
    rejected_batches: 0,
    dropped_rows: 0,
    insert_failures: 0,
  };

  constructor(options: ClickHouseSinkOptions) {
    this.#opt = options;
    this.#warn = rateLimited(options.log, 10_000);
  }

  stats(): ClickHouseSinkStats {
    return {
      ...this.#s,
      queue_rows: this.#queueRows,
      spool_batches: this.#opt.spool.count,
      spool_bytes: this.#opt.spool.bytes,
      healthy: this.#healthy ? 1 : 0,
    };
  }

  /** Starts replaying what an earlier run left in the spool. */
  start(): void {
    if (this.#opt.spool.count > 0) {
      this.#opt.log.info("replaying spool from an earlier run", { batches: this.#opt.spool.count });
      this.#kick();
    }
  }

  write(batch: Batch): void {
    this.#queue.push(batch);
    this.#queueRows += batch.count;
    // An insert that takes long (a slow or hung server) must not let the queue grow: the
    // oldest queued batches go to the spool meanwhile. They are newer than the insert in
    // flight and older than the rest of the queue, so the order still holds.
    if (this.#queueRows > this.#opt.maxQueueRows && this.#running) {
      void this.#overflow(this.#opt.maxQueueRows);
    }
    this.#kick();
  }

  /** Waits until every queued batch is in ClickHouse or in the spool; tries the spool once. */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
    if (this.#queue.length || (this.#opt.spool.count && this.#healthy)) {
      this.#kick();
      while (this.#running) await this.#running;
    }
  }

  async close(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      this.flush().then(() => true),
      new Promise<false>((
        r,
      ) => (graceTimer = setTimeout(() => r(false), this.#opt.closeGraceMs ?? 3000))),
    ]);
    clearTimeout(graceTimer);
    if (!finished) {
      // ClickHouse does not answer: keep everything on disk. The batch in flight goes too;
      // if it did land, its dedup token makes the replay a no-op.
      this.#opt.log.warn("clickhouse did not answer at shutdown; spooling what is left", {
        queued_rows: this.#queueRows,
        in_flight: this.#inflight?.id,
      });
      if (this.#inflight) await this.#toSpool(this.#inflight);
      await this.#overflow(-1);
    }
    clearTimeout(this.#timer);
    await this.#storage?.close().catch((err) =>
      this.#opt.log.warn("closing storage failed", { error: errorMessage(err) })
    );
    this.#storage = undefined;
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = this.#loop()
      .catch((err) =>
        this.#opt.log.error("clickhouse sink loop failed", { error: errorMessage(err) })
      )
      .finally(() => {
        this.#running = undefined;
      });
  }

  async #loop(): Promise<void> {
    const spool = this.#opt.spool;
    while (true) {
      if (this.#queue.length && (!this.#healthy || this.#queueRows > this.#opt.maxQueueRows)) {
        await this.#toSpool(payloadOf(this.#shift()));
        continue;
      }
      if (spool.count > 0) {
        if (this.#healthy || Date.now() >= this.#nextRetryMs) {
          await this.#replayOldest();
          continue;
        }
        if (!this.#stopping) this.#armRetry();
        return;
      }
      if (this.#queue.length) {
        const b = payloadOf(this.#shift());
        if (!(await this.#insert(b))) await this.#toSpool(b);
        continue;
      }
      return;
    }
  }

  /** Moves queued batches, oldest first, to the spool until at most `limit` rows are queued. */
  #overflow(limit: number): Promise<void> {
    const run = async () => {
      while (this.#queue.length && this.#queueRows > limit) {
        await this.#toSpool(payloadOf(this.#shift()));
      }
    };
    const next = (this.#pumping ?? Promise.resolve()).then(run);
    const mine = next.finally(() => {
      if (this.#pumping === mine) this.#pumping = undefined;
    });
    this.#pumping = mine;
    return mine;
  }

  #shift(): Batch {
    const b = this.#queue.shift()!;
    this.#queueRows -= b.count;
    return b;
  }

  #armRetry(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#kick(), Math.max(0, this.#nextRetryMs - Date.now()));
  }

  #markDown(err: unknown): void {
    this.#s.insert_failures++;
    if (this.#healthy) {
      const missing = err instanceof StorageError && err.code === "SQL";
      this.#opt.log.warn("clickhouse unavailable; spooling batches to disk", {
        error: errorMessage(err),
        spool: this.#opt.spool.dir,
        // A missing table or database is a schema not yet applied, not an outage.
        ...(missing
          ? {
            hint: "apply the schema: 'ja4 migrate' with the same storage settings (an embedded " +
              "data directory this process opened itself must be released first), or run " +
              "'ja4 start', which migrates before it starts the correlator",
          }
          : {}),
      });
    }
    this.#healthy = false;
    this.#nextRetryMs = Date.now() + this.#opt.retryMs;
    // A broken handle is reopened on the next attempt.
    const s = this.#storage;
    this.#storage = undefined;
    s?.close().catch(() => {
      // Closing a handle that already failed is best effort; the next attempt opens a new one.
    });
  }

  /** Inserts both tables; false when ClickHouse failed (the batch must be spooled). */
  async #insert(batch: Payload): Promise<boolean> {
    this.#inflight = batch;
    try {
      return await this.#insertOnce(batch);
    } finally {
      this.#inflight = undefined;
    }
  }

  async #insertOnce(batch: Payload): Promise<boolean> {
    try {
      this.#storage ??= await this.#opt.connect();
      for (const table of TABLES) {
        if (batch.text[table] === "") continue;
        const token = `${batch.id}.${table}`;
        if (this.#storage.kind === "embedded") {
          // chDB in this process: storage.insert sends a Native block, which the engine reads
          // at well under half of JSONEachRow's CPU per row; parsing the lines back costs less
          // than the difference. Same rows stored, same deduplication token.
          await this.#storage.insert(table, payloadRows(batch, table), {
            deduplicationToken: token,
          });
        } else {
          await this.#storage.command(
            insertStatement(this.#storage.database, table, token, batch.text[table]),
          );
        }
      }
    } catch (err) {
      if (isRetryable(err)) {
        this.#markDown(err);
        return false;
      }
      const n = (this.#refusals.get(batch.id) ?? 0) + 1;
      this.#refusals.set(batch.id, n);
      this.#s.insert_failures++;
      this.#warn("error", "clickhouse refused a batch", {
        batch: batch.id,
        attempt: n,
        error: errorMessage(err),
      });
      // Treated like an outage for pacing, so a refused batch is not retried in a tight loop.
      this.#nextRetryMs = Date.now() + this.#opt.retryMs;
      this.#healthy = false;
      return false;
    }
    if (!this.#healthy) {
      this.#opt.log.info("clickhouse is back", { spool_batches: this.#opt.spool.count });
    }
    this.#healthy = true;
    this.#refusals.delete(batch.id);
    this.#s.inserted_rows += batch.count;
    this.#s.inserted_batches++;
    return true;
  }

  async #toSpool(batch: Payload): Promise<void> {
    try {
      if (await this.#opt.spool.append(batch)) {
        this.#s.spooled_batches++;
        return;
      }
      this.#warn("error", "spool is full: batch dropped", {
        rows: batch.count,
        spool_bytes: this.#opt.spool.bytes,
      });
    } catch (err) {
      this.#warn("error", "spool write failed: batch dropped", {
        rows: batch.count,
        error: errorMessage(err),
      });
    }
    this.#s.dropped_rows += batch.count;
  }

  async #replayOldest(): Promise<void> {
    const spool = this.#opt.spool;
    const name = spool.oldest()!;
    let batch: Payload;
    try {
      batch = await spool.read(name);
    } catch (err) {
      // Corrupt files are moved aside by the spool; an unreadable one is retried later.
      if (spool.oldest() === name) {
        this.#markDown(err);
      }
      return;
    }
    if (await this.#insert(batch)) {
      await spool.remove(name);
      this.#s.replayed_batches++;
      return;
    }
    if ((this.#refusals.get(batch.id) ?? 0) >= MAX_REFUSALS) {
      await spool.reject(name);
      this.#refusals.delete(batch.id);
      this.#s.rejected_batches++;
      this.#opt.log.error("batch refused by clickhouse; moved to the spool's rejected/ folder", {
        batch: batch.id,
        rows: batch.count,
      });
    }
  }
}
