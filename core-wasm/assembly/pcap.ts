// Classic libpcap files/streams (tcpdump.org "pcap savefile format"): both byte orders,
// microsecond and nanosecond timestamps. Also what the capture daemon synthesises for
// live packets: one global header with the live link type, then records.

import { linkInput } from "./link";
import { pktSetTs } from "./pkt";
import { addStat, bump, ST_BYTES, ST_PACKETS } from "./stats";

export const PCAP_MAGIC_US: u32 = 0xa1b2c3d4;
export const PCAP_MAGIC_NS: u32 = 0xa1b23c4d;
export const PCAP_HEADER: i32 = 24;
export const PCAP_RECORD_HEADER: i32 = 16;

/** Results of the record readers besides a consumed byte count. */
export const NEED_MORE: i32 = -1;
export const FATAL: i32 = -2;

let swap: bool = false;
let nanos: bool = false;
let linkType: u32 = 1;
/** Largest record accepted; set by the driver from its carry buffer size. */
export let maxRecord: i32 = 1 << 20;
/** Length that made the last record fatal (for the error message). */
export let badLength: u32 = 0;

export function pcapSetMaxRecord(n: i32): void {
  maxRecord = n;
}

// @ts-ignore: decorator
@inline function rd32(p: usize): u32 {
  const v = load<u32>(p);
  return swap ? bswap<u32>(v) : v;
}

/** True when the first 4 bytes at `p` are a classic pcap magic in either byte order. */
export function isPcapMagic(p: usize): bool {
  const m = load<u32>(p);
  return m == PCAP_MAGIC_US || m == PCAP_MAGIC_NS ||
    m == bswap<u32>(PCAP_MAGIC_US) || m == bswap<u32>(PCAP_MAGIC_NS);
}

/** Reads the 24-byte global header; returns bytes consumed or NEED_MORE. */
export function pcapHeader(p: usize, avail: i32): i32 {
  if (avail < PCAP_HEADER) return NEED_MORE;
  const m = load<u32>(p);
  swap = m == bswap<u32>(PCAP_MAGIC_US) || m == bswap<u32>(PCAP_MAGIC_NS);
  const mm = swap ? bswap<u32>(m) : m;
  nanos = mm == PCAP_MAGIC_NS;
  // Link type in the low 16 bits; the high bits may carry FCS information.
  linkType = rd32(p + 20) & 0xffff;
  return PCAP_HEADER;
}

/** Decodes one record; returns bytes consumed, NEED_MORE or FATAL. */
export function pcapRecord(p: usize, avail: i32): i32 {
  if (avail < PCAP_RECORD_HEADER) return NEED_MORE;
  const incl = rd32(p + 8);
  if (incl > <u32>(maxRecord - PCAP_RECORD_HEADER)) {
    badLength = incl;
    return FATAL;
  }
  const total = PCAP_RECORD_HEADER + <i32>incl;
  if (avail < total) return NEED_MORE;
  const sec = <f64>rd32(p);
  const frac = <f64>rd32(p + 4);
  pktSetTs(sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac));
  bump(ST_PACKETS);
  addStat(ST_BYTES, <f64>incl);
  linkInput(linkType, p + PCAP_RECORD_HEADER, <i32>incl);
  return total;
}
