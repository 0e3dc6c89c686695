/**
 * Errors at the boundaries of the apache-module component: building the module with apxs
 * and running Apache for tests and benchmarks.
 */
import { Ja4Error } from "../lib/errors.ts";

/**
 * Building mod_reqin_log or its unit tests failed. Codes: `TOOL_MISSING` (apxs/cc absent),
 * `BUILD_FAILED` (compiler output in the message).
 */
export class ApacheBuildError extends Ja4Error {}

/**
 * Apache could not be started or stopped. Codes: `NOT_INSTALLED`, `CONFIG` (apache2 -t
 * rejected the generated configuration), `START_FAILED`, `TIMEOUT`.
 */
export class ApacheRunError extends Ja4Error {}
