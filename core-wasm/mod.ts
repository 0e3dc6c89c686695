/**
 * Public surface of core-wasm: the fingerprint engine (AssemblyScript → WebAssembly), its
 * loader, and the `ja4 fingerprint` command. Other components import only this file
 * (browsers import `core-wasm/loader.ts` directly: it has no Deno APIs).
 *
 * @example
 * ```ts
 * import { loadEngine } from "../core-wasm/mod.ts";
 * const engine = await loadEngine();                 // builds the .wasm if missing/stale
 * const session = await engine.createSession();
 * for (const r of session.push(pcapChunk)) console.log(r.kind, r.ja4 ?? r.ja4t);
 * session.finish();                                  // CaptureFormatError if cut short
 * ```
 */
export { loadEngine } from "./engine_deno.ts";
export {
  CaptureFormatError,
  decodeRecordBytes,
  decodeRecords,
  type Engine,
  type EngineRecord,
  type EngineSource,
  type EngineStats,
  formatIpv6,
  loadEngine as loadEngineFrom,
  pumpReads,
  type ReadInto,
  type RecordKind,
  type Session,
  SESSION_DEFAULTS,
  type SessionOptions,
} from "./loader.ts";
export { buildWasm, ensureWasm, WASM_PATH, WasmBuildError } from "./build.ts";
export {
  type ConnectionRecord,
  ConnectionTable,
  csvHeader,
  csvLine,
  isoMicros,
  jsonLine,
} from "./connections.ts";
export {
  CaptureInputError,
  type FileResult,
  fingerprintCommand,
  fingerprintFile,
  fingerprintFileSharded,
  fingerprintStream,
} from "./fingerprint_command.ts";
