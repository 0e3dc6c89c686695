// SHA-256 (FIPS 180-4), allocation-free.
//
// JA4 hashes short comma-joined strings and truncates to 12 hex characters; QUIC key
// derivation (HKDF, RFC 5869) hashes a few dozen bytes at a time. Both are hot, so this
// module uses static scratch memory (no allocator, no GC) and a streaming core that
// HMAC reuses without copying the message.
//
// Not re-entrant: WebAssembly here is single-threaded and callers never interleave two
// streaming hashes (HMAC saves and restores the chaining state explicitly).

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

// FIPS 180-4 §4.1.2 functions. Inlined; the 64 rounds below are unrolled with the
// working variables renamed each round instead of shifted, so no moves and no
// message-schedule array: the rolling 16-word window lives in locals.
@inline function ch(x: u32, y: u32, z: u32): u32 {
  return z ^ (x & (y ^ z));
}
@inline function bigS0(x: u32): u32 {
  return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22);
}
@inline function bigS1(x: u32): u32 {
  return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25);
}
@inline function s0(x: u32): u32 {
  return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3);
}
@inline function s1(x: u32): u32 {
  return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >>> 10);
}

/**
 * Processes one 64-byte block at `block` into the chaining state at `st` (eight u32 words).
 * Round constants K are FIPS 180-4 §4.2.2, written inline as immediates.
 */
