/**
 * The bridge from core-wasm's streaming session to the sensor's {@link HandshakeEngine}.
 * (Filled in against core-wasm/mod.ts's public API.)
 */
import { CaptureError } from "./errors.ts";
import type { HandshakeEngine } from "./sensor.ts";

/** Creates one engine session for one pcap/pcapng stream. */
export function createHandshakeEngine(): Promise<HandshakeEngine> {
  return Promise.reject(
    new CaptureError("ENGINE_MISSING", "the core-wasm engine is not available yet"),
  );
}
