/**
 * Retry with exponential backoff and full jitter for requests that failed to reach the
 * database (StorageError `UNAVAILABLE`). Errors the database returned are never retried:
 * repeating a refused statement cannot help and may repeat a side effect.
 */
import { StorageError } from "./errors.ts";

/** How often and how long to retry a connection failure. */
export interface RetryPolicy {
  /** Total attempts, including the first. */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

/** Delay before retry number `retry` (1-based): min(max, base·2^(retry-1)) scaled by `random`. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (retry - 1));
  // Full jitter spreads reconnecting clients apart; never below half so waits still grow.
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** Hooks for tests: a fake clock and random source. */
export interface RetryDeps {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (err: StorageError, retry: number, delayMs: number) => void;
}

/** Runs `fn`, retrying retryable StorageErrors per `policy`; the last error is rethrown. */
export async function withRetry<T>(
  policy: RetryPolicy,
  fn: () => Promise<T>,
  deps: RetryDeps = {},
): Promise<T> {
  const sleep = deps.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = deps.random ?? Math.random;
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof StorageError) || !err.retryable || attempt >= policy.attempts) throw err;
      const delay = backoffDelay(policy, attempt, random);
      deps.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
