// AES-128-GCM decryption with tag verification (NIST SP 800-38D), allocation-free.
//
// QUIC Initial packets are AEAD_AES_128_GCM with a 12-byte nonce and 16-byte tag
// (RFC 9001 §5.3). GHASH uses Shoup's 8-bit table method: the 256 multiples of H by every
// byte value (4 KiB, ~0.4 µs to build) and a shared 256-entry reduction table, so a
// 16-byte block costs 16 table steps instead of 128 bit steps. The multiples table lives
// in module memory and is rebuilt when a different key's H comes along: a QUIC flow sends
// one or two Initials per direction, so a per-key copy in every flow state (8 KiB) would
// buy nothing but memory.
//
// Long ciphertexts (a 1200-byte client Initial is 75 blocks) are hashed two blocks per
// step with a second table for H^2: X' = ((X ^ B1)·H^2) ^ (B2·H). The two products do not
// depend on each other, so the CPU overlaps their table walks instead of waiting on one
// serial chain (~30 → ~22 ns per block in V8); the H^2 table costs ~0.3 µs per key, so
// short inputs keep the one-table path.
//
// Verification and decryption are separate calls so a caller can check the tag over the
// whole packet and then decrypt only the prefix it actually reads (CTR mode allows that):
// QUIC Initials are mostly PADDING after the hello.
//
// A key context (GCM_CTX_BYTES) holds the AES round keys and H; callers keep one per flow,
// so packets of the same connection do not re-derive the key schedule.

import { aes128Ctr32, aes128EncryptBlock, aes128ExpandKey } from "./aes";

/** Offset of H (two u64, high half first) in a key context, after the round keys. */
const H_OFF: usize = 176;
/** Bytes of a GCM key context: 176 round-key bytes, then H. */
export const GCM_CTX_BYTES: i32 = <i32>H_OFF + 16;

/** H · b for every byte b (the table of the key whose H is tableHi/tableLo). */
const TABLE: usize = memory.data(256 * 16, 16);
let tableHi: u64 = 0;
let tableLo: u64 = 0;
let tableReady = false;
/** H^2 · b for every byte b, for the H of TABLE (valid while table2Ready). */
const TABLE2: usize = memory.data(256 * 16, 16);
let table2Ready = false;
/** Ciphertexts at least this long are hashed two blocks per step (TABLE2 pays off). */
const PAIR_MIN_BYTES: i32 = 512;

/** Tag length of AEAD_AES_128_GCM (RFC 5116 §5.1). */
export const GCM_TAG_BYTES: i32 = 16;

/**
 * REM8[r]: what shifting the low byte r out of the 128-bit accumulator contributes back
 * (reduction by x^128 + x^7 + x^2 + x + 1 in GCM's reflected bit order), as a u64 to XOR
 * into bytes 0..7, in memory byte order like the tables. Built once by `ensureRem8` from
 * eight single-bit reductions.
 */
const REM8: usize = memory.data(256 * 8, 8);
let rem8Ready = false;

const ZERO: usize = memory.data(16);
const BLOCK: usize = memory.data(16);
const COUNTER: usize = memory.data(16);
const KEYSTREAM: usize = memory.data(16);
const X: usize = memory.data(16);

function ensureRem8(): void {
  if (rem8Ready) return;
  for (let r: u64 = 0; r < 256; r++) {
    let hi: u64 = 0;
    let lo: u64 = r;
    for (let k = 0; k < 8; k++) {
      const reduce = 0xe100000000000000 & (0 - (lo & 1));
      lo = (hi << 63) | (lo >> 1);
      hi = (hi >> 1) ^ reduce;
    }
    store<u64>(REM8 + (<usize>r << 3), bswap<u64>(hi)); // memory byte order, as the tables
  }
  rem8Ready = true;
}

/**
 * Sets up the context at `ctx` (GCM_CTX_BYTES) for the 16-byte key at `key`: expands the
 * AES key and computes H = E(K, 0^128).
 */
