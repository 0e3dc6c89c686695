// IPv4 (RFC 791) and IPv6 (RFC 8200) with extension headers, dispatching to TCP, UDP and
// IP-in-IP / GRE tunnels. Non-first fragments are counted and skipped (a handshake that
// needs IP reassembly is vanishingly rare); first fragments are decoded as far as they go.

import { pktDepth, pktSetDepth, pktSetIp } from "./pkt";
import { tcpInput } from "./tcp";
import { udpInput } from "./udp";
import { greInput } from "./tunnel";
import { be16 } from "./util";
import { bump, ST_IP_FRAGMENTS, ST_MALFORMED_PACKETS } from "./stats";

export const PROTO_IPIP: u32 = 4;
export const PROTO_TCP: u32 = 6;
export const PROTO_UDP: u32 = 17;
export const PROTO_IPV6: u32 = 41;
export const PROTO_GRE: u32 = 47;
/** Tunnels nest at most this deep; deeper packets are counted as malformed. */
export const MAX_DEPTH: i32 = 4;

function transport(proto: u32, p: usize, len: i32): void {
  if (proto == PROTO_TCP) tcpInput(p, len);
  else if (proto == PROTO_UDP) udpInput(p, len);
  else if (proto == PROTO_GRE) greInput(p, len);
  else if (proto == PROTO_IPIP || proto == PROTO_IPV6) ipInput(p, len);
}

/** Decodes an IP packet (version from the first nibble) of `len` captured bytes at `p`. */
export function ipInput(p: usize, len: i32): void {
  if (len < 1) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  if (pktDepth >= MAX_DEPTH) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  pktSetDepth(pktDepth + 1);
  const v = load<u8>(p) >> 4;
  if (v == 4) ipv4(p, len);
  else if (v == 6) ipv6(p, len);
  else bump(ST_MALFORMED_PACKETS);
}

function ipv4(p: usize, len: i32): void {
  if (len < 20) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  const ihl = <i32>(load<u8>(p) & 15) << 2;
  let total = <i32>be16(p + 2);
  if (ihl < 20 || ihl > len) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  // Captured length can be shorter (snaplen) or longer (Ethernet padding) than the IP
  // total length; TSO captures report 0.
  if (total == 0 || total > len) total = len;
  if (total < ihl) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  const frag = be16(p + 6);
  if ((frag & 0x1fff) != 0) {
    bump(ST_IP_FRAGMENTS);
    return;
  }
  pktSetIp(false, p + 12, p + 16, load<u8>(p + 8));
  transport(<u32>load<u8>(p + 9), p + <usize>ihl, total - ihl);
}

function ipv6(p: usize, len: i32): void {
  if (len < 40) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  let plen = <i32>be16(p + 4);
  if (plen == 0 || plen + 40 > len) plen = len - 40; // jumbo / truncated / TSO
  pktSetIp(true, p + 8, p + 24, load<u8>(p + 7));
  let next = <u32>load<u8>(p + 6);
  let q = p + 40;
  let end = q + <usize>plen;
  // Extension headers: hop-by-hop 0, routing 43, fragment 44, destination options 60,
  // AH 51 (RFC 4302: length in 4-byte units + 2), mobility 135.
  for (let i = 0; i < 8; i++) {
    if (next == 0 || next == 43 || next == 60 || next == 135) {
      if (q + 8 > end) break;
      const n = (<usize>load<u8>(q + 1) + 1) << 3;
      next = <u32>load<u8>(q);
      q += n;
    } else if (next == 44) {
      if (q + 8 > end) break;
      const off = be16(q + 2);
      if ((off & 0xfff8) != 0) {
        bump(ST_IP_FRAGMENTS);
        return;
      }
      next = <u32>load<u8>(q);
      q += 8;
    } else if (next == 51) {
      if (q + 8 > end) break;
      const n = (<usize>load<u8>(q + 1) + 2) << 2;
      next = <u32>load<u8>(q);
      q += n;
    } else {
      break;
    }
  }
  if (q > end) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  transport(next, q, <i32>(end - q));
}
