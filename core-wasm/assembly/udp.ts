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
  // Only Initial packets create a flow; later datagrams of a known QUIC flow (coalesced
  // or server Initials) go to it too.
  if (!inShard()) return;
  const initial = quicInitialVersion(q, n) != 0;
  if (initial) bump(ST_QUIC_INITIALS);
  const f = flowLookup(17, initial);
  if (f == 0) return;
  quicInput(f, flowDir, q, n);
}
