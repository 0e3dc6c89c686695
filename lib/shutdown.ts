/**
 * Graceful shutdown. The first SIGINT/SIGTERM aborts `signal` (components stop taking new
 * input), then the registered flush hooks run, newest first, within `timeoutMs`; when they
 * finish the process exits with `exitCode`. A hook that overruns the bound, or a second
 * signal, exits at once (code 130 for a second signal, 1 for the timeout).
 *
 * @example
 * ```ts
 * const shutdown = createShutdown({ timeoutMs: 10_000, log });
 * shutdown.onShutdown("flush queue", () => queue.flush());
 * await serve({ signal: shutdown.signal });
 * ```
 */
import type { Logger } from "./log.ts";

export interface ShutdownOptions {
  /** Bound on all flush hooks together. */
  timeoutMs: number;
  log: Logger;
  /** Signals to handle; SIGINT and SIGTERM by default. */
  signals?: Deno.Signal[];
  /** Process exit, injectable for tests. */
  exit?: (code: number) => void;
}

export interface Shutdown {
  /** Aborted as soon as shutdown begins. */
  readonly signal: AbortSignal;
  /** Registers a flush step; steps run in reverse order of registration. */
  onShutdown(name: string, hook: () => Promise<void> | void): void;
  /** Starts shutdown as a signal would (for commands that end on their own). */
  trigger(reason: string, exitCode?: number): Promise<void>;
  /** Removes the signal listeners (when a command ends normally). */
  dispose(): void;
}

export function createShutdown(options: ShutdownOptions): Shutdown {
  const { log, timeoutMs } = options;
  const exit = options.exit ?? ((code: number) => Deno.exit(code));
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  const controller = new AbortController();
  const hooks: { name: string; hook: () => Promise<void> | void }[] = [];
  let running: Promise<void> | undefined;

  const runHooks = async (reason: string, exitCode: number) => {
    controller.abort(new Error(reason));
    log.info("shutting down", { reason, hooks: hooks.length, timeout_ms: timeoutMs });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const work = (async () => {
      for (const { name, hook } of [...hooks].reverse()) {
        try {
          await hook();
        } catch (err) {
          exitCode = exitCode || 1;
          log.error("shutdown step failed", { step: name, error: (err as Error).message });
        }
      }
      return "done" as const;
    })();
    const outcome = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      log.error("shutdown did not finish in time; exiting now", { timeout_ms: timeoutMs });
      exit(1);
      return;
    }
    log.info("stopped");
    exit(exitCode);
  };

  const onSignal = (sig: Deno.Signal) => () => {
    if (running) {
      log.warn("second signal: exiting now", { signal: sig });
      exit(130);
      return;
    }
    running = runHooks(sig, 0);
  };
  const listeners = signals.map((sig) => [sig, onSignal(sig)] as const);
  for (const [sig, fn] of listeners) Deno.addSignalListener(sig, fn);

  return {
    signal: controller.signal,
    onShutdown(name, hook) {
      hooks.push({ name, hook });
    },
    trigger(reason, exitCode = 0) {
      running ??= runHooks(reason, exitCode);
      return running;
    },
    dispose() {
      for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
    },
  };
}
