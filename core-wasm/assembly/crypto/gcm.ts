// AES-128-GCM decryption with tag verification (NIST SP 800-38D), allocation-free.
//
// QUIC Initial packets are AEAD_AES_128_GCM with a 12-byte nonce and 16-byte tag
// (RFC 9001 §5.3). GHASH uses Shoup's 4-bit table method: 16 precomputed multiples of H
// per key (256 bytes, cheap to build for every new flow) and a 16-entry reduction table,
// so a block costs 32 table steps instead of 128 bit steps.
//
// A key context (GCM_CTX_BYTES) holds the AES round keys and the GHASH table; callers
// keep one per flow, so packets of the same connection do not re-derive anything.

import { aes128EncryptBlock, aes128ExpandKey } from "./aes";

/** Bytes of a GCM key context: 176 round-key bytes, then 16 × 16-byte GHASH multiples. */
export const GCM_CTX_BYTES: i32 = 176 + 256;
const HTABLE: usize = 176;

/** Tag length of AEAD_AES_128_GCM (RFC 5116 §5.1). */
export const GCM_TAG_BYTES: i32 = 16;

/** Reduction constants for the 4 bits shifted out per step (x^128 + x^7 + x^2 + x + 1). */
const REM4: usize = memory.data<u64>([
  0x0000000000000000, 0x1c20000000000000, 0x3840000000000000, 0x2460000000000000,
  0x7080000000000000, 0x6ca0000000000000, 0x48c0000000000000, 0x54e0000000000000,
  0xe100000000000000, 0xfd20000000000000, 0xd940000000000000, 0xc560000000000000,
  0x9180000000000000, 0x8da0000000000000, 0xa9c0000000000000, 0xb5e0000000000000,
]);

const ZERO: usize = memory.data(16);
const BLOCK: usize = memory.data(16);
const COUNTER: usize = memory.data(16);
const KEYSTREAM: usize = memory.data(16);
const X: usize = memory.data(16);

/**
 * Sets up the context at `ctx` (GCM_CTX_BYTES) for the 16-byte key at `key`: expands the
 * AES key, computes H = E(K, 0^128) and the GHASH table.
 */
export function gcmInit(ctx: usize, key: usize): void {
  aes128ExpandKey(key, ctx);
  aes128EncryptBlock(ctx, ZERO, BLOCK);
  let hi = bswap<u64>(load<u64>(BLOCK, 0));
  let lo = bswap<u64>(load<u64>(BLOCK, 8));
  const t = ctx + HTABLE;
  store<u64>(t, 0, 0);
  store<u64>(t, 0, 8);
  // Entry i holds H · (i as a reflected nibble): H at 8, then halvings at 4, 2, 1.
  for (let i: usize = 8; i > 0; i >>= 1) {
    store<u64>(t + (i << 4), hi, 0);
    store<u64>(t + (i << 4), lo, 8);
    const reduce = 0xe100000000000000 & (0 - (lo & 1));
    lo = (hi << 63) | (lo >> 1);
    hi = (hi >> 1) ^ reduce;
  }
  for (let i: usize = 2; i < 16; i <<= 1) {
    for (let j: usize = 1; j < i; j++) {
      store<u64>(t + ((i + j) << 4), load<u64>(t + (i << 4), 0) ^ load<u64>(t + (j << 4), 0), 0);
      store<u64>(t + ((i + j) << 4), load<u64>(t + (i << 4), 8) ^ load<u64>(t + (j << 4), 8), 8);
    }
  }
}

