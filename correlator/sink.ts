/**
 * Where batches go. A sink takes batches in order; `write` must not block the intake (a sink
 * queues internally and reports its depth in `stats`), `flush` waits until everything written
 * so far is stored, `close` flushes and releases resources.
 */
import type { Batch } from "./batch.ts";

/** A destination of batches (ClickHouse, JSONL file, stdout). */
export interface Sink {
  readonly name: string;
  write(batch: Batch): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Counters and gauges, by metric name (without the `ja4_correlator_` prefix). */
  stats(): Record<string, number>;
}
