// UDP: VXLAN / Geneve tunnels by destination port, and QUIC Initial packets on any port
// (RFC 9000 §17.2.2: long header, fixed bit set, type Initial).

import { pktDstPort, pktSetPorts } from "./pkt";
import { flowDir, flowLookup, inShard } from "./flow";
import { GENEVE_PORT, geneveInput, VXLAN_PORT, vxlanInput } from "./tunnel";
import { quicInput } from "./quic_glue";
import { quicInitialVersion } from "./quic/initial";
import { be16 } from "./util";
import { bump, ST_MALFORMED_PACKETS, ST_QUIC_INITIALS } from "./stats";

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
  // Only a datagram that starts with an Initial packet can carry Initial CRYPTO data
  // (RFC 9000 §12.2: coalesced packets come in order Initial, 0-RTT, Handshake, 1-RTT),
  // so every other datagram — the bulk of QUIC traffic — costs no flow lookup at all.
  if (quicInitialVersion(q, n) == 0) return;
  if (!inShard()) return;
  bump(ST_QUIC_INITIALS);
  const f = flowLookup(17, true);
  quicInput(f, flowDir, q, n);
}
