// Flow table shared by TCP and UDP: a fixed array of flow slots, chained hash buckets,
// and a clock hand that recycles the oldest slot when the table is full. Memory is fixed
// at init, so a flood of half-open flows evicts old flows instead of growing the heap.

import { pktDstPort, pktSrcPort, PKT_DST, PKT_SRC, pktIpv6 } from "./pkt";
import { slabFree } from "./slab";
import { copy16 } from "./util";
import { quicRelease } from "./quic_glue";
import { tlsCtxRelease } from "./tls13";

/** Bytes per flow slot (layout below). */
export const FLOW_SIZE: usize = 256;
// Flow layout
export const FL_ID: usize = 0; // u32 connection number (1-based, never reused)
export const FL_USED: usize = 4; // u8
export const FL_PROTO: usize = 5; // u8 6 = TCP, 17 = UDP
export const FL_FLAGS: usize = 6; // u8 bit0 SYN seen; bits 2-4 QUIC (quic_glue.ts)
export const FL_CLIENT_DIR: usize = 7; // u8 direction that sent the ClientHello + 1 (0 = none yet)
export const FL_A: usize = 8; // u8[16] address of the side first seen sending
export const FL_B: usize = 24; // u8[16]
export const FL_PORT_A: usize = 40; // u16
export const FL_PORT_B: usize = 42; // u16
export const FL_NEXT: usize = 44; // u32 next slot in the bucket chain (+1; 0 = end)
export const FL_BUCKET: usize = 48; // u32
export const FL_QUIC: usize = 52; // u32 QUIC state block index + 1 (quic_glue.ts)
export const FL_TLSCTX: usize = 56; // u32 TLS 1.3 decryption context + 1 (tls13.ts)
/** ClientHello random (32 bytes): the key log is keyed by it. */
export const FL_CRANDOM: usize = 192;
/** Per-direction stream state: dir 0 = A→B at 64, dir 1 = B→A at 128. */
export const FL_DIR0: usize = 64;
export const DIR_SIZE: usize = 64;

// Direction layout
export const D_SEQ: usize = 0; // u32 sequence number of the first unconsumed byte
export const D_SEQ_KNOWN: usize = 4; // u8
export const D_MODE: usize = 5; // u8 stream parser mode (tcp.ts)
export const D_FLAGS: usize = 6; // u8 bit0 server hello reported, bit1 CCS seen
export const D_SLAB: usize = 8; // i32 slab index, -1 none
export const D_BUF_LEN: usize = 12; // u32 contiguous bytes buffered
export const D_SKIP: usize = 16; // u32 bytes to skip without buffering
export const D_OOO_START: usize = 20; // u32 out-of-order range, offsets from D_SEQ
export const D_OOO_END: usize = 24; // u32 (0 = none)
export const D_HELLOS: usize = 28; // u32 hellos reported in this direction

let flows: usize = 0;
let maxFlows: i32 = 0;
let buckets: usize = 0;
let bucketMask: u32 = 0;
let hand: i32 = 0;
let nextId: u32 = 1;
export let flowsActive: i32 = 0;
export let flowsEvicted: f64 = 0;
export let flowsCreated: f64 = 0;
/** Direction of the current packet within its flow: 0 = A→B, 1 = B→A. */
export let flowDir: i32 = 0;
/** The flow of the previous lookup (0 = none). */
let lastFlow: usize = 0;

export function flowInit(base: usize, n: i32, bucketBase: usize, nBuckets: i32): void {
  flows = base;
  maxFlows = n;
  buckets = bucketBase;
  bucketMask = <u32>nBuckets - 1;
  memory.fill(flows, 0, <usize>n * FLOW_SIZE);
  memory.fill(buckets, 0, <usize>nBuckets * 4);
  hand = 0;
  nextId = 1;
  lastFlow = 0;
  flowsActive = 0;
  flowsEvicted = 0;
  flowsCreated = 0;
}

/** Bytes the table needs for `n` flows and `nBuckets` buckets. */
export function flowBytes(n: i32, nBuckets: i32): usize {
  return <usize>n * FLOW_SIZE + <usize>nBuckets * 4;
}

// @ts-ignore: decorator
@inline function mix(h: u32): u32 {
  h ^= h >> 16;
  h *= 0x7feb352d;
  h ^= h >> 15;
  h *= 0x846ca68b;
  h ^= h >> 16;
  return h;
}

function endpointHash(addr: usize, port: u32): u32 {
  return mix(load<u32>(addr) ^ load<u32>(addr, 4) * 31 ^ load<u32>(addr, 8) * 131 ^
    load<u32>(addr, 12) * 1031 ^ port * 0x9e3779b1);
}

let shardIndex: u32 = 0;
let shardCount: u32 = 1;

/** Restricts the session to flows whose hash falls in shard `index` of `count`. */
export function flowSetShard(index: u32, count: u32): void {
  shardCount = count == 0 ? 1 : count;
  shardIndex = index % shardCount;
}

/**
 * True when the current packet's flow belongs to this session's shard. Several sessions
 * (one per core) can each take the whole capture and keep disjoint flows; both directions
 * of a flow hash alike.
 */
export function inShard(): bool {
  if (shardCount == 1) return true;
  const h = endpointHash(PKT_SRC, pktSrcPort) + endpointHash(PKT_DST, pktDstPort);
  return mix(h) % shardCount == shardIndex;
}

