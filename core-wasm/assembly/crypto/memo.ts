// Memoised SHA-256 and MD5 for the fingerprint hot path.
//
// Fingerprint inputs repeat: the sorted cipher and extension strings of JA4 are shared by
// every client of one TLS stack, so most JA4 hashes have been computed before. A compression
// costs ~190 ns (SHA-256) / ~135 ns (MD5) per 64-byte block in V8, and a JA4 needs ~6
// blocks; a cache hit costs one multiplicative hash pass and one compare of the input.
//
// Direct-mapped, fixed size, allocation-free: a slot keeps the whole input (so a hit is
// exact, never a false positive), its length and its digest; a colliding input simply
// overwrites the slot. Inputs longer than MEMO_KEY_MAX bypass the cache.

import { sha256 } from "./sha256";
import { md5 } from "./md5";

/** Longest input kept in the cache (longer ones are hashed every time). */
export const MEMO_KEY_MAX: i32 = 1008;
/** Slots per cache (a power of two). */
const SLOTS: i32 = 256;
/** Slot layout: u64 key hash, i32 length, i32 pad, 32-byte digest, input bytes. */
const SLOT_BYTES: usize = 16 + 32 + <usize>MEMO_KEY_MAX;

const SHA_TABLE: usize = memory.data(<i32>SLOT_BYTES * SLOTS, 16);
const MD5_TABLE: usize = memory.data(<i32>SLOT_BYTES * SLOTS, 16);

/** 64-bit multiplicative hash of `len` bytes (not cryptographic; picks a slot). */
function keyHash(ptr: usize, len: i32): u64 {
  let h: u64 = 0x9e3779b97f4a7c15 ^ <u64>len;
  let p = ptr;
  const end = ptr + <usize>len;
  while (p + 8 <= end) {
    h = (h ^ load<u64>(p)) * 0xff51afd7ed558ccd;
    h ^= h >> 32;
    p += 8;
  }
  let tail: u64 = 0;
  let shift: u64 = 0;
  while (p < end) {
    tail |= <u64>load<u8>(p) << shift;
    shift += 8;
    p++;
  }
  h = (h ^ tail) * 0xc4ceb9fe1a85ec53;
  return h ^ (h >> 29);
}

/** True when `len` bytes at `a` and `b` are equal (8 bytes at a time). */
function sameBytes(a: usize, b: usize, len: i32): bool {
  let i: usize = 0;
  const n = <usize>len;
  while (i + 8 <= n) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  while (i < n) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
    i++;
  }
  return true;
}

/**
 * Looks `len` bytes at `ptr` up in `table`; on a hit copies `digestLen` bytes to `out` and
 * returns 0, on a miss claims the slot (key stored, digest still to fill) and returns the
 * slot's digest pointer.
 */
function lookup(table: usize, ptr: usize, len: i32, out: usize, digestLen: usize): usize {
  const h = keyHash(ptr, len);
  const slot = table + <usize>(<i32>(h >> 40) & (SLOTS - 1)) * SLOT_BYTES;
  if (load<u64>(slot) == h && load<i32>(slot, 8) == len && sameBytes(slot + 48, ptr, len)) {
    memory.copy(out, slot + 16, digestLen);
    return 0;
  }
  store<u64>(slot, h);
  store<i32>(slot, len, 8);
  memory.copy(slot + 48, ptr, <usize>len);
  return slot + 16;
}

/** SHA-256 of `len` bytes at `ptr` into 32 bytes at `out`, answered from a cache when it can. */
export function sha256Cached(ptr: usize, len: i32, out: usize): void {
  if (len < 0 || len > MEMO_KEY_MAX) {
    sha256(ptr, len, out);
    return;
  }
  const digest = lookup(SHA_TABLE, ptr, len, out, 32);
  if (digest == 0) return;
  // Input can alias `out`: hash into the slot first, then copy out.
  sha256(ptr, len, digest);
  memory.copy(out, digest, 32);
}

/** MD5 of `len` bytes at `ptr` into 16 bytes at `out`, answered from a cache when it can. */
export function md5Cached(ptr: usize, len: i32, out: usize): void {
  if (len < 0 || len > MEMO_KEY_MAX) {
    md5(ptr, len, out);
    return;
  }
  const digest = lookup(MD5_TABLE, ptr, len, out, 16);
  if (digest == 0) return;
  md5(ptr, len, digest);
  memory.copy(out, digest, 16);
}
