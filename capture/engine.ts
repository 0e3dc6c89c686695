/**
 * The bridge from core-wasm's streaming session to the sensor's {@link HandshakeEngine}: one
 * session per stream, records mapped to {@link HandshakeRecord}, and the engine's framing errors
 * (a file that is not a capture, or is cut short) turned into CaptureErrors with the offset.
 *
 * @example
 * ```ts
 * const engine = await createHandshakeEngine({ maxFlows: 65536 });
 * for (const rec of engine.push(pcapBytes)) console.log(rec.kind, rec.ja4);
 * ```
 */
import { CaptureFormatError, type EngineRecord, loadEngine } from "../core-wasm/mod.ts";
import { errorMessage } from "../lib/errors.ts";
import { CaptureError } from "./errors.ts";
import type { HandshakeRecord } from "./event_builder.ts";
import type { HandshakeEngine } from "./sensor.ts";

/** Maps one engine record to what the event builder reads (pure). */
export function fromEngineRecord(rec: EngineRecord): HandshakeRecord {
  const kind = rec.kind === "client_hello" || rec.kind === "server_hello" || rec.kind === "syn"
    ? rec.kind
    : "other";
  return {
    kind,
    ts_us: rec.ts_us,
    src_ip: rec.src,
    src_port: rec.src_port,
    dst_ip: rec.dst,
    dst_port: rec.dst_port,
    transport: rec.transport,
    ja4: rec.ja4,
    ja4_r: rec.ja4_r,
    ja4_o: rec.ja4_o,
    ja4_ro: rec.ja4_ro,
    ja3: rec.ja3,
    ja3_full: rec.ja3_full,
    ja4s: rec.ja4s,
    ja3s: rec.ja3s,
    ja4t: rec.ja4t,
    tls_server_name: rec.tls_server_name,
    alpn: rec.alpn,
    cipher_count: rec.cipher_count,
    extension_count: rec.extension_count,
    tcp_window: rec.tcp_window,
    tcp_mss: rec.tcp_mss,
    tcp_window_scale: rec.tcp_window_scale,
    ip_ttl: rec.ip_ttl,
  };
}

function mapAll(records: EngineRecord[]): HandshakeRecord[] {
  const out: HandshakeRecord[] = [];
  for (const r of records) if (r.kind !== "http_request") out.push(fromEngineRecord(r));
  return out;
}

function wrap(err: unknown): never {
  if (err instanceof CaptureFormatError) {
    // The engine's message already names the byte offset.
    throw new CaptureError("BAD_CAPTURE", err.message, { cause: err });
  }
  throw new CaptureError("ENGINE", `fingerprint engine failed: ${errorMessage(err)}`, {
    cause: err,
  });
}

/** Options of {@link createHandshakeEngine} (see core-wasm SessionOptions). */
export interface HandshakeEngineOptions {
  maxFlows?: number;
  reassemblySlabs?: number;
}

/** Creates one engine session for one pcap/pcapng stream (builds the .wasm if needed). */
export async function createHandshakeEngine(
  options: HandshakeEngineOptions = {},
): Promise<HandshakeEngine> {
  let session;
  try {
    session = await (await loadEngine()).createSession(options);
  } catch (err) {
    throw new CaptureError(
      "ENGINE_LOAD",
      `cannot load the core-wasm engine (try 'deno task build:wasm'): ${errorMessage(err)}`,
      { cause: err },
    );
  }
  return {
    push(chunk) {
      try {
        return mapAll(session.push(chunk));
      } catch (err) {
        wrap(err);
      }
    },
    finish() {
      try {
        return mapAll(session.finish());
      } catch (err) {
        wrap(err);
      }
    },
    stats() {
      return { ...session.stats() };
    },
  };
}
