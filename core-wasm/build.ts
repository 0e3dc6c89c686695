/**
 * Builds the fingerprint engine: AssemblyScript sources under `core-wasm/assembly/` →
 * `core-wasm/build/ja4.wasm`, through assemblyscript's JS API (no global `asc` needed).
 *
 * The build is skipped when the output was built from the current sources (a content
 * digest kept beside it), so any task can call
 * {@link ensureWasm} first for free.
 *
 * @example
 * ```ts
 * import { ensureWasm } from "./core-wasm/build.ts";
 * const wasmPath = await ensureWasm(); // builds only when missing or stale
 * ```
 */
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
 * `--noAssert` drops bounds assertions the engine already checks by hand. `--enable simd`
 * for the four-lane SHA-256 of QUIC key derivation (crypto/sha256x4.ts): fixed-width SIMD
 * runs in every engine we target (Deno, Chromium ≥ 91, Firefox ≥ 89, Safari ≥ 16.4).
 */
export const ASC_FLAGS: readonly string[] = [
  "-O3",
  "--runtime",
  "stub",
  "--noAssert",
  "--enable",
  "simd",
];

const STAMP_PATH = `${WASM_PATH}.stamp`;

async function sourceFiles(dir: string, out: string[] = []): Promise<string[]> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}${dir.endsWith("/") ? "" : "/"}${entry.name}`;
    if (entry.isDirectory) await sourceFiles(path, out);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) out.push(path);
  }
  return out.sort();
}

/**
 * Digest of every source file and the flags. Content, not mtimes: files edited within
 * the clock's resolution of a build, or restored by git, must still count as changed.
 */
export async function sourceDigest(): Promise<string> {
  const parts: Uint8Array[] = [new TextEncoder().encode(ASC_FLAGS.join(" "))];
  for (const f of await sourceFiles(ASSEMBLY_DIR)) {
    parts.push(new TextEncoder().encode(`\n${f}\n`), await Deno.readFile(f));
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** True when `core-wasm/build/ja4.wasm` is missing or was built from other sources. */
export async function wasmIsStale(): Promise<boolean> {
  try {
    await Deno.stat(WASM_PATH);
    return (await Deno.readTextFile(STAMP_PATH)).trim() !== await sourceDigest();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return true;
    throw err;
  }
}

/** Compiles the engine unconditionally; throws {@link WasmBuildError} with diagnostics. */
export async function buildWasm(): Promise<string> {
  await Deno.mkdir(new URL("build/", HERE), { recursive: true });
  const digest = await sourceDigest();
  let diagnostics = "";
  const sink = {
    write(s: string | Uint8Array) {
      diagnostics += typeof s === "string" ? s : new TextDecoder().decode(s);
      return true;
    },
  };
  const tmp = `${WASM_PATH}.${Deno.pid}.tmp`;
  // Imported on demand: the compiler is megabytes of JS that a process which only loads
  // an up-to-date engine should not parse or keep in its heap.
  const { default: asc } = await import("assemblyscript/asc");
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
  await Deno.writeTextFile(STAMP_PATH, digest + "\n");
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
