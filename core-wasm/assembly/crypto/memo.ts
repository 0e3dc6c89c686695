// Memoised SHA-256 and MD5 for the fingerprint hot path.
//
// Fingerprint inputs repeat: the sorted cipher and extension strings of JA4 are shared by
// every client of one TLS stack, so most JA4 hashes have been computed before. A compression
// costs ~200 ns (SHA-256) / ~130 ns (MD5) per 64-byte block in V8 and a JA4 + JA3 needs
// ~10 blocks; a cache hit costs one pass of a two-lane multiplicative hash and one compare.
//
// Each cache is 8-way set associative with least-recently-used replacement (256 sets,
// 2048 entries): a direct-mapped table thrashes as soon as two live inputs share a slot,
// which with a few hundred distinct fingerprints is most of them. An entry keeps the whole
// input (a hit is exact, never a false match), its length, its digest and a use tick.
// Inputs longer than MEMO_KEY_MAX bypass the cache. The tables (1 MiB each) are taken
// from the heap on first use, so a module that never hashes does not pay for them.

import { sha256 } from "./sha256";
import { md5 } from "./md5";

/** Longest input kept in the cache (longer ones are hashed every time). */
export const MEMO_KEY_MAX: i32 = 464;
const WAYS: usize = 8;
const SETS: usize = 256;
// Entry layout: u64 key hash, i32 length, u32 last-use tick, 32-byte digest, input bytes.
const E_HASH: usize = 0;
const E_LEN: usize = 8;
const E_TICK: usize = 12;
const E_DIGEST: usize = 16;
const E_KEY: usize = 48;
const ENTRY_BYTES: usize = E_KEY + <usize>MEMO_KEY_MAX;
/** Bytes of one cache table. */
export const MEMO_TABLE_BYTES: usize = ENTRY_BYTES * WAYS * SETS;

let shaTable: usize = 0;
let md5Table: usize = 0;
let tick: u32 = 0;
let hits: f64 = 0;
let misses: f64 = 0;

/** Lookups answered from the caches so far (both digests). */
export function memoHits(): f64 {
  return hits;
}

/** Lookups that had to hash (both digests; inputs over MEMO_KEY_MAX not counted). */
export function memoMisses(): f64 {
  return misses;
}

/** 64-bit hash of `len` bytes (not cryptographic; picks a set and pre-filters compares). */
function keyHash(ptr: usize, len: i32): u64 {
  // Two independent lanes keep both multipliers busy; the final mix folds them together.
  let a: u64 = 0x9e3779b97f4a7c15 ^ <u64>len;
  let b: u64 = 0xc2b2ae3d27d4eb4f;
  const end = ptr + <usize>len;
  let tail: u64 = 0;
  let tail2: u64 = 0;
  if (len >= 16) {
    let p = ptr;
    while (p + 16 <= end) {
      a = (a ^ load<u64>(p)) * 0xff51afd7ed558ccd;
      b = (b ^ load<u64>(p, 8)) * 0xc4ceb9fe1a85ec53;
      a ^= a >> 29;
      b ^= b >> 31;
      p += 16;
    }
    // The last 16 bytes, overlapping what the loop read: no byte-by-byte tail.
    tail = load<u64>(end - 16);
    tail2 = load<u64>(end - 8);
  } else if (len >= 8) {
    tail = load<u64>(ptr);
    tail2 = load<u64>(end - 8);
  } else {
    for (let i = 0; i < len; i++) tail |= <u64>load<u8>(ptr + <usize>i) << <u64>(8 * i);
  }
  let h = ((a ^ tail) * 0x9fb21c651e98df25) ^ ((b ^ tail2) * 0xd6e8feb86659fd93);
  h ^= h >> 32;
  h *= 0x9e3779b97f4a7c15;
  return h ^ (h >> 29);
}

/** True when `len` bytes at `a` and `b` are equal (16 bytes at a time). */
function sameBytes(a: usize, b: usize, len: i32): bool {
  const n = <usize>len;
  if (n < 8) {
    for (let i: usize = 0; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
    return true;
  }
  let i: usize = 0;
  while (i + 16 <= n) {
    if (((load<u64>(a + i) ^ load<u64>(b + i)) | (load<u64>(a + i, 8) ^ load<u64>(b + i, 8))) != 0) {
      return false;
    }
    i += 16;
  }
  // The last 8 and 16 bytes, overlapping what was compared: no byte loop.
  if (i + 8 <= n && load<u64>(a + i) != load<u64>(b + i)) return false;
  return load<u64>(a + n - 8) == load<u64>(b + n - 8);
}

/**
 * Looks `len` bytes at `ptr` up in `table`; on a hit copies `digestLen` bytes to `out` and
 * returns 0; on a miss claims the least recently used entry of the set (input stored, digest
 * still to fill) and returns that entry's digest pointer.
 */
function lookup(table: usize, ptr: usize, len: i32, out: usize, digestLen: usize): usize {
  const h = keyHash(ptr, len);
  const set = table + <usize>(h >> 40) % SETS * WAYS * ENTRY_BYTES;
  // Wrapping after 2^32 lookups only makes one round of evictions less than ideal.
  tick++;
  let victim = set;
  let oldest: u32 = 0xffffffff;
  for (let w: usize = 0; w < WAYS; w++) {
    const e = set + w * ENTRY_BYTES;
    if (load<u64>(e, E_HASH) == h && load<i32>(e, E_LEN) == len && sameBytes(e + E_KEY, ptr, len)) {
      store<u32>(e, tick, E_TICK);
      memory.copy(out, e + E_DIGEST, digestLen);
      hits++;
      return 0;
    }
    const t = load<u32>(e, E_TICK);
    if (t < oldest) {
      oldest = t;
      victim = e;
    }
  }
  misses++;
  store<u64>(victim, h, E_HASH);
  store<i32>(victim, len, E_LEN);
  store<u32>(victim, tick, E_TICK);
  memory.copy(victim + E_KEY, ptr, <usize>len);
  return victim + E_DIGEST;
}

/** A table of unused entries: length -1 never equals an input's length. */
function newTable(): usize {
  const t = heap.alloc(MEMO_TABLE_BYTES);
  memory.fill(t, 0, MEMO_TABLE_BYTES);
  for (let e = t; e < t + MEMO_TABLE_BYTES; e += ENTRY_BYTES) store<i32>(e, -1, E_LEN);
  return t;
}

/** SHA-256 of `len` bytes at `ptr` into 32 bytes at `out`, answered from a cache when it can. */
export function sha256Cached(ptr: usize, len: i32, out: usize): void {
  if (len < 0 || len > MEMO_KEY_MAX) {
    sha256(ptr, len, out);
    return;
  }
  if (shaTable == 0) shaTable = newTable();
  const digest = lookup(shaTable, ptr, len, out, 32);
  if (digest == 0) return;
  // Input can alias `out`: hash into the entry first, then copy out.
  sha256(ptr, len, digest);
  memory.copy(out, digest, 32);
}

/** MD5 of `len` bytes at `ptr` into 16 bytes at `out`, answered from a cache when it can. */
export function md5Cached(ptr: usize, len: i32, out: usize): void {
  if (len < 0 || len > MEMO_KEY_MAX) {
    md5(ptr, len, out);
    return;
  }
  if (md5Table == 0) md5Table = newTable();
  const digest = lookup(md5Table, ptr, len, out, 16);
  if (digest == 0) return;
  md5(ptr, len, digest);
  memory.copy(out, digest, 16);
}
