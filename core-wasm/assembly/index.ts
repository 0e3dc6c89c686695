// The engine's host interface (core-wasm/loader.ts is its only caller; the record format
// is in out.ts and core-wasm/README.md).
//
// The host writes a chunk of capture bytes at inputPtr() and calls feed(len); then it
// calls run() until pending() is false, decoding run()'s output bytes at outputPtr()
// each time. Chunks may split records anywhere: the unparsed tail of a chunk is moved
// just in front of the next input area, so the next chunk continues it without a copy of
// the chunk itself. finish() reports a capture cut short. No call per packet.
//
// There are two input areas, used in turn: feed() hands the current one to the decoder
// and makes inputPtr() point at the other, so the host can read the next chunk into it
// (an asynchronous file read) while run() decodes this one.

import { FATAL, isPcapMagic, NEED_MORE, pcapHeader, pcapRecord, pcapSetMaxRecord, badLength } from "./pcap";
import { badBlockLength, isPcapngMagic, pcapngBlock } from "./pcapng";
import { outBase, outFull, outInit, outLen, outReset } from "./out";
import { FLOW_SIZE, flowBytes, flowInit, flowSetShard, flowsActive, flowsCreated, flowsEvicted } from "./flow";
import { slabBytes, slabInit, slabsInUse, slabsPeak } from "./slab";
import { emitHello, setOriginalOrder } from "./hello";
import { pktSetTs } from "./pkt";
import { setStat, ST_COUNT, ST_FLOWS_ACTIVE, ST_FLOWS_CREATED, ST_FLOWS_EVICTED, ST_KEYLOG_SECRETS, ST_MEMORY_BYTES, ST_SLABS_IN_USE, ST_SLABS_PEAK, STATS } from "./stats";
import { keylogCount } from "./keylog";
import { be24 } from "./util";
import { dictBytes, dictClear, dictInit } from "./dict";
import { md5Cached, sha256Cached } from "./crypto/memo";
import { quicPoolBytes, quicPoolInit } from "./quic_glue";
import { tlsCtxBytes, tlsCtxInit } from "./tls13";
import { setFpMemo } from "./fpmemo";

/** TLS 1.3 contexts for captures that embed their key log (pcapng DSB). */
const TLS_CONTEXTS: i32 = 4;

/** Largest record / block accepted (and the carry-over area's size). */
export const CARRY_MAX: i32 = 1 << 20;
/** Largest chunk the host may write at inputPtr(). */
export const INPUT_CAP: i32 = 4 << 20;
const OUT_CAP: i32 = 2 << 20;

// Error codes reported by errorCode().
export const ERR_NONE: i32 = 0;
export const ERR_NOT_A_CAPTURE: i32 = 1;
export const ERR_TRUNCATED: i32 = 2;
export const ERR_BAD_RECORD: i32 = 3;

const FMT_UNKNOWN: i32 = 0;
const FMT_PCAP_HEADER: i32 = 1;
const FMT_PCAP: i32 = 2;
const FMT_PCAPNG: i32 = 3;

let buf: usize = 0;
/** The input area the next feed() decodes: `slot0` or `slot1`. */
let input: usize = 0;
let slot0: usize = 0;
let slot1: usize = 0;
let cur: usize = 0;
let end: usize = 0;
let carryLen: i32 = 0;
let format: i32 = FMT_UNKNOWN;
let isPending: bool = false;
let err: i32 = ERR_NONE;
let errOffset: f64 = 0;
let errDetail: u32 = 0;
/** Stream offset of `cur`. */
let offset: f64 = 0;
let initialized: bool = false;
const MEMO_WARMUP: usize = memory.data(16);
const MEMO_WARMUP_OUT: usize = memory.data(32);

/**
 * Allocates every buffer once: the flow table (`maxFlows` slots), `slabs` reassembly
 * buffers of 20 KiB, `quicStates` QUIC Initial state blocks. Nothing is allocated
 * afterwards.
 */
