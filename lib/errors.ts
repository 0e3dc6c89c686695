/**
 * One error class per boundary, each with a stable `code` a caller can branch on and
 * a message a user can act on. Inside engines, bad input is counted and skipped; these
 * errors are for the edges (CLI, config, files, sockets, SQL, HTTP).
 *
 * @example
 * ```ts
 * throw new ConfigError("BAD_VALUE", "log.level: 'loud' is not one of debug, info, warn, error");
 * ```
 */
export class Ja4Error extends Error {
  /** Stable machine-readable code, e.g. `BAD_VALUE`, `NOT_FOUND`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad command line: unknown command or flag, missing argument. The CLI exits with code 2. */
export class UsageError extends Ja4Error {}

/** A configuration value (file, environment or flag) that fails validation. */
export class ConfigError extends Ja4Error {}

/** Renders any thrown value as one line for a log or a terminal. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
