// Tunnels: GRE (RFC 2784/2890) incl. ERSPAN types I, II and III, VXLAN (RFC 7348) and
// Geneve (RFC 8926). The inner packet is decoded as if captured directly.

import { ethernetInput, etherTypeInput } from "./link";
import { be16 } from "./util";
import { bump, ST_MALFORMED_PACKETS } from "./stats";

export const GRE_PROTO_TEB: u32 = 0x6558; // transparent Ethernet bridging
export const GRE_PROTO_ERSPAN2: u32 = 0x88be; // ERSPAN type I (no seq) / II
export const GRE_PROTO_ERSPAN3: u32 = 0x22eb;
export const VXLAN_PORT: u32 = 4789;
export const GENEVE_PORT: u32 = 6081;

export function greInput(p: usize, len: i32): void {
  if (len < 4) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  const flags = be16(p);
  const proto = be16(p + 2);
  let off: i32 = 4;
  if ((flags & 0x8000) != 0) off += 4; // checksum + reserved
  if ((flags & 0x2000) != 0) off += 4; // key
  const hasSeq = (flags & 0x1000) != 0;
  if (hasSeq) off += 4;
  if (off > len) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  const q = p + <usize>off;
  const n = len - off;
  if (proto == GRE_PROTO_TEB) {
    ethernetInput(q, n);
  } else if (proto == GRE_PROTO_ERSPAN2) {
    // Type I has no sequence number and no ERSPAN header; type II has an 8-byte header.
    if (!hasSeq) ethernetInput(q, n);
    else if (n >= 8) ethernetInput(q + 8, n - 8);
    else bump(ST_MALFORMED_PACKETS);
  } else if (proto == GRE_PROTO_ERSPAN3) {
    if (n < 12) {
      bump(ST_MALFORMED_PACKETS);
      return;
    }
    // 12-byte header; bit O (last bit of byte 11) adds an 8-byte platform sub-header.
    const hl: i32 = (load<u8>(q + 11) & 1) != 0 ? 20 : 12;
    if (n < hl) bump(ST_MALFORMED_PACKETS);
    else ethernetInput(q + <usize>hl, n - hl);
  } else {
    etherTypeInput(proto, q, n);
  }
}

export function vxlanInput(p: usize, len: i32): void {
  if (len < 8 + 14) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  ethernetInput(p + 8, len - 8);
}

export function geneveInput(p: usize, len: i32): void {
  if (len < 8) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  const hl = 8 + (<i32>(load<u8>(p) & 0x3f) << 2);
  if (hl > len) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  const proto = be16(p + 2);
  if (proto == 0x6558) ethernetInput(p + <usize>hl, len - hl);
  else etherTypeInput(proto, p + <usize>hl, len - hl);
}
