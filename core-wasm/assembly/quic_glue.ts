// Bridge between the UDP path and the QUIC Initial decryption in quic/ (owned by the
// crypto work): hands each Initial datagram of a flow to it and fingerprints the
// ClientHello / ServerHello it reassembles from CRYPTO frames.

import { bump, ST_QUIC_UNDECRYPTED } from "./stats";

/** Processes one QUIC Initial datagram of flow `f`, direction `dir`. */
export function quicInput(f: usize, dir: i32, p: usize, len: i32): void {
  // Decryption lands with quic/initial.ts; until then Initials are only counted.
  if (f != 0 && dir >= 0 && len > 0 && p != 0) bump(ST_QUIC_UNDECRYPTED);
}
