// The packet being decoded: timestamp, addresses, ports, TTL. Module globals, because
// the engine is single-threaded and handles one packet at a time; passing them down
// every layer would cost registers on the hot path for nothing.

import { copy16 } from "./util";

/** Capture timestamp in microseconds since the epoch. */
export let pktTsUs: f64 = 0;
/** True when the innermost IP header is IPv6. */
export let pktIpv6: bool = false;
/** Source / destination address: 16 bytes each (IPv4 in the first 4, rest zero). */
export const PKT_SRC: usize = memory.data(16);
export const PKT_DST: usize = memory.data(16);
export let pktSrcPort: u16 = 0;
export let pktDstPort: u16 = 0;
/** IPv4 TTL or IPv6 hop limit. */
export let pktTtl: u8 = 0;
/** Tunnel nesting depth, bounded so crafted encapsulation loops cannot recurse forever. */
export let pktDepth: i32 = 0;

export function pktSetTs(us: f64): void {
  pktTsUs = us;
  pktDepth = 0;
}

export function pktSetDepth(d: i32): void {
  pktDepth = d;
}

export function pktSetIp(ipv6: bool, src: usize, dst: usize, ttl: u8): void {
  pktIpv6 = ipv6;
  if (ipv6) {
    copy16(PKT_SRC, src);
    copy16(PKT_DST, dst);
  } else {
    store<u32>(PKT_SRC, load<u32>(src));
    store<u32>(PKT_DST, load<u32>(dst));
    store<u32>(PKT_SRC, 0, 4);
    store<u64>(PKT_SRC, 0, 8);
    store<u32>(PKT_DST, 0, 4);
    store<u64>(PKT_DST, 0, 8);
  }
  pktTtl = ttl;
}

export function pktSetPorts(src: u16, dst: u16): void {
  pktSrcPort = src;
  pktDstPort = dst;
}
