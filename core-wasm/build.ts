/**
 * Builds the fingerprint engine: AssemblyScript sources under `core-wasm/assembly/` →
 * `core-wasm/build/ja4.wasm`, through assemblyscript's JS API (no global `asc` needed).
 *
 * The build is skipped when the output is newer than every source, so any task can call
 * {@link ensureWasm} first for free.
 *
 * @example
 * ```ts
 * import { ensureWasm } from "./core-wasm/build.ts";
 * const wasmPath = await ensureWasm(); // builds only when missing or stale
 * ```
 */
import asc from "assemblyscript/asc";
import { Ja4Error } from "../lib/errors.ts";

/** The engine build failed (compiler diagnostics are in the message). */
export class WasmBuildError extends Ja4Error {}

const HERE = new URL(".", import.meta.url);
/** Absolute path of the AssemblyScript sources. */
export const ASSEMBLY_DIR = new URL("assembly/", HERE).pathname;
/** Absolute path of the built engine. */
export const WASM_PATH = new URL("build/ja4.wasm", HERE).pathname;
const ENTRY = new URL("assembly/index.ts", HERE).pathname;

/**
 * Compiler flags. `-O3` for speed; runtime `stub` because the engine never frees: every
 * buffer is allocated once at start-up, so there is no GC to pause the hot path.
 * `--noAssert` drops bounds assertions the engine already checks by hand.
 */
export const ASC_FLAGS: readonly string[] = [
  "-O3",
  "--runtime",
  "stub",
  "--noAssert",
];

async function newestSourceMtime(dir: string): Promise<number> {
  let newest = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}${dir.endsWith("/") ? "" : "/"}${entry.name}`;
    if (entry.isDirectory) newest = Math.max(newest, await newestSourceMtime(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      newest = Math.max(newest, (await Deno.stat(path)).mtime?.getTime() ?? 0);
    }
  }
  return newest;
}

/** True when `core-wasm/build/ja4.wasm` is missing or older than a source file. */
export async function wasmIsStale(): Promise<boolean> {
  let built: number;
  try {
    built = (await Deno.stat(WASM_PATH)).mtime?.getTime() ?? 0;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return true;
    throw err;
  }
  return (await newestSourceMtime(ASSEMBLY_DIR)) > built;
}

/** Compiles the engine unconditionally; throws {@link WasmBuildError} with diagnostics. */
export async function buildWasm(): Promise<string> {
  await Deno.mkdir(new URL("build/", HERE), { recursive: true });
  let diagnostics = "";
  const sink = {
    write(s: string | Uint8Array) {
      diagnostics += typeof s === "string" ? s : new TextDecoder().decode(s);
      return true;
    },
  };
  const tmp = `${WASM_PATH}.${Deno.pid}.tmp`;
  const { error } = await asc.main([ENTRY, "-o", tmp, ...ASC_FLAGS], {
    stdout: sink,
    stderr: sink,
  });
  if (error) {
    await Deno.remove(tmp).catch(() => {});
    throw new WasmBuildError(
      "BUILD_FAILED",
      `assemblyscript failed to build ${ENTRY}: ${error.message}\n${diagnostics}`,
    );
  }
  // Rename so a concurrent reader never sees a half-written module.
  await Deno.rename(tmp, WASM_PATH);
  return WASM_PATH;
}

/** Builds the engine if it is missing or stale and returns its path. */
export async function ensureWasm(): Promise<string> {
  if (await wasmIsStale()) await buildWasm();
  return WASM_PATH;
}

if (import.meta.main) {
  const force = Deno.args.includes("--force");
  const started = performance.now();
  const stale = force || await wasmIsStale();
  if (stale) await buildWasm();
  const size = (await Deno.stat(WASM_PATH)).size;
  console.log(
    `${WASM_PATH}: ${size} bytes${
      stale ? ` (built in ${Math.round(performance.now() - started)} ms)` : " (up to date)"
    }`,
  );
}