export function gcmInit(ctx: usize, key: usize): void {
  aes128ExpandKey(key, ctx);
  aes128EncryptBlock(ctx, ZERO, BLOCK);
  store<u64>(ctx + H_OFF, bswap<u64>(load<u64>(BLOCK, 0)), 0);
  store<u64>(ctx + H_OFF, bswap<u64>(load<u64>(BLOCK, 8)), 8);
}

/** Fills the 256-entry multiples table at `t` for the field element (hi, lo). */
function buildTable(t: usize, hi: u64, lo: u64): void {
  store<u64>(t, 0, 0);
  store<u64>(t, 0, 8);
  // Entry i holds H · (i as a reflected byte): H at 128, then halvings at 64 .. 1.
  for (let i: usize = 128; i > 0; i >>= 1) {
    // Entries are kept in memory byte order (GCM's own), so blocks and the accumulator
    // need no byte swap: words loaded from memory hold byte j at bits 8j.
    store<u64>(t + (i << 4), bswap<u64>(hi), 0);
    store<u64>(t + (i << 4), bswap<u64>(lo), 8);
    const reduce = 0xe100000000000000 & (0 - (lo & 1));
    lo = (hi << 63) | (lo >> 1);
    hi = (hi >> 1) ^ reduce;
  }
  // Every other entry is the XOR of the power-of-two entries of its set bits.
  // Entry i + j for j = 1 .. i-1: j = 1 alone, then two entries per step (a table is
  // built for every key, so its loop overhead shows: ~25% faster than one per step).
  for (let i: usize = 2; i < 256; i <<= 1) {
    const e = t + (i << 4);
    const ehi = load<u64>(e, 0);
    const elo = load<u64>(e, 8);
    store<u64>(e + 16, ehi ^ load<u64>(t + 16, 0), 0);
    store<u64>(e + 16, elo ^ load<u64>(t + 16, 8), 8);
    for (let j: usize = 2; j < i; j += 2) {
      const s = t + (j << 4);
      const d = e + (j << 4);
      store<u64>(d, ehi ^ load<u64>(s, 0), 0);
      store<u64>(d, elo ^ load<u64>(s, 8), 8);
      store<u64>(d, ehi ^ load<u64>(s, 16), 16);
      store<u64>(d, elo ^ load<u64>(s, 24), 24);
    }
  }
}

/** Makes TABLE hold the multiples of the H of `ctx` (rebuilt only when H changes). */
function ensureTable(ctx: usize): void {
  const hi = load<u64>(ctx + H_OFF, 0);
  const lo = load<u64>(ctx + H_OFF, 8);
  if (tableReady && hi == tableHi && lo == tableLo) return;
  ensureRem8();
  tableHi = hi;
  tableLo = lo;
  tableReady = true;
  table2Ready = false;
  buildTable(TABLE, hi, lo);
}

/** Makes TABLE2 hold the multiples of H^2 for the H of TABLE (after `ensureTable`). */
function ensureTable2(): void {
  if (table2Ready) return;
  // H^2 = H · H through TABLE: one GHASH multiplication of X = H with X zeroed first.
  store<u64>(X, bswap<u64>(tableHi), 0);
  store<u64>(X, bswap<u64>(tableLo), 8);
  store<u64>(BLOCK, 0, 0);
  store<u64>(BLOCK, 0, 8);
  ghashUpdate(TABLE, BLOCK, 16);
  buildTable(TABLE2, bswap<u64>(load<u64>(X, 0)), bswap<u64>(load<u64>(X, 8)));
  table2Ready = true;
}

/**
 * Absorbs `len` bytes at `p` into the GHASH accumulator X (zero-padding the last block):
 * X = (X ^ block) · H per block, the multiplication a byte at a time from the last byte.
 */
