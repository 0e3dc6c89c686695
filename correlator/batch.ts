/**
 * Rows grouped into batches, cut by row count or by age, each with an id that is unique
 * across restarts and sorts in creation order (the spool replays by it, and ClickHouse
 * deduplicates replays by it).
 *
 * @example
 * ```ts
 * const b = new Batcher({ maxRows: 10_000, maxAgeMs: 1000, idPrefix: newBatchPrefix() });
 * const full = b.add("http_logs", row, Date.now()); // a Batch when it reached maxRows
 * const old = b.poll(Date.now());                   // a Batch when its first row is old enough
 * ```
 */
import { type Row, type TableName, TABLES } from "./rows.ts";

/**
 * A batch of rows for both tables, each row already serialized: a row object dies young (cheap
 * for the garbage collector) instead of living in the batch until it is written.
 */
export interface Batch {
  /** Unique, sortable id: `<process prefix>-<sequence>`. */
  id: string;
  /** One JSON object per row, without newline. */
  lines: Record<TableName, string[]>;
  /** Total rows across tables. */
  count: number;
}

/** A prefix unique to this process start that sorts after every earlier start's. */
export function newBatchPrefix(nowMs = Date.now(), random = Math.random): string {
  const rand = Math.floor(random() * 36 ** 4).toString(36).padStart(4, "0");
  return `${String(nowMs).padStart(14, "0")}${rand}`;
}

/** A batch with no rows and the given id. */
export function emptyBatch(id: string): Batch {
  return { id, lines: { http_logs: [], tls_handshakes: [] }, count: 0 };
}

/** The rows of one table as JSONEachRow text. */
export function batchText(batch: Batch, table: TableName): string {
  const lines = batch.lines[table];
  return lines.length ? lines.join("\n") + "\n" : "";
}

/** The rows of one table as objects again (tests, tools). */
export function batchRows(batch: Batch, table: TableName): Row[] {
  return batch.lines[table].map((l) => JSON.parse(l) as Row);
}

/** The rows of a payload's JSONEachRow text as objects again (the embedded insert). */
export function payloadRows(payload: Payload, table: TableName): Row[] {
  const text = payload.text[table];
  const rows: Row[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    if (end > start) rows.push(JSON.parse(text.slice(start, end)) as Row);
    start = end + 1;
  }
  return rows;
}

/** A batch as the ClickHouse sink and the spool need it: JSONEachRow text per table. */
export interface Payload {
  id: string;
  count: number;
  text: Record<TableName, string>;
}

/** The payload of a batch (texts computed once). */
export function payloadOf(batch: Batch): Payload {
  return {
    id: batch.id,
    count: batch.count,
    text: {
      http_logs: batchText(batch, "http_logs"),
      tls_handshakes: batchText(batch, "tls_handshakes"),
    },
  };
}

/** The batch as tagged JSON lines (`{"table":"http_logs",…}`) for the file and stdout sinks. */
export function taggedLines(batch: Batch): string {
  let out = "";
  for (const table of TABLES) {
    const prefix = `{"table":"${table}",`;
    // Each row is a non-empty JSON object, so the tag goes right after its opening brace.
    for (const line of batch.lines[table]) out += prefix + line.slice(1) + "\n";
  }
  return out;
}

/** Options of {@link Batcher}: cut at `maxRows` rows or when the first row is `maxAgeMs` old. */
export interface BatcherOptions {
  maxRows: number;
  maxAgeMs: number;
  idPrefix: string;
}

/** Accumulates rows and cuts batches; pure apart from the clock values passed in. */
export class Batcher {
  readonly #opt: BatcherOptions;
  #seq = 0;
  #current: Batch;
  #firstMs = 0;

  constructor(options: BatcherOptions) {
    this.#opt = options;
    this.#current = this.#fresh();
  }

  /** Rows waiting in the open batch. */
  get pending(): number {
    return this.#current.count;
  }

  /** Adds a row; returns the batch when this row filled it. */
  add(table: TableName, row: Row, nowMs: number): Batch | undefined {
    if (this.#current.count === 0) this.#firstMs = nowMs;
    this.#current.lines[table].push(JSON.stringify(row));
    this.#current.count++;
    return this.#current.count >= this.#opt.maxRows ? this.take() : undefined;
  }

  /** Returns the open batch when its first row has waited `maxAgeMs`. */
  poll(nowMs: number): Batch | undefined {
    if (this.#current.count > 0 && nowMs - this.#firstMs >= this.#opt.maxAgeMs) return this.take();
    return undefined;
  }

  /** Cuts the open batch now (undefined when it is empty). */
  take(): Batch | undefined {
    if (this.#current.count === 0) return undefined;
    const b = this.#current;
    this.#current = this.#fresh();
    return b;
  }

  #fresh(): Batch {
    return emptyBatch(`${this.#opt.idPrefix}-${String(this.#seq++).padStart(10, "0")}`);
  }
}
