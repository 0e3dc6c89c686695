// Test-only entry: exposes the HPACK decoder to hpack_test.ts. Not part of the engine
// build (core-wasm/assembly/index.ts is).

import { FIELDS, fieldCount, hpackDecode, hpackInit, HPACK_STATE_BYTES } from "./hpack";

const SCRATCH: usize = memory.data(1 << 17);
const TABLE: usize = memory.data(HPACK_STATE_BYTES, 8);

/** Start of a 128 KiB scratch region the test copies inputs into. */
export function scratch(): usize {
  return SCRATCH;
}

/** Starts a connection: empty dynamic table. */
export function reset(): void {
  hpackInit(TABLE);
}

/** Decodes a block at scratch(); returns the field count, or -1 when malformed. */
export function decode(len: i32): i32 {
  return hpackDecode(TABLE, SCRATCH, len) ? fieldCount : -1;
}

/** Address of the decoded (name ptr, name len, value ptr, value len) list. */
export function fields(): usize {
  return FIELDS;
}
