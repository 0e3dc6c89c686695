// SHA-256 (FIPS 180-4), allocation-free.
//
// JA4 hashes short comma-joined strings and truncates to 12 hex characters; QUIC key
// derivation (HKDF, RFC 5869) hashes a few dozen bytes at a time. Both are hot, so this
// module uses static scratch memory (no allocator, no GC) and a streaming core that
// HMAC reuses without copying the message.
//
// Not re-entrant: WebAssembly here is single-threaded and callers never interleave two
// streaming hashes (HMAC saves and restores the chaining state explicitly).

/** Round constants K[0..63], FIPS 180-4 §4.2.2. */
const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Message schedule W[0..63]. */
const W: usize = memory.data(256);
/** Chaining state H[0..7] of the running hash. */
const STATE: usize = memory.data(32);
/** Partial block carried between `sha256Update` calls. */
const BUF: usize = memory.data(64);
let bufLen: i32 = 0;
let totalLen: u64 = 0;

/** Size in bytes of the chaining state (for HMAC's saved inner/outer states). */
export const SHA256_STATE_BYTES: i32 = 32;
/** Size in bytes of a digest. */
export const SHA256_DIGEST_BYTES: i32 = 32;
/** Size in bytes of a block. */
export const SHA256_BLOCK_BYTES: i32 = 64;

/** Processes one 64-byte block at `block` into the chaining state. */
function compress(block: usize): void {
  for (let i = 0; i < 16; i++) {
    store<u32>(W + (<usize>i << 2), bswap<u32>(load<u32>(block + (<usize>i << 2))));
  }
  for (let i = 16; i < 64; i++) {
    const p = W + (<usize>i << 2);
    const w15 = load<u32>(p - 60);
    const w2 = load<u32>(p - 8);
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    store<u32>(p, load<u32>(p - 64) + s0 + load<u32>(p - 28) + s1);
  }
  let a = load<u32>(STATE, 0);
  let b = load<u32>(STATE, 4);
  let c = load<u32>(STATE, 8);
  let d = load<u32>(STATE, 12);
  let e = load<u32>(STATE, 16);
  let f = load<u32>(STATE, 20);
  let g = load<u32>(STATE, 24);
  let h = load<u32>(STATE, 28);
  for (let i: usize = 0; i < 256; i += 4) {
    const t1 = h + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) +
      ((e & f) ^ (~e & g)) + load<u32>(K + i) + load<u32>(W + i);
    const t2 = (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) +
      ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  store<u32>(STATE, load<u32>(STATE, 0) + a, 0);
  store<u32>(STATE, load<u32>(STATE, 4) + b, 4);
  store<u32>(STATE, load<u32>(STATE, 8) + c, 8);
  store<u32>(STATE, load<u32>(STATE, 12) + d, 12);
  store<u32>(STATE, load<u32>(STATE, 16) + e, 16);
  store<u32>(STATE, load<u32>(STATE, 20) + f, 20);
  store<u32>(STATE, load<u32>(STATE, 24) + g, 24);
  store<u32>(STATE, load<u32>(STATE, 28) + h, 28);
}

/** Starts a streaming hash with the FIPS 180-4 §5.3.3 initial value. */
export function sha256Init(): void {
  store<u32>(STATE, 0x6a09e667, 0);
  store<u32>(STATE, 0xbb67ae85, 4);
  store<u32>(STATE, 0x3c6ef372, 8);
  store<u32>(STATE, 0xa54ff53a, 12);
  store<u32>(STATE, 0x510e527f, 16);
  store<u32>(STATE, 0x9b05688c, 20);
  store<u32>(STATE, 0x1f83d9ab, 24);
  store<u32>(STATE, 0x5be0cd19, 28);
  bufLen = 0;
  totalLen = 0;
}

/**
 * Resumes a streaming hash from a saved 32-byte chaining state that has already absorbed
 * `absorbed` bytes (a multiple of 64). HMAC uses this to skip re-hashing its key pads.
 */
export function sha256Resume(state: usize, absorbed: u64): void {
  memory.copy(STATE, state, 32);
  bufLen = 0;
  totalLen = absorbed;
}

/** Copies the current chaining state (valid only at a block boundary) to `out`. */
export function sha256SaveState(out: usize): void {
  memory.copy(out, STATE, 32);
}

/** Absorbs `len` bytes at `ptr` into the running hash. */
export function sha256Update(ptr: usize, len: i32): void {
  if (len <= 0) return;
  totalLen += <u64>len;
  let p = ptr;
  let n = len;
  if (bufLen > 0) {
    const take = min(64 - bufLen, n);
    memory.copy(BUF + <usize>bufLen, p, <usize>take);
    bufLen += take;
    p += <usize>take;
    n -= take;
    if (bufLen < 64) return;
    compress(BUF);
    bufLen = 0;
  }
  while (n >= 64) {
    compress(p);
    p += 64;
    n -= 64;
  }
  if (n > 0) {
    memory.copy(BUF, p, <usize>n);
    bufLen = n;
  }
}

/** Finishes the running hash and writes the 32-byte digest to `out`. */
export function sha256Final(out: usize): void {
  const bits = totalLen << 3;
  store<u8>(BUF + <usize>bufLen, 0x80);
  let n = bufLen + 1;
  if (n > 56) {
    memory.fill(BUF + <usize>n, 0, <usize>(64 - n));
    compress(BUF);
    n = 0;
  }
  memory.fill(BUF + <usize>n, 0, <usize>(56 - n));
  store<u64>(BUF, bswap<u64>(bits), 56);
  compress(BUF);
  for (let i: usize = 0; i < 32; i += 4) {
    store<u32>(out + i, bswap<u32>(load<u32>(STATE + i)));
  }
  bufLen = 0;
  totalLen = 0;
}

/**
 * SHA-256 of `len` bytes at `ptr`; writes the 32-byte digest at `out` (`out` may alias
 * the input). Allocation-free.
 */
export function sha256(ptr: usize, len: i32, out: usize): void {
  sha256Init();
  sha256Update(ptr, len);
  sha256Final(out);
}
