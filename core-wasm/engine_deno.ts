/**
 * Deno-side access to the engine: builds `core-wasm/build/ja4.wasm` when missing or
 * stale, reads it and compiles it once per process.
 *
 * @example
 * ```ts
 * import { loadEngine } from "./core-wasm/mod.ts";
 * const engine = await loadEngine();
 * const session = await engine.createSession();
 * ```
 */
import { ensureWasm } from "./build.ts";
import { type Engine, loadEngine as loadFrom } from "./loader.ts";

let cached: Promise<Engine> | undefined;

/** The engine, built if needed; compiled once per process. */
export function loadEngine(): Promise<Engine> {
  cached ??= (async () => loadFrom(await Deno.readFile(await ensureWasm())))();
  return cached;
}