export function init(maxFlows: i32, slabs: i32, quicStates: i32): void {
  if (initialized) return;
  initialized = true;
  // The digest memo (crypto/memo.ts) allocates its tables on first use. Let it do so now,
  // while memory is small: the stub allocator grows memory by at least its current size,
  // so a first use after the big allocation below would double the footprint.
  sha256Cached(MEMO_WARMUP, 1, MEMO_WARMUP_OUT);
  md5Cached(MEMO_WARMUP, 1, MEMO_WARMUP_OUT);
  let nb = 1;
  while (nb < maxFlows * 2) nb <<= 1;
  // One allocation for everything: the stub allocator grows memory by at least its
  // current size, so several allocations in a row could double the footprint.
  const sizes: StaticArray<usize> = [
    <usize>(2 * (CARRY_MAX + INPUT_CAP)), // two input areas, each after its carry-over room
    <usize>OUT_CAP,
    flowBytes(maxFlows, nb),
    slabBytes(slabs),
    dictBytes(),
    quicPoolBytes(quicStates),
    tlsCtxBytes(TLS_CONTEXTS),
  ];
  let total: usize = 0;
  for (let i = 0; i < sizes.length; i++) total += (sizes[i] + 15) & ~15;
  let p = (heap.alloc(total + 16) + 15) & ~15;
  buf = p;
  slot0 = buf + <usize>CARRY_MAX;
  slot1 = slot0 + <usize>(INPUT_CAP + CARRY_MAX);
  input = slot0;
  p += (sizes[0] + 15) & ~15;
  outInit(p, OUT_CAP);
  p += (sizes[1] + 15) & ~15;
  flowInit(p, maxFlows, p + <usize>maxFlows * FLOW_SIZE, nb);
  p += (sizes[2] + 15) & ~15;
  slabInit(p, p + <usize>slabs * 20480, slabs);
  p += (sizes[3] + 15) & ~15;
  dictInit(p);
  p += (sizes[4] + 15) & ~15;
  quicPoolInit(p, quicStates);
  p += (sizes[5] + 15) & ~15;
  // Key-logged TLS 1.3 decryption contexts: tiny pool, only captures with secrets use it.
  tlsCtxInit(p, TLS_CONTEXTS);
  pcapSetMaxRecord(CARRY_MAX);
}

export function inputPtr(): usize {
  return input;
}

export function inputCap(): i32 {
  return INPUT_CAP;
}

export function outputPtr(): usize {
  return outBase;
}

/** Session option: keep only the flows of shard `index` out of `count` (multi-core). */
export function setShard(index: i32, count: i32): void {
  flowSetShard(<u32>index, <u32>count);
}

/** Session option: produce ja4_o / ja4_ro (1) or not (0). */
export function setOriginalOrderOption(on: i32): void {
  setOriginalOrder(on != 0);
}

/**
 * Session option: memoise fingerprint strings per distinct parsed hello (1, default) or
 * build them for every hello (0: for benchmarks and cross-checks; the output is the same).
 */
export function setFpMemoOption(on: i32): void {
  setFpMemo(on != 0);
}

/**
 * Tells the engine that `len` new bytes are at inputPtr(). inputPtr() then points at the
 * other input area: the host may fill it while run() decodes these bytes.
 */
export function feed(len: i32): void {
  cur = input - <usize>carryLen;
  end = input + <usize>len;
  carryLen = 0;
  isPending = true;
  input = input == slot0 ? slot1 : slot0;
}

export function pending(): bool {
  return isPending;
}

function fail(code: i32, detail: u32): void {
  err = code;
  errOffset = offset;
  errDetail = detail;
  isPending = false;
}

/**
 * Decodes records from the fed chunk until it is used up or the output buffer is nearly
 * full; returns the number of output bytes at outputPtr().
 */