/** X = X · H in GF(2^128), X a 16-byte big-endian block at the static `X`. */
function gmult(table: usize): void {
  let n = <usize>load<u8>(X, 15);
  let e = table + ((n & 0xf) << 4);
  let zhi = load<u64>(e, 0);
  let zlo = load<u64>(e, 8);
  let hiNibble = true;
  let idx: i32 = 15;
  while (true) {
    const nib = hiNibble ? n >> 4 : n & 0xf;
    const rem = <usize>(zlo & 0xf);
    zlo = (zhi << 60) | (zlo >> 4);
    zhi = (zhi >> 4) ^ load<u64>(REM4 + (rem << 3));
    e = table + (nib << 4);
    zhi ^= load<u64>(e, 0);
    zlo ^= load<u64>(e, 8);
    if (hiNibble) {
      idx--;
      if (idx < 0) break;
      n = <usize>load<u8>(X + <usize>idx);
    }
    hiNibble = !hiNibble;
  }
  store<u64>(X, bswap<u64>(zhi), 0);
  store<u64>(X, bswap<u64>(zlo), 8);
}

/** Absorbs `len` bytes at `p` into the GHASH accumulator, zero-padding the last block. */
function ghashUpdate(table: usize, p: usize, len: i32): void {
  let q = p;
  let n = len;
  while (n >= 16) {
    store<u64>(X, load<u64>(X, 0) ^ load<u64>(q, 0), 0);
    store<u64>(X, load<u64>(X, 8) ^ load<u64>(q, 8), 8);
    gmult(table);
    q += 16;
    n -= 16;
  }
  if (n > 0) {
    for (let i: usize = 0; i < <usize>n; i++) {
      store<u8>(X + i, load<u8>(X + i) ^ load<u8>(q + i));
    }
    gmult(table);
  }
}

/**
 * Decrypts `ctLen` bytes at `ct` into `out` (which may alias `ct`) with the context at
 * `ctx`, the 12-byte nonce at `nonce` and the additional data at `aad`, after checking
 * the 16-byte tag at `tag`. Returns false, writing nothing, when the tag does not match.
 */
export function gcmDecrypt(
  ctx: usize, nonce: usize, aad: usize, aadLen: i32, ct: usize, ctLen: i32, tag: usize, out: usize,
): bool {
  if (aadLen < 0 || ctLen < 0) return false;
  const table = ctx + HTABLE;
  memory.fill(X, 0, 16);
  ghashUpdate(table, aad, aadLen);
  ghashUpdate(table, ct, ctLen);
  store<u64>(X, load<u64>(X, 0) ^ bswap<u64>(<u64>aadLen << 3), 0);
  store<u64>(X, load<u64>(X, 8) ^ bswap<u64>(<u64>ctLen << 3), 8);
  gmult(table);
  // J0 = nonce || 0x00000001 (SP 800-38D §7.1 for a 96-bit IV); tag = E(K, J0) ^ GHASH.
  memory.copy(COUNTER, nonce, 12);
  store<u32>(COUNTER, bswap<u32>(1), 12);
  aes128EncryptBlock(ctx, COUNTER, KEYSTREAM);
  const diff = (load<u64>(KEYSTREAM, 0) ^ load<u64>(X, 0) ^ load<u64>(tag, 0)) |
    (load<u64>(KEYSTREAM, 8) ^ load<u64>(X, 8) ^ load<u64>(tag, 8));
  if (diff != 0) return false;
  let counter: u32 = 2;
  let done: i32 = 0;
  while (done < ctLen) {
    store<u32>(COUNTER, bswap<u32>(counter), 12);
    aes128EncryptBlock(ctx, COUNTER, KEYSTREAM);
    const src = ct + <usize>done;
    const dst = out + <usize>done;
    if (ctLen - done >= 16) {
      store<u64>(dst, load<u64>(src, 0) ^ load<u64>(KEYSTREAM, 0), 0);
      store<u64>(dst, load<u64>(src, 8) ^ load<u64>(KEYSTREAM, 8), 8);
      done += 16;
    } else {
      for (let i: usize = 0; done < ctLen; i++) {
        store<u8>(dst + i, load<u8>(src + i) ^ load<u8>(KEYSTREAM + i));
        done++;
      }
    }
    counter++;
  }
  return true;
}
