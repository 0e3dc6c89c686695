/**
 * The storage boundary's error. `code` is `UNAVAILABLE` when the database could not be reached
 * (retryable), `SQL` when it answered with an exception (`clickhouseCode` carries ClickHouse's
 * numeric code), `BAD_INPUT` for a call the storage layer refuses before sending anything,
 * `MIGRATION` for schema-history problems, `CLOSED` after close().
 */
import { Ja4Error } from "../errors.ts";

/** The codes a StorageError carries. */
export type StorageErrorCode = "UNAVAILABLE" | "SQL" | "BAD_INPUT" | "MIGRATION" | "CLOSED";

/** An error at the storage boundary; see the module comment for the codes. */
export class StorageError extends Ja4Error {
  /** ClickHouse's error code (e.g. 47 UNKNOWN_IDENTIFIER) when the database refused. */
  readonly clickhouseCode?: number;

  constructor(
    code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown; clickhouseCode?: number },
  ) {
    super(code, message, options);
    this.clickhouseCode = options?.clickhouseCode;
  }

  /** True when retrying the same request later may succeed. */
  get retryable(): boolean {
    return this.code === "UNAVAILABLE";
  }
}

/** Extracts ClickHouse's code from an exception text like `Code: 47. DB::Exception: …`. */
export function clickhouseCodeOf(text: string): number | undefined {
  const m = /Code:\s*(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}