function compressAt(st: usize, block: usize): void {
  let a = load<u32>(st, 0);
  let b = load<u32>(st, 4);
  let c = load<u32>(st, 8);
  let d = load<u32>(st, 12);
  let e = load<u32>(st, 16);
  let f = load<u32>(st, 20);
  let g = load<u32>(st, 24);
  let h = load<u32>(st, 28);
  // maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and this round's a ^ b is the next round's
  // b ^ c: one operation less per round. p and q hold the two, alternately.
  let q = b ^ c;
  let p: u32 = 0;
  let w0 = bswap<u32>(load<u32>(block, 0));
  let w1 = bswap<u32>(load<u32>(block, 4));
  let w2 = bswap<u32>(load<u32>(block, 8));
  let w3 = bswap<u32>(load<u32>(block, 12));
  let w4 = bswap<u32>(load<u32>(block, 16));
  let w5 = bswap<u32>(load<u32>(block, 20));
  let w6 = bswap<u32>(load<u32>(block, 24));
  let w7 = bswap<u32>(load<u32>(block, 28));
  let w8 = bswap<u32>(load<u32>(block, 32));
  let w9 = bswap<u32>(load<u32>(block, 36));
  let w10 = bswap<u32>(load<u32>(block, 40));
  let w11 = bswap<u32>(load<u32>(block, 44));
  let w12 = bswap<u32>(load<u32>(block, 48));
  let w13 = bswap<u32>(load<u32>(block, 52));
  let w14 = bswap<u32>(load<u32>(block, 56));
  let w15 = bswap<u32>(load<u32>(block, 60));
  h += bigS1(e) + ch(e, f, g) + 0x428a2f98 + w0; d += h; p = a ^ b; h += bigS0(a) + (b ^ (p & q));
  g += bigS1(d) + ch(d, e, f) + 0x71374491 + w1; c += g; q = h ^ a; g += bigS0(h) + (a ^ (q & p));
  f += bigS1(c) + ch(c, d, e) + 0xb5c0fbcf + w2; b += f; p = g ^ h; f += bigS0(g) + (h ^ (p & q));
  e += bigS1(b) + ch(b, c, d) + 0xe9b5dba5 + w3; a += e; q = f ^ g; e += bigS0(f) + (g ^ (q & p));
  d += bigS1(a) + ch(a, b, c) + 0x3956c25b + w4; h += d; p = e ^ f; d += bigS0(e) + (f ^ (p & q));
  c += bigS1(h) + ch(h, a, b) + 0x59f111f1 + w5; g += c; q = d ^ e; c += bigS0(d) + (e ^ (q & p));
  b += bigS1(g) + ch(g, h, a) + 0x923f82a4 + w6; f += b; p = c ^ d; b += bigS0(c) + (d ^ (p & q));
  a += bigS1(f) + ch(f, g, h) + 0xab1c5ed5 + w7; e += a; q = b ^ c; a += bigS0(b) + (c ^ (q & p));
  h += bigS1(e) + ch(e, f, g) + 0xd807aa98 + w8; d += h; p = a ^ b; h += bigS0(a) + (b ^ (p & q));
  g += bigS1(d) + ch(d, e, f) + 0x12835b01 + w9; c += g; q = h ^ a; g += bigS0(h) + (a ^ (q & p));
  f += bigS1(c) + ch(c, d, e) + 0x243185be + w10; b += f; p = g ^ h; f += bigS0(g) + (h ^ (p & q));
  e += bigS1(b) + ch(b, c, d) + 0x550c7dc3 + w11; a += e; q = f ^ g; e += bigS0(f) + (g ^ (q & p));
  d += bigS1(a) + ch(a, b, c) + 0x72be5d74 + w12; h += d; p = e ^ f; d += bigS0(e) + (f ^ (p & q));
  c += bigS1(h) + ch(h, a, b) + 0x80deb1fe + w13; g += c; q = d ^ e; c += bigS0(d) + (e ^ (q & p));
  b += bigS1(g) + ch(g, h, a) + 0x9bdc06a7 + w14; f += b; p = c ^ d; b += bigS0(c) + (d ^ (p & q));
  a += bigS1(f) + ch(f, g, h) + 0xc19bf174 + w15; e += a; q = b ^ c; a += bigS0(b) + (c ^ (q & p));
  w0 += s0(w1) + w9 + s1(w14);
  h += bigS1(e) + ch(e, f, g) + 0xe49b69c1 + w0; d += h; p = a ^ b; h += bigS0(a) + (b ^ (p & q));
  w1 += s0(w2) + w10 + s1(w15);
  g += bigS1(d) + ch(d, e, f) + 0xefbe4786 + w1; c += g; q = h ^ a; g += bigS0(h) + (a ^ (q & p));
  w2 += s0(w3) + w11 + s1(w0);
  f += bigS1(c) + ch(c, d, e) + 0x0fc19dc6 + w2; b += f; p = g ^ h; f += bigS0(g) + (h ^ (p & q));
  w3 += s0(w4) + w12 + s1(w1);
  e += bigS1(b) + ch(b, c, d) + 0x240ca1cc + w3; a += e; q = f ^ g; e += bigS0(f) + (g ^ (q & p));
  w4 += s0(w5) + w13 + s1(w2);
  d += bigS1(a) + ch(a, b, c) + 0x2de92c6f + w4; h += d; p = e ^ f; d += bigS0(e) + (f ^ (p & q));
  w5 += s0(w6) + w14 + s1(w3);
  c += bigS1(h) + ch(h, a, b) + 0x4a7484aa + w5; g += c; q = d ^ e; c += bigS0(d) + (e ^ (q & p));
  w6 += s0(w7) + w15 + s1(w4);
  b += bigS1(g) + ch(g, h, a) + 0x5cb0a9dc + w6; f += b; p = c ^ d; b += bigS0(c) + (d ^ (p & q));
  w7 += s0(w8) + w0 + s1(w5);
  a += bigS1(f) + ch(f, g, h) + 0x76f988da + w7; e += a; q = b ^ c; a += bigS0(b) + (c ^ (q & p));
  w8 += s0(w9) + w1 + s1(w6);
  h += bigS1(e) + ch(e, f, g) + 0x983e5152 + w8; d += h; p = a ^ b; h += bigS0(a) + (b ^ (p & q));
  w9 += s0(w10) + w2 + s1(w7);
  g += bigS1(d) + ch(d, e, f) + 0xa831c66d + w9; c += g; q = h ^ a; g += bigS0(h) + (a ^ (q & p));
  w10 += s0(w11) + w3 + s1(w8);
  f += bigS1(c) + ch(c, d, e) + 0xb00327c8 + w10; b += f; p = g ^ h; f += bigS0(g) + (h ^ (p & q));
  w11 += s0(w12) + w4 + s1(w9);
  e += bigS1(b) + ch(b, c, d) + 0xbf597fc7 + w11; a += e; q = f ^ g; e += bigS0(f) + (g ^ (q & p));
  w12 += s0(w13) + w5 + s1(w10);
  d += bigS1(a) + ch(a, b, c) + 0xc6e00bf3 + w12; h += d; p = e ^ f; d += bigS0(e) + (f ^ (p & q));
  w13 += s0(w14) + w6 + s1(w11);
  c += bigS1(h) + ch(h, a, b) + 0xd5a79147 + w13; g += c; q = d ^ e; c += bigS0(d) + (e ^ (q & p));
  w14 += s0(w15) + w7 + s1(w12);
  b += bigS1(g) + ch(g, h, a) + 0x06ca6351 + w14; f += b; p = c ^ d; b += bigS0(c) + (d ^ (p & q));
  w15 += s0(w0) + w8 + s1(w13);
  a += bigS1(f) + ch(f, g, h) + 0x14292967 + w15; e += a; q = b ^ c; a += bigS0(b) + (c ^ (q & p));
  w0 += s0(w1) + w9 + s1(w14);
  h += bigS1(e) + ch(e, f, g) + 0x27b70a85 + w0; d += h; p = a ^ b; h += bigS0(a) + (b ^ (p & q));
  w1 += s0(w2) + w10 + s1(w15);
  g += bigS1(d) + ch(d, e, f) + 0x2e1b2138 + w1; c += g; q = h ^ a; g += bigS0(h) + (a ^ (q & p));
  w2 += s0(w3) + w11 + s1(w0);
  f += bigS1(c) + ch(c, d, e) + 0x4d2c6dfc + w2; b += f; p = g ^ h; f += bigS0(g) + (h ^ (p & q));
  w3 += s0(w4) + w12 + s1(w1);
  e += bigS1(b) + ch(b, c, d) + 0x53380d13 + w3; a += e; q = f ^ g; e += bigS0(f) + (g ^ (q & p));
  w4 += s0(w5) + w13 + s1(w2);
  d += bigS1(a) + ch(a, b, c) + 0x650a7354 + w4; h += d; p = e ^ f; d += bigS0(e) + (f ^ (p & q));
  w5 += s0(w6) + w14 + s1(w3);
  c += bigS1(h) + ch(h, a, b) + 0x766a0abb + w5; g += c; q = d ^ e; c += bigS0(d) + (e ^ (q & p));
  w6 += s0(w7) + w15 + s1(w4);
  b += bigS1(g) + ch(g, h, a) + 0x81c2c92e + w6; f += b; p = c ^ d; b += bigS0(c) + (d ^ (p & q));
  w7 += s0(w8) + w0 + s1(w5);
  a += bigS1(f) + ch(f, g, h) + 0x92722c85 + w7; e += a; q = b ^ c; a += bigS0(b) + (c ^ (q & p));
  w8 += s0(w9) + w1 + s1(w6);
  h += bigS1(e) + ch(e, f, g) + 0xa2bfe8a1 + w8; d += h; p = a ^ b; h += bigS0(a) + (b ^ (p & q));
  w9 += s0(w10) + w2 + s1(w7);
  g += bigS1(d) + ch(d, e, f) + 0xa81a664b + w9; c += g; q = h ^ a; g += bigS0(h) + (a ^ (q & p));
  w10 += s0(w11) + w3 + s1(w8);
  f += bigS1(c) + ch(c, d, e) + 0xc24b8b70 + w10; b += f; p = g ^ h; f += bigS0(g) + (h ^ (p & q));
  w11 += s0(w12) + w4 + s1(w9);
  e += bigS1(b) + ch(b, c, d) + 0xc76c51a3 + w11; a += e; q = f ^ g; e += bigS0(f) + (g ^ (q & p));
  w12 += s0(w13) + w5 + s1(w10);
  d += bigS1(a) + ch(a, b, c) + 0xd192e819 + w12; h += d; p = e ^ f; d += bigS0(e) + (f ^ (p & q));
  w13 += s0(w14) + w6 + s1(w11);
  c += bigS1(h) + ch(h, a, b) + 0xd6990624 + w13; g += c; q = d ^ e; c += bigS0(d) + (e ^ (q & p));
  w14 += s0(w15) + w7 + s1(w12);
  b += bigS1(g) + ch(g, h, a) + 0xf40e3585 + w14; f += b; p = c ^ d; b += bigS0(c) + (d ^ (p & q));
  w15 += s0(w0) + w8 + s1(w13);
  a += bigS1(f) + ch(f, g, h) + 0x106aa070 + w15; e += a; q = b ^ c; a += bigS0(b) + (c ^ (q & p));
  w0 += s0(w1) + w9 + s1(w14);
  h += bigS1(e) + ch(e, f, g) + 0x19a4c116 + w0; d += h; p = a ^ b; h += bigS0(a) + (b ^ (p & q));
  w1 += s0(w2) + w10 + s1(w15);
  g += bigS1(d) + ch(d, e, f) + 0x1e376c08 + w1; c += g; q = h ^ a; g += bigS0(h) + (a ^ (q & p));
  w2 += s0(w3) + w11 + s1(w0);
  f += bigS1(c) + ch(c, d, e) + 0x2748774c + w2; b += f; p = g ^ h; f += bigS0(g) + (h ^ (p & q));
  w3 += s0(w4) + w12 + s1(w1);
  e += bigS1(b) + ch(b, c, d) + 0x34b0bcb5 + w3; a += e; q = f ^ g; e += bigS0(f) + (g ^ (q & p));
  w4 += s0(w5) + w13 + s1(w2);
  d += bigS1(a) + ch(a, b, c) + 0x391c0cb3 + w4; h += d; p = e ^ f; d += bigS0(e) + (f ^ (p & q));
  w5 += s0(w6) + w14 + s1(w3);
  c += bigS1(h) + ch(h, a, b) + 0x4ed8aa4a + w5; g += c; q = d ^ e; c += bigS0(d) + (e ^ (q & p));
  w6 += s0(w7) + w15 + s1(w4);
  b += bigS1(g) + ch(g, h, a) + 0x5b9cca4f + w6; f += b; p = c ^ d; b += bigS0(c) + (d ^ (p & q));
  w7 += s0(w8) + w0 + s1(w5);
  a += bigS1(f) + ch(f, g, h) + 0x682e6ff3 + w7; e += a; q = b ^ c; a += bigS0(b) + (c ^ (q & p));
  w8 += s0(w9) + w1 + s1(w6);
  h += bigS1(e) + ch(e, f, g) + 0x748f82ee + w8; d += h; p = a ^ b; h += bigS0(a) + (b ^ (p & q));
  w9 += s0(w10) + w2 + s1(w7);
  g += bigS1(d) + ch(d, e, f) + 0x78a5636f + w9; c += g; q = h ^ a; g += bigS0(h) + (a ^ (q & p));
  w10 += s0(w11) + w3 + s1(w8);
  f += bigS1(c) + ch(c, d, e) + 0x84c87814 + w10; b += f; p = g ^ h; f += bigS0(g) + (h ^ (p & q));
  w11 += s0(w12) + w4 + s1(w9);
  e += bigS1(b) + ch(b, c, d) + 0x8cc70208 + w11; a += e; q = f ^ g; e += bigS0(f) + (g ^ (q & p));
  w12 += s0(w13) + w5 + s1(w10);
  d += bigS1(a) + ch(a, b, c) + 0x90befffa + w12; h += d; p = e ^ f; d += bigS0(e) + (f ^ (p & q));
  w13 += s0(w14) + w6 + s1(w11);
  c += bigS1(h) + ch(h, a, b) + 0xa4506ceb + w13; g += c; q = d ^ e; c += bigS0(d) + (e ^ (q & p));
  w14 += s0(w15) + w7 + s1(w12);
  b += bigS1(g) + ch(g, h, a) + 0xbef9a3f7 + w14; f += b; p = c ^ d; b += bigS0(c) + (d ^ (p & q));
  w15 += s0(w0) + w8 + s1(w13);
  a += bigS1(f) + ch(f, g, h) + 0xc67178f2 + w15; e += a; q = b ^ c; a += bigS0(b) + (c ^ (q & p));
  store<u32>(st, load<u32>(st, 0) + a, 0);
  store<u32>(st, load<u32>(st, 4) + b, 4);
  store<u32>(st, load<u32>(st, 8) + c, 8);
  store<u32>(st, load<u32>(st, 12) + d, 12);
  store<u32>(st, load<u32>(st, 16) + e, 16);
  store<u32>(st, load<u32>(st, 20) + f, 20);
  store<u32>(st, load<u32>(st, 24) + g, 24);
  store<u32>(st, load<u32>(st, 28) + h, 28);
}

