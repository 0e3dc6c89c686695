/**
 * Runs `ja4 capture` as a child process the way an operator would (the real deno binary,
 * main.ts, flags), waits until it captures, and stops it with SIGTERM so that the graceful
 * shutdown (flush) is part of what the tests check.
 *
 * @example
 * ```ts
 * const cap = await startCaptureProcess(["--interface", "lo", "--output", file]);
 * // … traffic …
 * const { code, stderr } = await cap.stop();
 * ```
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A running capture process. */
export interface CaptureProcess {
  /** stderr so far (the log). */
  log(): string;
  /** SIGTERM, then waits for the exit; returns the code and the whole log. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Spawns `deno run -A main.ts capture ARGS` and resolves once it logged "capture started". */
export async function startCaptureProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<CaptureProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", MAIN, "capture", "--log-format", "json", ...args],
    stdout: "null",
    stderr: "piped",
    env,
  }).spawn();
  let stderr = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      stderr += value;
    }
  })();
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('"capture started"')) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      child.status,
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 50))),
    ]);
    clearTimeout(timer);
    if (status !== undefined) {
      await pump;
      throw new Error(`capture exited with ${status.code} before starting:\n${stderr}`);
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.status;
      await pump;
      throw new Error(`capture did not start within 60 s:\n${stderr}`);
    }
  }
  let stopped: Promise<{ code: number; stderr: string }> | undefined;
  return {
    log: () => stderr,
    stop() {
      stopped ??= (async () => {
        child.kill("SIGTERM");
        const status = await child.status;
        await pump;
        return { code: status.code, stderr };
      })();
      return stopped;
    },
  };
}

/** Reads an NDJSON file (missing file: no lines). */
export async function readNdjson<T = Record<string, unknown>>(path: string): Promise<T[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as T);
}

/** Polls `cond` every 50 ms until it holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
