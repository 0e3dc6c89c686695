// String dictionary for the record stream. Fingerprint strings repeat across connections
// (one TLS stack → one JA4), and decoding bytes into JS strings costs more on the host
// than computing them here. So each distinct string is sent once with a dictionary index
// and afterwards only by index. Lookups compare bytes exactly: a hit is never a guess.
//
// Indices are reused after the table fills and is cleared; that is safe because a
// literal always precedes the references to its index in stream order, and the host
// overwrites its entry when the literal arrives.

const SLOTS: i32 = 1 << 17; // open addressing, load ≤ 0.5
const MAX_ENTRIES: i32 = 1 << 16;
const STORE_BYTES: i32 = 8 << 20;

let slots: usize = 0; // u32 entry index + 1 per slot (0 = empty)
let entries: usize = 0; // per entry: u32 offset in store, u32 length, u32 hash
let bytesBase: usize = 0;
let nEntries: i32 = 0;
let storeUsed: i32 = 0;
/** Set by dictLookup: the index of the string (new or found). */
export let dictIndex: u32 = 0;
/**
 * Bumped whenever the table is cleared (indices start over): whoever keeps indices across
 * records (fpmemo.ts) must only use those of the current generation.
 */
export let dictGen: u32 = 0;

export function dictInit(mem: usize): void {
  slots = mem;
  entries = slots + (<usize>SLOTS << 2);
  bytesBase = entries + <usize>MAX_ENTRIES * 12;
  memory.fill(slots, 0, <usize>SLOTS << 2);
  nEntries = 0;
  storeUsed = 0;
}

/**
 * Forgets every string: later strings get indices from 0 again, sent as literals first, so
 * the host's stale entries are overwritten before any reference reads them.
 */
export function dictClear(): void {
  memory.fill(slots, 0, <usize>SLOTS << 2);
  nEntries = 0;
  storeUsed = 0;
  dictGen++;
}

export function dictBytes(): usize {
  return (<usize>SLOTS << 2) + <usize>MAX_ENTRIES * 12 + <usize>STORE_BYTES;
}

/** 32-bit hash of `n` bytes at `p` (two 64-bit multiply lanes); `salt` separates uses. */
export function hashBytes(p: usize, n: i32, salt: u32): u32 {
  // Two independent lanes of 8 bytes (unaligned loads are fine in wasm): the multiplies of
  // one lane overlap the other's, about twice the speed of one chain on long strings.
  let a: u64 = 0x9e3779b97f4a7c15 ^ (<u64>salt << 32) ^ <u64>n;
  let b: u64 = 0xc2b2ae3d27d4eb4f ^ <u64>n;
  const end = p + <usize>n;
  let q = p;
  while (q + 16 <= end) {
    a = (a ^ load<u64>(q)) * 0xff51afd7ed558ccd;
    b = (b ^ load<u64>(q, 8)) * 0xc4ceb9fe1a85ec53;
    a ^= a >> 29;
    b ^= b >> 31;
    q += 16;
  }
  if (q + 8 <= end) {
    a = (a ^ load<u64>(q)) * 0xff51afd7ed558ccd;
    a ^= a >> 29;
    q += 8;
  }
  let tail: u64 = 0;
  let shift: u64 = 0;
  while (q < end) {
    tail |= <u64>load<u8>(q) << shift;
    shift += 8;
    q++;
  }
  let h = (a ^ (b * 0x9e3779b97f4a7c15) ^ tail) * 0xc4ceb9fe1a85ec53;
  h ^= h >> 32;
  return <u32>h;
}

/** Equality of `n` bytes at `a` and `b`, 8 bytes at a time. */
export function sameBytes(a: usize, b: usize, n: i32): bool {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    if (load<u64>(a + <usize>i) != load<u64>(b + <usize>i)) return false;
  }
  for (; i < n; i++) {
    if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return false;
  }
  return true;
}

/**
 * Looks up `n` bytes at `p` for field `field`. Returns true when already known
 * (dictIndex set); otherwise adds it (dictIndex set to the new index) and returns false.
 */
export function dictLookup(field: u32, p: usize, n: i32): bool {
  const h = hashBytes(p, n, field * 0x9e3779b1);
  const mask = <u32>SLOTS - 1;
  let s = h & mask;
  while (true) {
    const e = load<u32>(slots + (<usize>s << 2));
    if (e == 0) break;
    const ep = entries + <usize>(e - 1) * 12;
    if (load<u32>(ep, 8) == h && <i32>load<u32>(ep, 4) == n &&
        sameBytes(bytesBase + <usize>load<u32>(ep), p, n)) {
      dictIndex = e - 1;
      return true;
    }
    s = (s + 1) & mask;
  }
  if (nEntries == MAX_ENTRIES || storeUsed + n > STORE_BYTES) {
    dictClear();
    s = h & mask;
  }
  const idx = nEntries++;
  const ep = entries + <usize>idx * 12;
  store<u32>(ep, <u32>storeUsed);
  store<u32>(ep, <u32>n, 4);
  store<u32>(ep, h, 8);
  memory.copy(bytesBase + <usize>storeUsed, p, n);
  storeUsed += n;
  store<u32>(slots + (<usize>s << 2), <u32>idx + 1);
  dictIndex = <u32>idx;
  return false;
}
