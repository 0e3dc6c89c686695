// pcapng (IETF draft-ietf-opsawg-pcapng): sections in either byte order, several
// interfaces with their own link type and timestamp resolution, Enhanced / Simple /
// obsolete Packet Blocks. Every other block type, and every option we do not need, is
// skipped by its length.

import { linkInput } from "./link";
import { keylogFromDsb } from "./keylog";
import { pktSetTs, pktTsUs } from "./pkt";
import { FATAL, maxRecord, NEED_MORE } from "./pcap";
import { addStat, bump, ST_BYTES, ST_PACKETS } from "./stats";

export const BT_SHB: u32 = 0x0a0d0d0a;
export const BT_IDB: u32 = 0x00000001;
export const BT_OPB: u32 = 0x00000002; // obsolete Packet Block
export const BT_SPB: u32 = 0x00000003;
export const BT_EPB: u32 = 0x00000006;
export const BT_DSB: u32 = 0x0000000a; // Decryption Secrets Block
export const BYTE_ORDER_MAGIC: u32 = 0x1a2b3c4d;
export const OPT_IF_TSRESOL: u32 = 9;
export const OPT_IF_TSOFFSET: u32 = 14;

const MAX_IFACES: i32 = 256;
/** Per interface: u32 link type, u32 snaplen, f64 microseconds per tick, f64 offset (s). */
const IFACES: usize = memory.data(MAX_IFACES * 24, 8);
let nIfaces: i32 = 0;
let swap: bool = false;
export let badBlockLength: u32 = 0;

// @ts-ignore: decorator
@inline function rd32(p: usize): u32 {
  const v = load<u32>(p);
  return swap ? bswap<u32>(v) : v;
}

// @ts-ignore: decorator
@inline function rd16(p: usize): u32 {
  const v = load<u16>(p);
  return <u32>(swap ? bswap<u16>(v) : v);
}

export function isPcapngMagic(p: usize): bool {
  return load<u32>(p) == BT_SHB;
}

function readIdb(body: usize, bodyLen: i32): void {
  if (nIfaces >= MAX_IFACES || bodyLen < 8) return;
  const e = IFACES + <usize>nIfaces * 24;
  store<u32>(e, rd16(body));
  store<u32>(e, rd32(body + 4), 4);
  let usPerTick: f64 = 1; // default resolution 10^-6 s
  let offset: f64 = 0;
  let q = body + 8;
  const end = body + <usize>bodyLen;
  while (q + 4 <= end) {
    const code = rd16(q);
    const len = rd16(q + 2);
    if (code == 0) break;
    const v = q + 4;
    if (v + <usize>len > end) break;
    if (code == OPT_IF_TSRESOL && len >= 1) {
      const r = <u32>load<u8>(v);
      const exp = <f64>(r & 0x7f);
      // MSB clear: 10^-r seconds per tick; set: 2^-r.
      const ticksPerSec = (r & 0x80) != 0 ? Math.pow(2, exp) : Math.pow(10, exp);
      usPerTick = 1e6 / ticksPerSec;
    } else if (code == OPT_IF_TSOFFSET && len >= 8) {
      const lo = <f64>rd32(v);
      const hi = <f64>rd32(v + 4);
      offset = swap ? lo * 4294967296 + hi : hi * 4294967296 + lo;
    }
    q = v + ((<usize>len + 3) & ~3);
  }
  store<f64>(e, usPerTick, 8);
  store<f64>(e, offset, 16);
  nIfaces++;
}

function packet(iface: u32, hasTs: bool, tsHi: u32, tsLo: u32, data: usize, capLen: i32): void {
  let link: u32 = 1;
  // A Simple Packet Block has no timestamp: it keeps the previous packet's.
  let ts = pktTsUs;
  if (iface < <u32>nIfaces) {
    const e = IFACES + <usize>iface * 24;
    link = load<u32>(e);
    if (hasTs) {
      const ticks = <f64>tsHi * 4294967296 + <f64>tsLo;
      ts = Math.floor(ticks * load<f64>(e, 8)) + load<f64>(e, 16) * 1e6;
    }
  }
  pktSetTs(ts);
  bump(ST_PACKETS);
  addStat(ST_BYTES, <f64>capLen);
  linkInput(link, data, capLen);
}

/**
 * Decodes one block at `p`; returns bytes consumed, NEED_MORE or FATAL (bad block length
 * or byte-order magic, recorded in badBlockLength).
 */
export function pcapngBlock(p: usize, avail: i32): i32 {
  if (avail < 12) return NEED_MORE;
  const rawType = load<u32>(p);
  if (rawType == BT_SHB) {
    const bom = load<u32>(p + 8);
    if (bom == BYTE_ORDER_MAGIC) swap = false;
    else if (bom == bswap<u32>(BYTE_ORDER_MAGIC)) swap = true;
    else {
      badBlockLength = 0;
      return FATAL;
    }
    nIfaces = 0; // interface ids are per section
  }
  const type = swap ? bswap<u32>(rawType) : rawType;
  const blen = rd32(p + 4);
  if (blen < 12 || (blen & 3) != 0 || blen > <u32>maxRecord) {
    badBlockLength = blen;
    return FATAL;
  }
  if (avail < <i32>blen) return NEED_MORE;
  const body = p + 8;
  const bodyLen = <i32>blen - 12;
  if (type == BT_IDB) {
    readIdb(body, bodyLen);
  } else if (type == BT_EPB) {
    if (bodyLen >= 20) {
      const cap = <i32>min(rd32(body + 12), <u32>(bodyLen - 20));
      packet(rd32(body), true, rd32(body + 4), rd32(body + 8), body + 20, cap);
    }
  } else if (type == BT_SPB) {
    if (bodyLen >= 4) {
      let cap = <i32>min(rd32(body), <u32>(bodyLen - 4));
      if (nIfaces > 0) {
        const snap = <i32>load<u32>(IFACES, 4);
        if (snap > 0 && cap > snap) cap = snap;
      }
      packet(0, false, 0, 0, body + 4, cap);
    }
  } else if (type == BT_DSB) {
    keylogFromDsb(body, bodyLen, swap);
  } else if (type == BT_OPB) {
    if (bodyLen >= 20) {
      const cap = <i32>min(rd32(body + 12), <u32>(bodyLen - 20));
      packet(rd16(body), true, rd32(body + 4), rd32(body + 8), body + 20, cap);
    }
  }
  return <i32>blen;
}
