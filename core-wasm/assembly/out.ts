// The compact record stream the host decodes (see core-wasm/README.md "Record format").
// One record per fingerprintable event; the host never calls into wasm per packet.
//
// Layout (little-endian), 72-byte header then strings:
//   0 u32 total length   4 u8 kind   5 u8 flags (bit0 ipv6, bit1 quic)   6 u8 string count
//   7 u8 tcp window scale (255 = absent)   8 u32 flow id   12 u16 tls_version
//  14 u8 cipher_count   15 u8 extension_count   16 f64 ts_us   24 u8[16] src   40 u8[16] dst
//  56 u16 src_port   58 u16 dst_port   60 u16 tcp window   62 u16 tcp mss   64 u8 ip ttl
//  65..67 reserved   68 u32 packet number in the capture (1-based, low 32 bits)
//  then per string either a literal: u8 field id, u16 length, u32 dictionary index, bytes
//  (UTF-8 / ASCII), or a reference to an earlier literal: u8 field id | 0x80, u32 index
//  (see dict.ts).

import { dictClear, dictIndex, dictLookup } from "./dict";
import { copy16 } from "./util";
import { bump, ST_PACKETS, ST_RECORDS_DROPPED, STATS } from "./stats";
import { PKT_DST, PKT_SRC, pktDstPort, pktIpv6, pktSrcPort, pktTsUs, pktTtl } from "./pkt";

export const REC_HEADER: i32 = 72;
export const R_WSCALE: usize = 7;
export const R_TLS_VERSION: usize = 12;
export const R_CIPHERS: usize = 14;
export const R_EXTS: usize = 15;
export const R_WINDOW: usize = 60;
export const R_MSS: usize = 62;

/** Record kinds. */
export const KIND_CLIENT_HELLO: u8 = 1;
export const KIND_SERVER_HELLO: u8 = 2;
export const KIND_SYN: u8 = 3;
export const KIND_HTTP_REQUEST: u8 = 4;

/** String field ids (the loader maps them to EngineRecord fields in setField). */
export const F_JA4: u8 = 1;
export const F_JA4_R: u8 = 2;
export const F_JA4_O: u8 = 3;
export const F_JA4_RO: u8 = 4;
export const F_JA3: u8 = 5;
export const F_JA3_FULL: u8 = 6;
export const F_JA4S: u8 = 7;
export const F_JA3S: u8 = 8;
export const F_JA4T: u8 = 9;
export const F_JA4H: u8 = 10;
export const F_SNI: u8 = 11;
export const F_ALPN: u8 = 12;
export const F_JA3S_FULL: u8 = 13;
export const F_JA4S_R: u8 = 14;
export const F_JA4H_R: u8 = 15;

/** Output buffer. */
export let outBase: usize = 0;
export let outCap: i32 = 0;
export let outLen: i32 = 0;
/** Space a single record may need at most; the driver pauses when less is free. */
export const OUT_RESERVE: i32 = 256 * 1024;

let recStart: usize = 0;
let strStart: usize = 0;
let nStr: u8 = 0;

/**
 * Where a record goes when the output buffer cannot take it (one packet can hold many
 * records: pipelined requests, several hellos in a jumbo segment). Writers stay unaware:
 * the output pointers are swapped to this sink and the record is discarded and counted.
 */
const SINK: usize = memory.data(OUT_RESERVE);
let sinking = false;
let savedBase: usize = 0;
let savedLen: i32 = 0;

export function outInit(base: usize, cap: i32): void {
  outBase = base;
  outCap = cap;
  outLen = 0;
}

export function outReset(): void {
  outLen = 0;
}

/** True when another record might not fit. */
export function outFull(): bool {
  return outCap - outLen < OUT_RESERVE;
}