function ghashUpdate(table: usize, p: usize, len: i32): void {
  // Memory byte order throughout (z0: bytes 0..7 of X, byte j at bits 8j; z1: bytes 8..15).
  // GCM's "shift right by 8 bits" of the 128-bit value moves every byte to the next memory
  // position: a left shift of these words, byte 7 carried into byte 8.
  let z0 = load<u64>(X, 0);
  let z1 = load<u64>(X, 8);
  let q = p;
  let n = len;
  while (n > 0) {
    let b0: u64 = 0;
    let b1: u64 = 0;
    if (n >= 16) {
      b0 = load<u64>(q, 0);
      b1 = load<u64>(q, 8);
    } else {
      for (let i = 0; i < n; i++) {
        const b = <u64>load<u8>(q + <usize>i);
        if (i < 8) b0 |= b << (<u64>(8 * i));
        else b1 |= b << (<u64>(8 * (i - 8)));
      }
    }
    const x0 = z0 ^ b0;
    const x1 = z1 ^ b1;
    // Bytes of X from the last (byte 15, top of x1) to the first (byte 0, bottom of x0).
    let e = table + (<usize>(x1 >> 56) << 4);
    z0 = load<u64>(e, 0);
    z1 = load<u64>(e, 8);
    for (let k: i64 = 48; k >= 0; k -= 8) {
      const rem = <usize>(z1 >> 56);
      z1 = (z1 << 8) | (z0 >> 56);
      z0 = (z0 << 8) ^ load<u64>(REM8 + (rem << 3));
      e = table + (<usize>((x1 >> <u64>k) & 0xff) << 4);
      z0 ^= load<u64>(e, 0);
      z1 ^= load<u64>(e, 8);
    }
    for (let k: i64 = 56; k >= 0; k -= 8) {
      const rem = <usize>(z1 >> 56);
      z1 = (z1 << 8) | (z0 >> 56);
      z0 = (z0 << 8) ^ load<u64>(REM8 + (rem << 3));
      e = table + (<usize>((x0 >> <u64>k) & 0xff) << 4);
      z0 ^= load<u64>(e, 0);
      z1 ^= load<u64>(e, 8);
    }
    q += 16;
    n -= 16;
  }
  store<u64>(X, z0, 0);
  store<u64>(X, z1, 8);
}

/**
 * Absorbs the whole 32-byte pairs of the `len` bytes at `p` into X, two blocks per step:
 * X = ((X ^ B1) · H^2) ^ (B2 · H). Returns the bytes absorbed (a multiple of 32); the
 * caller hashes the rest with `ghashUpdate`. TABLE2 must be ready (`ensureTable2`). Unrolled by hand: V8 keeps the loop form's
 * variable shifts and runs it ~40% slower than this straight-line code.
 */
