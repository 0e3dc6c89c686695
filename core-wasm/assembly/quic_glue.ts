// Bridge between the UDP path and QUIC Initial decryption (quic/initial.ts): gives each
// QUIC flow a state block from a fixed pool, feeds it the flow's datagrams and
// fingerprints the ClientHello / ServerHello reassembled from CRYPTO frames, with the
// `q` protocol character.
//
// The pool is bounded: blocks are handed out by a clock hand; when every block is busy,
// the oldest holder loses its block (counted as quic_undecrypted). A flow returns its
// block as soon as both hellos are reported, or when the flow is evicted.

import {
  QUIC_HELLO, QUIC_STATE_BYTES, quicExpectNextHello, quicFeed, quicHelloLen, quicHelloPtr,
  quicInitialVersion, quicStateInit,
} from "./quic/initial";
import { FL_FLAGS, FL_ID, FL_QUIC } from "./flow";
import { emitHello } from "./hello";
import { be24 } from "./util";
import { bump, ST_MALFORMED_HELLOS, ST_QUIC_UNDECRYPTED } from "./stats";

const FF_QUIC_CLIENT_DONE: u8 = 4;
const FF_QUIC_SERVER_DONE: u8 = 8;
const FF_QUIC_LOST: u8 = 16;

/**
 * ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3: SHA-256 of
 * "HelloRetryRequest"); the client then sends a second ClientHello on the same stream.
 */
const HRR_RANDOM: usize = memory.data<u8>([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

/** True when the ServerHello body at `body` (`len` bytes) is a HelloRetryRequest. */
function isHelloRetry(body: usize, len: i32): bool {
  if (len < 34) return false;
  const r = body + 2; // after legacy_version
  for (let i: usize = 0; i < 32; i += 8) {
    if (load<u64>(r + i) != load<u64>(HRR_RANDOM + i)) return false;
  }
  return true;
}

const BLOCK: usize = (<usize>QUIC_STATE_BYTES + 7) & ~7;
let pool: usize = 0;
let owners: usize = 0; // per block: owning flow pointer (0 = free)
let nBlocks: i32 = 0;
let hand: i32 = 0;

export function quicPoolBytes(n: i32): usize {
  return <usize>n * BLOCK + <usize>n * 4 + 8;
}

export function quicPoolInit(mem: usize, n: i32): void {
  pool = (mem + 7) & ~7;
  owners = pool + <usize>n * BLOCK;
  nBlocks = n;
  memory.fill(owners, 0, <usize>n * 4);
  hand = 0;
}

function blockPtr(i: i32): usize {
  return pool + <usize>i * BLOCK;
}

/** Returns the flow's block to the pool (flow eviction, or both hellos done). */
export function quicRelease(f: usize): void {
  const b = load<u32>(f, FL_QUIC);
  if (b == 0) return;
  store<u32>(owners + (<usize>(b - 1) << 2), 0);
  store<u32>(f, 0, FL_QUIC);
}

function acquire(f: usize): i32 {
  if (nBlocks == 0) return -1;
  const i = hand;
  hand = hand + 1 == nBlocks ? 0 : hand + 1;
  const op = owners + (<usize>i << 2);
  const prev = <usize>load<u32>(op);
  if (prev != 0) {
    store<u32>(prev, 0, FL_QUIC);
    store<u8>(prev, load<u8>(prev, FL_FLAGS) | FF_QUIC_LOST, FL_FLAGS);
    bump(ST_QUIC_UNDECRYPTED);
  }
  store<u32>(op, <u32>f);
  store<u32>(f, <u32>i + 1, FL_QUIC);
  quicStateInit(blockPtr(i));
  return i;
}

/** Processes one UDP payload of flow `f`, direction `dir` (0 = first sender = client). */
export function quicInput(f: usize, dir: i32, p: usize, len: i32): void {
  const fromServer = dir == 1;
  const flags = load<u8>(f, FL_FLAGS);
  const doneBit = fromServer ? FF_QUIC_SERVER_DONE : FF_QUIC_CLIENT_DONE;
  if ((flags & (doneBit | FF_QUIC_LOST)) != 0) return;
  let b = <i32>load<u32>(f, FL_QUIC) - 1;
  if (b < 0) {
    if (quicInitialVersion(p, len) == 0) return;
    b = acquire(f);
    if (b < 0) return;
  }
  const state = blockPtr(b);
  if (quicFeed(state, p, len, fromServer) != QUIC_HELLO) return;
  const hs = quicHelloPtr(state, fromServer);
  const hlen = quicHelloLen(state, fromServer);
  const type = <u32>load<u8>(hs);
  const mlen = <i32>be24(hs + 1);
  let nf = load<u8>(f, FL_FLAGS) | doneBit;
  if (hlen < 4 || mlen + 4 > hlen || (type != 1 && type != 2)) {
    bump(ST_MALFORMED_HELLOS);
  } else {
    emitHello(type, hs + 4, mlen, load<u32>(f, FL_ID), true);
    // After a HelloRetryRequest the client's second ClientHello follows further along its
    // CRYPTO stream: re-arm that direction so it is reported too (as on TCP). The server's
    // second ServerHello is not: JA4S stays the first one, as on TCP.
    if (type == 2 && isHelloRetry(hs + 4, mlen) && quicExpectNextHello(state, false)) {
      nf &= ~FF_QUIC_CLIENT_DONE;
    }
  }
  store<u8>(f, nf, FL_FLAGS);
  if ((nf & (FF_QUIC_CLIENT_DONE | FF_QUIC_SERVER_DONE)) == (FF_QUIC_CLIENT_DONE | FF_QUIC_SERVER_DONE)) {
    quicRelease(f);
  }
}
