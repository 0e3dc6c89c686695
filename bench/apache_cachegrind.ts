/**
 * What mod_reqin_log costs Apache per request, counted rather than timed: instructions and
 * L1 cache misses under valgrind's cachegrind, which do not depend on what else the machine
 * runs (wall and CPU time on a shared 2-core machine do).
 *
 * Apache runs as one process (`-X`) under cachegrind; `ab` sends N keep-alive requests on one
 * connection. Startup and shutdown cost the same whatever N, so two runs (N small and N large)
 * per configuration give the per-request figures as the difference divided by the extra
 * requests. Used by bench/apache.ts.
 */
import { Ja4Error } from "../lib/errors.ts";
import { type ApacheOptions, startApache } from "../tests/helpers/apache.ts";

/** Per-request counts of one configuration. */
export interface CachegrindCounts {
  /** Instructions executed (cachegrind's Ir). */
  instructions: number;
  /** L1 instruction-cache misses (I1mr). */
  l1iMisses: number;
  /** L1 data-cache read misses (D1mr). */
  l1dReadMisses: number;
  /** L1 data-cache write misses (D1mw). */
  l1dWriteMisses: number;
}

/**
 * The counts could not be taken. Codes: `TOOL_MISSING` (valgrind or ab), `RUN_FAILED`,
 * `BAD_OUTPUT` (cachegrind's file is not as expected).
 */
export class CachegrindError extends Ja4Error {}

/** cachegrind's "summary:" line in the order of its "events:" line, by event name. */
export function parseCachegrindSummary(text: string): Map<string, number> {
  const events = text.match(/^events: (.*)$/m)?.[1].trim().split(/\s+/);
  const summary = text.match(/^summary: (.*)$/m)?.[1].trim().split(/\s+/).map(Number);
  if (!events || !summary || events.length !== summary.length) {
    throw new CachegrindError(
      "BAD_OUTPUT",
      "cachegrind output without matching events/summary lines",
    );
  }
  return new Map(events.map((e, i) => [e, summary[i]]));
}

/** (large − small) / (nLarge − nSmall) for each event: the cost of one more request. */
export function perRequest(
  small: Map<string, number>,
  large: Map<string, number>,
  extraRequests: number,
): CachegrindCounts {
  const d = (e: string) => {
    const a = small.get(e), b = large.get(e);
    if (a === undefined || b === undefined) {
      throw new CachegrindError("BAD_OUTPUT", `cachegrind counted no ${e}`);
    }
    return (b - a) / extraRequests;
  };
  return {
    instructions: d("Ir"),
    l1iMisses: d("I1mr"),
    l1dReadMisses: d("D1mr"),
    l1dWriteMisses: d("D1mw"),
  };
}

async function output(cmd: string, args: string[]): Promise<Deno.CommandOutput> {
  try {
    return await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new CachegrindError(
        "TOOL_MISSING",
        `${cmd} is not installed (apt install valgrind apache2-utils)`,
      );
    }
    throw err;
  }
}

/** One cachegrind run of Apache serving `requests` keep-alive requests with `headers`. */
async function countRun(
  options: Omit<ApacheOptions, "wrapper" | "mpm">,
  requests: number,
  headers: string[],
  outDir: string,
): Promise<Map<string, number>> {
  const out = `${outDir}/cachegrind.${crypto.randomUUID()}.out`;
  const apache = await startApache({
    ...options,
    mpm: "prefork",
    wrapper: ["valgrind", "--tool=cachegrind", "--cache-sim=yes", `--cachegrind-out-file=${out}`],
  });
  try {
    const ab = await output("ab", [
      "-k",
      "-q",
      "-c",
      "1",
      "-n",
      String(requests),
      ...headers.flatMap((h) => ["-H", h]),
      `http://127.0.0.1:${apache.httpPort}/`,
    ]);
    if (!ab.success) {
      throw new CachegrindError("RUN_FAILED", `ab failed: ${new TextDecoder().decode(ab.stderr)}`);
    }
  } finally {
    await apache.stop(); // valgrind writes its output as Apache exits
  }
  return parseCachegrindSummary(await Deno.readTextFile(out));
}

/**
 * Per-request instructions and L1 misses of Apache (prefork, one process) with `options`,
 * from runs of `small` and `large` requests.
 */
export async function cachegrindPerRequest(
  options: Omit<ApacheOptions, "wrapper" | "mpm">,
  headers: string[],
  small = 1000,
  large = 7000,
): Promise<CachegrindCounts> {
  const valgrind = await output("valgrind", ["--version"]);
  if (!valgrind.success) throw new CachegrindError("RUN_FAILED", "valgrind --version failed");
  // Apache runs as www-data under valgrind, which writes its output there at exit.
  const outDir = await Deno.makeTempDir({ prefix: "ja4-cachegrind-" });
  await Deno.chmod(outDir, 0o777);
  try {
    const a = await countRun(options, small, headers, outDir);
    const b = await countRun(options, large, headers, outDir);
    return perRequest(a, b, large - small);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
}
