// UDP: VXLAN / Geneve tunnels by destination port, and QUIC Initial packets on any port
// (RFC 9000 §17.2.2: long header, fixed bit set, type Initial).

import { pktDstPort, pktSetPorts } from "./pkt";
import { flowDir, flowLookup } from "./flow";
import { GENEVE_PORT, geneveInput, VXLAN_PORT, vxlanInput } from "./tunnel";
import { quicInput } from "./quic_glue";
import { be16, be32 } from "./util";
import { bump, ST_MALFORMED_PACKETS, ST_QUIC_INITIALS } from "./stats";

/** QUIC versions whose Initial packets we can read (RFC 9000, RFC 9369). */
export const QUIC_V1: u32 = 0x00000001;
export const QUIC_V2: u32 = 0x6b3343cf;

/** True when the datagram starts with a QUIC v1/v2 Initial long header. */
export function isQuicInitial(p: usize, len: i32): bool {
  if (len < 7) return false;
  const b0 = <u32>load<u8>(p);
  if ((b0 & 0xc0) != 0xc0) return false; // long header + fixed bit
  const v = be32(p + 1);
  const type = (b0 >> 4) & 3;
  if (v == QUIC_V1) return type == 0;
  if (v == QUIC_V2) return type == 1;
  return false;
}

export function udpInput(p: usize, len: i32): void {
  if (len < 8) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  pktSetPorts(<u16>be16(p), <u16>be16(p + 2));
  let ulen = <i32>be16(p + 4);
  if (ulen < 8 || ulen > len) ulen = len;
  const q = p + 8;
  const n = ulen - 8;
  const dport = <u32>pktDstPort;
  if (dport == VXLAN_PORT) {
    vxlanInput(q, n);
    return;
  }
  if (dport == GENEVE_PORT) {
    geneveInput(q, n);
    return;
  }
  if (!isQuicInitial(q, n)) return;
  bump(ST_QUIC_INITIALS);
  const f = flowLookup(17, true);
  quicInput(f, flowDir, q, n);
}