export function run(): i32 {
  outReset();
  if (err != ERR_NONE) {
    isPending = false;
    return 0;
  }
  while (cur < end) {
    if (outFull()) return outLen; // pending stays true: the host calls run() again
    const avail = <i32>(end - cur);
    let r: i32;
    if (format == FMT_PCAP) {
      r = pcapRecord(cur, avail);
      if (r == FATAL) {
        fail(ERR_BAD_RECORD, badLength);
        return outLen;
      }
    } else if (format == FMT_PCAPNG) {
      r = pcapngBlock(cur, avail);
      if (r == FATAL) {
        fail(ERR_BAD_RECORD, badBlockLength);
        return outLen;
      }
    } else if (format == FMT_PCAP_HEADER) {
      r = pcapHeader(cur, avail);
      if (r > 0) format = FMT_PCAP;
    } else {
      if (avail < 4) {
        r = NEED_MORE;
      } else if (isPcapMagic(cur)) {
        format = FMT_PCAP_HEADER;
        continue;
      } else if (isPcapngMagic(cur)) {
        format = FMT_PCAPNG;
        continue;
      } else {
        fail(ERR_NOT_A_CAPTURE, load<u32>(cur));
        return outLen;
      }
    }
    if (r == NEED_MORE) break;
    cur += <usize>r;
    offset += <f64>r;
  }
  // Keep the incomplete tail for the next chunk, just in front of the next input area
  // (its carry-over room: the host may be writing the area itself meanwhile).
  const tail = <i32>(end - cur);
  if (tail > CARRY_MAX) {
    fail(ERR_BAD_RECORD, <u32>tail);
    return outLen;
  }
  if (tail > 0) memory.copy(input - <usize>tail, cur, <usize>tail);
  carryLen = tail;
  cur = end;
  isPending = false;
  return outLen;
}

/** End of stream: a leftover partial record means the capture was cut short. */
export function finish(): i32 {
  if (err == ERR_NONE) {
    if (carryLen > 0 || format == FMT_PCAP_HEADER) fail(ERR_TRUNCATED, <u32>carryLen);
    else if (format == FMT_UNKNOWN) fail(ERR_NOT_A_CAPTURE, 0);
  }
  return err;
}

export function errorCode(): i32 {
  return err;
}

/** Stream offset of the record that failed. */
export function errorOffset(): f64 {
  return errOffset;
}

/** Extra detail: the bad length, the bad magic, or the bytes left over. */
export function errorDetail(): u32 {
  return errDetail;
}

/** Refreshes the gauges and returns the address of the f64 counters. */
export function statsPtr(): usize {
  setStat(ST_FLOWS_ACTIVE, <f64>flowsActive);
  setStat(ST_FLOWS_EVICTED, flowsEvicted);
  setStat(ST_FLOWS_CREATED, flowsCreated);
  setStat(ST_SLABS_IN_USE, <f64>slabsInUse);
  setStat(ST_SLABS_PEAK, <f64>slabsPeak);
  setStat(ST_MEMORY_BYTES, <f64>memory.size() * 65536);
  setStat(ST_KEYLOG_SECRETS, <f64>keylogCount());
  return STATS;
}

export function statsCount(): i32 {
  return ST_COUNT;
}

/**
 * Fingerprints one handshake message (4-byte header included) of `len` bytes written at
 * inputPtr(), as if seen on a connection with the current addresses (zero). Returns the
 * output length. For unit tests of the TLS layer without a capture around it.
 */
export function fingerprintHandshake(len: i32, quic: i32): i32 {
  outReset();
  if (len < 4) return 0;
  const mlen = <i32>be24(input + 1);
  if (mlen + 4 > len) return 0;
  pktSetTs(0);
  emitHello(<u32>load<u8>(input), input + 4, mlen, 0, quic != 0);
  return outLen;
}

/**
 * Hot-path benchmark: fingerprints the ClientHello message at inputPtr() `iterations`
 * times (JA4 + JA3, raw strings included, no original-order variants).
 */
export function benchClientHello(len: i32, iterations: i32): i32 {
  const mlen = <i32>be24(input + 1);
  if (mlen + 4 > len) return 0;
  let ok = 0;
  for (let i = 0; i < iterations; i++) {
    outReset();
    if (emitHello(1, input + 4, mlen, 0, false)) ok++;
  }
  // The host never decoded these records: their literals must not be referenced later
  // (fingerprintHandshake on the same instance), so the dictionary starts over.
  outReset();
  dictClear();
  return ok;
}