@inline function compress(block: usize): void {
  compressAt(STATE, block);
}

/**
 * Compresses the 64-byte block at `block` into the chaining state at `state` (32 bytes,
 * host-order u32 words as `sha256SaveState` writes them), in place. With
 * `sha256LastBlock` this hashes short fixed-shape messages (HMAC inside HKDF) without the
 * streaming buffer: QUIC key derivation is a dozen one-block hashes per connection.
 */
export function sha256CompressAt(state: usize, block: usize): void {
  compressAt(state, block);
}

/** Writes the FIPS 180-4 §5.3.3 initial hash value at `state` (32 bytes). */
export function sha256InitAt(state: usize): void {
  store<u32>(state, 0x6a09e667, 0);
  store<u32>(state, 0xbb67ae85, 4);
  store<u32>(state, 0x3c6ef372, 8);
  store<u32>(state, 0xa54ff53a, 12);
  store<u32>(state, 0x510e527f, 16);
  store<u32>(state, 0x9b05688c, 20);
  store<u32>(state, 0x1f83d9ab, 24);
  store<u32>(state, 0x5be0cd19, 28);
}

/** Longest message `sha256LastBlock` can pad into one block (64 - 1 - 8). */
export const SHA256_LAST_BLOCK_MAX: i32 = 55;

/**
 * Builds at `block` the final, padded 64-byte block of a message whose last `len` bytes
 * (at `msg`, at most SHA256_LAST_BLOCK_MAX) follow `absorbed` bytes already compressed (a
 * multiple of 64): the bytes, 0x80, zeros, and the total bit length. Returns false, writing
 * nothing, when `len` is out of range.
 */
export function sha256LastBlock(msg: usize, len: i32, absorbed: u64, block: usize): bool {
  if (len < 0 || len > SHA256_LAST_BLOCK_MAX) return false;
  for (let i: usize = 0; i < 64; i += 8) store<u64>(block + i, 0);
  memory.copy(block, msg, <usize>len);
  store<u8>(block + <usize>len, 0x80);
  store<u64>(block, bswap<u64>((absorbed + <u64>len) << 3), 56);
  return true;
}

/** Writes the digest of the chaining state at `state` (big-endian words) to `out`. */
export function sha256DigestAt(state: usize, out: usize): void {
  for (let i: usize = 0; i < 32; i += 4) store<u32>(out + i, bswap<u32>(load<u32>(state + i)));
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