function ghashPairs(p: usize, len: i32): i32 {
  // Memory byte order, as in ghashUpdate.
  let z0 = load<u64>(X, 0);
  let z1 = load<u64>(X, 8);
  let q = p;
  let n = len;
  while (n >= 32) {
    const a0 = z0 ^ load<u64>(q, 0);
    const a1 = z1 ^ load<u64>(q, 8);
    const b0 = load<u64>(q, 16);
    const b1 = load<u64>(q, 24);
    // Each product from its last byte to its first, as in ghashUpdate, interleaved.
    let e = TABLE2 + (<usize>(a1 >> 56) << 4);
    let y0 = load<u64>(e, 0);
    let y1 = load<u64>(e, 8);
    e = TABLE + (<usize>(b1 >> 56) << 4);
    let v0 = load<u64>(e, 0);
    let v1 = load<u64>(e, 8);
    let r: usize = 0;
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a1 >> 48) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b1 >> 48) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a1 >> 40) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b1 >> 40) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a1 >> 32) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b1 >> 32) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a1 >> 24) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b1 >> 24) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a1 >> 16) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b1 >> 16) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a1 >> 8) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b1 >> 8) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>(a1 & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>(b1 & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>(a0 >> 56) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>(b0 >> 56) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a0 >> 48) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b0 >> 48) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a0 >> 40) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b0 >> 40) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a0 >> 32) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b0 >> 32) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a0 >> 24) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b0 >> 24) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a0 >> 16) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b0 >> 16) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>((a0 >> 8) & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>((b0 >> 8) & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    r = <usize>(y1 >> 56);
    y1 = (y1 << 8) | (y0 >> 56);
    y0 = (y0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE2 + (<usize>(a0 & 0xff) << 4);
    y0 ^= load<u64>(e, 0);
    y1 ^= load<u64>(e, 8);
    r = <usize>(v1 >> 56);
    v1 = (v1 << 8) | (v0 >> 56);
    v0 = (v0 << 8) ^ load<u64>(REM8 + (r << 3));
    e = TABLE + (<usize>(b0 & 0xff) << 4);
    v0 ^= load<u64>(e, 0);
    v1 ^= load<u64>(e, 8);
    z0 = y0 ^ v0;
    z1 = y1 ^ v1;
    q += 32;
    n -= 32;
  }
  store<u64>(X, z0, 0);
  store<u64>(X, z1, 8);
  return len - n;
}

/**
 * Checks the 16-byte tag at `tag` of the ciphertext at `ct` (`ctLen` bytes) and the
 * additional data at `aad`, under the context `ctx` and the 12-byte nonce at `nonce`.
 * Reads only; decrypt afterwards with `gcmCtr`.
 */
export function gcmVerify(
  ctx: usize, nonce: usize, aad: usize, aadLen: i32, ct: usize, ctLen: i32, tag: usize,
): bool {
  if (aadLen < 0 || ctLen < 0) return false;
  ensureTable(ctx);
  // Before X is zeroed: computing H^2 runs through X.
  const pairs = ctLen >= PAIR_MIN_BYTES;
  if (pairs) ensureTable2();
  const table = TABLE;
  // Small fixed copies as plain loads/stores: memory.fill/copy are out-of-line calls in V8.
  store<u64>(X, 0, 0);
  store<u64>(X, 0, 8);
  ghashUpdate(table, aad, aadLen);
  const paired = pairs ? ghashPairs(ct, ctLen) : 0;
  ghashUpdate(table, ct + <usize>paired, ctLen - paired);
  store<u64>(BLOCK, bswap<u64>(<u64>aadLen << 3), 0);
  store<u64>(BLOCK, bswap<u64>(<u64>ctLen << 3), 8);
  ghashUpdate(table, BLOCK, 16);
  // J0 = nonce || 0x00000001 (SP 800-38D §7.1 for a 96-bit IV); tag = E(K, J0) ^ GHASH.
  store<u64>(COUNTER, load<u64>(nonce));
  store<u32>(COUNTER, load<u32>(nonce, 8), 8);
  store<u32>(COUNTER, bswap<u32>(1), 12);
  aes128EncryptBlock(ctx, COUNTER, KEYSTREAM);
  const diff = (load<u64>(KEYSTREAM, 0) ^ load<u64>(X, 0) ^ load<u64>(tag, 0)) |
    (load<u64>(KEYSTREAM, 8) ^ load<u64>(X, 8) ^ load<u64>(tag, 8));
  return diff == 0;
}

/**
 * GCM's counter-mode part: XORs the keystream into bytes [from, to) of the ciphertext at
 * `ct`, writing them at the same offsets of `out` (which may alias `ct`). `from` must be a
 * multiple of 16, so a caller can decrypt a packet in pieces, front to back.
 */
export function gcmCtr(ctx: usize, nonce: usize, ct: usize, from: i32, to: i32, out: usize): void {
  if (from < 0 || to <= from || (from & 15) != 0) return;
  // Counter 1 is J0 (the tag's); data starts at counter 2.
  aes128Ctr32(ctx, nonce, <u32>(from >> 4) + 2, ct + <usize>from, out + <usize>from, to - from);
}

/**
 * Decrypts `ctLen` bytes at `ct` into `out` (which may alias `ct`) with the context at
 * `ctx`, the 12-byte nonce at `nonce` and the additional data at `aad`, after checking
 * the 16-byte tag at `tag`. Returns false, writing nothing, when the tag does not match.
 */
export function gcmDecrypt(
  ctx: usize, nonce: usize, aad: usize, aadLen: i32, ct: usize, ctLen: i32, tag: usize, out: usize,
): bool {
  if (!gcmVerify(ctx, nonce, aad, aadLen, ct, ctLen, tag)) return false;
  gcmCtr(ctx, nonce, ct, 0, ctLen, out);
  return true;
}