/** Starts a record for the current packet (addresses, ports, ttl, timestamp from `pkt`). */
export function recBegin(kind: u8, flowId: u32, quic: bool): void {
  if (outCap - outLen < OUT_RESERVE) {
    sinking = true;
    savedBase = outBase;
    savedLen = outLen;
    outBase = SINK;
    outLen = 0;
  }
  recStart = outBase + <usize>outLen;
  const r = recStart;
  // Header fields not set below must be zero: 9 stores beat a bulk-memory call.
  for (let i: usize = 0; i < <usize>REC_HEADER; i += 8) store<u64>(r + i, 0);
  store<u8>(r, kind, 4);
  store<u8>(r, (pktIpv6 ? 1 : 0) | (quic ? 2 : 0), 5);
  store<u8>(r, 255, 7);
  store<u32>(r, flowId, 8);
  store<f64>(r, pktTsUs, 16);
  copy16(r + 24, PKT_SRC);
  copy16(r + 40, PKT_DST);
  store<u16>(r, pktSrcPort, 56);
  store<u16>(r, pktDstPort, 58);
  store<u8>(r, pktTtl, 64);
  // Shard sessions all count every packet: the host merges their records in capture order.
  store<u32>(r, <u32>load<f64>(STATS + (ST_PACKETS << 3)), 68);
  nStr = 0;
  strStart = 0;
  outLen += REC_HEADER;
}

export function recU16(off: usize, v: u32): void {
  store<u16>(recStart + off, <u16>v);
}

export function recU8(off: usize, v: u32): void {
  store<u8>(recStart + off, <u8>v);
}

/** Begins a string field; append bytes with strPtr()/strAdvance() or strBytes(). */
export function strBegin(id: u8): void {
  const p = outBase + <usize>outLen;
  store<u8>(p, id);
  strStart = p;
  outLen += <i32>STR_LITERAL_HEADER;
}

/** Current write pointer inside the open string. */
// @ts-ignore: decorator
@inline export function strPtr(): usize {
  return outBase + <usize>outLen;
}

/** Ends the open string at `end` (a pointer obtained from strPtr() and advanced). */
export function strEndAt(end: usize): void {
  let len = <i32>(end - (strStart + STR_LITERAL_HEADER));
  if (len > 65535) len = 65535;
  const bytes = strStart + STR_LITERAL_HEADER;
  const id = <u32>load<u8>(strStart);
  if (dictLookup(id, bytes, len)) {
    store<u8>(strStart, <u8>(id | 0x80));
    store<u32>(strStart, dictIndex, 1);
    outLen = <i32>(strStart + 5 - outBase);
  } else {
    store<u16>(strStart, <u16>len, 1);
    store<u32>(strStart, dictIndex, 3);
    outLen = <i32>(bytes + <usize>len - outBase);
  }
  store<u32>(FIELD_IDX + (<usize>(id & 31) << 2), dictIndex);
  nStr++;
}

/** Dictionary index of the last string written per field id (for fpmemo.ts). */
const FIELD_IDX: usize = memory.data(4 * 32, 4);

/** Dictionary index of the last string of field `id` written by strEndAt. */
export function fieldIndex(id: u8): u32 {
  return load<u32>(FIELD_IDX + (<usize>(id & 31) << 2));
}

/** Appends a reference to dictionary entry `idx` as string field `id` of the open record. */
export function strRef(id: u8, idx: u32): void {
  const p = outBase + <usize>outLen;
  store<u8>(p, id | 0x80);
  store<u32>(p, idx, 1);
  outLen += 5;
  nStr++;
}

/** Bytes before a literal string's text: id, length, dictionary index. */
export const STR_LITERAL_HEADER: usize = 7;

/** Writes a whole string field from memory. Strings longer than 65535 bytes are cut. */
export function strField(id: u8, src: usize, len: i32): void {
  if (len > 65535) len = 65535;
  strBegin(id);
  const p = strPtr();
  memory.copy(p, src, len);
  strEndAt(p + <usize>len);
}

/** Drops the record opened by recBegin (nothing of it reaches the host). */
export function recCancel(): void {
  outLen = <i32>(recStart - outBase);
  unsink();
}

function unsink(): void {
  if (!sinking) return;
  sinking = false;
  outBase = savedBase;
  outLen = savedLen;
  bump(ST_RECORDS_DROPPED);
  // The dropped record's literals were entered in the dictionary but never reach the
  // host: later references to them would read nothing. Start the dictionary over.
  dictClear();
}

/** Closes the record (patches its length and string count). */
export function recEnd(): void {
  const len = outBase + <usize>outLen - recStart;
  store<u32>(recStart, <u32>len);
  store<u8>(recStart, nStr, 6);
  unsink();
}
