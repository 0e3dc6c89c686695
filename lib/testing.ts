/**
 * Assertions for the test suite (Deno's std is on JSR, which these machines cannot reach).
 * Thin wrappers over node:assert with messages that show both sides.
 */
import nodeAssert from "node:assert/strict";

export function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg);
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  nodeAssert.match(actual, re, msg);
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E> = new (...args: any[]) => E;

/** Checks a caught value against the expected class and message; returns it typed. */
function expectError<E extends Error>(err: unknown, cls: ErrorClass<E>, msgIncludes?: string): E {
  if (!(err instanceof cls)) {
    throw new Error(`expected ${cls.name}, got ${(err as Error)?.name}: ${err}`);
  }
  if (msgIncludes && !err.message.includes(msgIncludes)) {
    throw new Error(`expected message to include '${msgIncludes}', got '${err.message}'`);
  }
  return err;
}

/** Asserts that `fn` throws an instance of `cls` and returns the error for further checks. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  cls: ErrorClass<E>,
  msgIncludes?: string,
): E {
  try {
    fn();
  } catch (err) {
    return expectError(err, cls, msgIncludes);
  }
  throw new Error(`expected ${cls.name} to be thrown, nothing was`);
}

/** Async form of {@link assertThrows}. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  cls: ErrorClass<E>,
  msgIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    return expectError(err, cls, msgIncludes);
  }
  throw new Error(`expected ${cls.name} to be rejected, it resolved`);
}