function sameAddr(a: usize, b: usize): bool {
  return load<u64>(a) == load<u64>(b) && load<u64>(a, 8) == load<u64>(b, 8);
}

function unlink(f: usize): void {
  const idx = <u32>((f - flows) / FLOW_SIZE) + 1;
  const bp = buckets + (<usize>load<u32>(f, FL_BUCKET) << 2);
  let cur = load<u32>(bp);
  if (cur == idx) {
    store<u32>(bp, load<u32>(f, FL_NEXT));
    return;
  }
  while (cur != 0) {
    const c = flows + <usize>(cur - 1) * FLOW_SIZE;
    const nx = load<u32>(c, FL_NEXT);
    if (nx == idx) {
      store<u32>(c, load<u32>(f, FL_NEXT), FL_NEXT);
      return;
    }
    cur = nx;
  }
}

/** Frees a flow's slot and its reassembly buffers. */
export function flowRelease(f: usize): void {
  if (load<u8>(f, FL_USED) == 0) return;
  unlink(f);
  for (let d: usize = 0; d < 2; d++) {
    const s = load<i32>(f + FL_DIR0 + d * DIR_SIZE, D_SLAB);
    if (s >= 0) slabFree(s);
  }
  quicRelease(f);
  tlsCtxRelease(f);
  store<u8>(f, 0, FL_USED);
  if (lastFlow == f) lastFlow = 0;
  flowsActive--;
}

/**
 * Finds the flow of the current packet (addresses and ports from pkt.ts) or creates it.
 * Sets `flowDir`. Returns 0 only if `create` is false and the flow is unknown.
 */
export function flowLookup(proto: u8, create: bool): usize {
  // Consecutive packets often belong to one flow (a hello and its reply): try it first.
  const last = lastFlow;
  if (last != 0 && load<u8>(last, FL_USED) != 0 && load<u8>(last, FL_PROTO) == proto) {
    if (load<u16>(last, FL_PORT_A) == pktSrcPort && load<u16>(last, FL_PORT_B) == pktDstPort &&
        sameAddr(last + FL_A, PKT_SRC) && sameAddr(last + FL_B, PKT_DST)) {
      flowDir = 0;
      return last;
    }
    if (load<u16>(last, FL_PORT_A) == pktDstPort && load<u16>(last, FL_PORT_B) == pktSrcPort &&
        sameAddr(last + FL_A, PKT_DST) && sameAddr(last + FL_B, PKT_SRC)) {
      flowDir = 1;
      return last;
    }
  }
  const f = lookupSlow(proto, create);
  if (f != 0) lastFlow = f;
  return f;
}

function lookupSlow(proto: u8, create: bool): usize {
  const hs = endpointHash(PKT_SRC, pktSrcPort);
  const hd = endpointHash(PKT_DST, pktDstPort);
  const b = (hs + hd + proto) & bucketMask; // symmetric: both directions share a bucket
  let cur = load<u32>(buckets + (<usize>b << 2));
  while (cur != 0) {
    const f = flows + <usize>(cur - 1) * FLOW_SIZE;
    if (load<u8>(f, FL_PROTO) == proto) {
      if (load<u16>(f, FL_PORT_A) == pktSrcPort && load<u16>(f, FL_PORT_B) == pktDstPort &&
          sameAddr(f + FL_A, PKT_SRC) && sameAddr(f + FL_B, PKT_DST)) {
        flowDir = 0;
        return f;
      }
      if (load<u16>(f, FL_PORT_A) == pktDstPort && load<u16>(f, FL_PORT_B) == pktSrcPort &&
          sameAddr(f + FL_A, PKT_DST) && sameAddr(f + FL_B, PKT_SRC)) {
        flowDir = 1;
        return f;
      }
    }
    cur = load<u32>(f, FL_NEXT);
  }
  if (!create) return 0;
  // Clock hand: take the next slot; if it is in use, the oldest flow is evicted.
  const f = flows + <usize>hand * FLOW_SIZE;
  hand = hand + 1 == maxFlows ? 0 : hand + 1;
  if (load<u8>(f, FL_USED) != 0) {
    flowRelease(f);
    flowsEvicted++;
  }
  memory.fill(f, 0, FLOW_SIZE);
  store<u32>(f, nextId++, FL_ID);
  store<u8>(f, 1, FL_USED);
  store<u8>(f, proto, FL_PROTO);
  copy16(f + FL_A, PKT_SRC);
  copy16(f + FL_B, PKT_DST);
  store<u16>(f, pktSrcPort, FL_PORT_A);
  store<u16>(f, pktDstPort, FL_PORT_B);
  store<u32>(f, b, FL_BUCKET);
  store<i32>(f + FL_DIR0, -1, D_SLAB);
  store<i32>(f + FL_DIR0 + DIR_SIZE, -1, D_SLAB);
  const bp = buckets + (<usize>b << 2);
  store<u32>(f, load<u32>(bp), FL_NEXT);
  store<u32>(bp, <u32>((f - flows) / FLOW_SIZE) + 1);
  flowsActive++;
  flowsCreated++;
  flowDir = 0;
  return f;
}

/** Direction state of the current packet in flow `f`. */
// @ts-ignore: decorator
@inline export function dirState(f: usize, dir: i32): usize {
  return f + FL_DIR0 + <usize>dir * DIR_SIZE;
}
