// Test-only entry: re-exports the QUIC Initial interface for initial_test.ts and
// fuzz tests. Not part of the engine build (core-wasm/assembly/index.ts is).

export {
  quicExpectNextHello, quicFeed, quicHelloLen, quicHelloPtr, quicInitialVersion, quicStateInit, quicStateVersion,
  QUIC_STATE_BYTES,
} from "./initial";

const SCRATCH: usize = memory.data(1 << 17, 16);

/** Start of a 128 KiB scratch region the test copies datagrams and state into. */
export function scratch(): usize {
  return SCRATCH;
}
