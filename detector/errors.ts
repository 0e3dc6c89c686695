/**
 * The detector's error classes, one per boundary: a detection run against storage
 * ({@link DetectorError}) and the HTTP API ({@link ApiError}, which carries its HTTP status).
 */
import { Ja4Error } from "../lib/errors.ts";

/** A detection run could not read its inputs or write its results. */
export class DetectorError extends Ja4Error {}

/** A request to the detector API that cannot be served; `status` is the HTTP status. */
export class ApiError extends Ja4Error {
  /** HTTP status the API answers with. */
  readonly status: 400 | 401 | 404 | 409 | 413 | 415 | 503;

  constructor(
    status: ApiError["status"],
    code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.status = status;
  }
}
