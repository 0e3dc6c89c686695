/**
 * Test-only helper: compiles a small AssemblyScript entry (one that re-exports the functions
 * under test) in memory with assemblyscript's JS API and instantiates it, so crypto and QUIC
 * code can be compared with node:crypto without waiting for the engine's full build.
 *
 * @example
 * ```ts
 * const wasm = await compileAs(new URL("./test_entry.ts", import.meta.url));
 * const p = wasm.scratch();
 * ```
 */
import asc from "assemblyscript/asc";
import { Ja4Error } from "../../../lib/errors.ts";
import { createRng } from "../../../lib/random.ts";
import { ASC_FLAGS } from "../../build.ts";

/** The test entry failed to compile (diagnostics in the message). */
export class AsCompileError extends Ja4Error {}

/** Exports every test entry provides, plus whatever functions it adds. */
export interface AsTestExports {
  memory: WebAssembly.Memory;
  /** Pointer to a static scratch region of {@link SCRATCH_BYTES} bytes. */
  scratch(): number;
  // deno-lint-ignore no-explicit-any
  [name: string]: any;
}

/** Size of the scratch region every test entry must export through `scratch()`. */
export const SCRATCH_BYTES = 1 << 17;

const cache = new Map<string, Promise<AsTestExports>>();

/** Compiles (once per process) and instantiates the AssemblyScript file at `entry`. */
export function compileAs(entry: URL): Promise<AsTestExports> {
  let pending = cache.get(entry.href);
  if (!pending) {
    pending = compile(entry.pathname);
    cache.set(entry.href, pending);
  }
  return pending;
}

async function compile(path: string): Promise<AsTestExports> {
  let binary: Uint8Array | undefined;
  let diagnostics = "";
  const sink = {
    write(s: string | Uint8Array) {
      diagnostics += typeof s === "string" ? s : new TextDecoder().decode(s);
      return true;
    },
  };
  // The engine build's own flags, so tests see the code exactly as it ships.
  const { error } = await asc.main([path, "-o", "out.wasm", ...ASC_FLAGS], {
    stdout: sink,
    stderr: sink,
    writeFile(name: string, contents: Uint8Array | string) {
      if (name.endsWith(".wasm") && typeof contents !== "string") binary = contents;
    },
  });
  if (error || !binary) {
    throw new AsCompileError(
      "COMPILE_FAILED",
      `assemblyscript could not compile ${path}: ${error?.message ?? "no output"}\n${diagnostics}`,
    );
  }
  const module = await WebAssembly.compile(new Uint8Array(binary));
  const instance = await WebAssembly.instantiate(module, {
    env: {
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new AsCompileError("ABORT", `wasm abort at ${path}:${line}:${col}`);
      },
    },
  });
  return instance.exports as unknown as AsTestExports;
}

/** Seeded unsigned 32-bit numbers (lib/random.ts): tests stay reproducible without a seed file. */
export function seeded(seed: number): () => number {
  return createRng(seed).u32;
}

/** `n` pseudo-random bytes from `next`. */
export function randomBytes(next: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

/** Lower-case hex of `bytes`. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of a hex string (whitespace ignored). */
export function unhex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Copies `bytes` into wasm memory at `ptr` and returns `ptr`. */
export function put(wasm: AsTestExports, ptr: number, bytes: Uint8Array): number {
  new Uint8Array(wasm.memory.buffer, ptr, bytes.length).set(bytes);
  return ptr;
}

/** Copies `len` bytes out of wasm memory at `ptr`. */
export function get(wasm: AsTestExports, ptr: number, len: number): Uint8Array {
  return new Uint8Array(wasm.memory.buffer, ptr, len).slice();
}

/** True when `path` exists (other stat errors propagate). Tests use it to skip cleanly. */
export async function exists(path: string | URL): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
