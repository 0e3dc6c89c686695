// MD5 (RFC 1321), allocation-free, one-shot.
//
// Only JA3/JA3S use it (MD5 of the comma/dash string), so a one-shot API suffices: full
// blocks are read in place and only the tail is copied to static scratch memory.

const STATE: usize = memory.data(16);
const TAIL: usize = memory.data(128);

/** Size in bytes of a digest. */
export const MD5_DIGEST_BYTES: i32 = 16;

// RFC 1321 §3.4 step functions F, G, H, I folded with the add-rotate-add of each step.
// The 64 steps are unrolled with the per-step constants T[i] = floor(2^32 * |sin(i)|),
// shift amounts and message-word order of §3.4 written inline as immediates.
@inline function f1(a: u32, b: u32, c: u32, d: u32, m: u32, s: u32, t: u32): u32 {
  return rotl<u32>(a + (d ^ (b & (c ^ d))) + m + t, s) + b;
}
@inline function f2(a: u32, b: u32, c: u32, d: u32, m: u32, s: u32, t: u32): u32 {
  return rotl<u32>(a + (c ^ (d & (b ^ c))) + m + t, s) + b;
}
@inline function f3(a: u32, b: u32, c: u32, d: u32, m: u32, s: u32, t: u32): u32 {
  return rotl<u32>(a + (b ^ c ^ d) + m + t, s) + b;
}
@inline function f4(a: u32, b: u32, c: u32, d: u32, m: u32, s: u32, t: u32): u32 {
  return rotl<u32>(a + (c ^ (b | ~d)) + m + t, s) + b;
}

function compress(block: usize): void {
  let a = load<u32>(STATE, 0);
  let b = load<u32>(STATE, 4);
  let c = load<u32>(STATE, 8);
  let d = load<u32>(STATE, 12);
  // MD5 words are little-endian, as is WebAssembly memory: load them as-is.
  const m0 = load<u32>(block, 0);
  const m1 = load<u32>(block, 4);
  const m2 = load<u32>(block, 8);
  const m3 = load<u32>(block, 12);
  const m4 = load<u32>(block, 16);
  const m5 = load<u32>(block, 20);
  const m6 = load<u32>(block, 24);
  const m7 = load<u32>(block, 28);
  const m8 = load<u32>(block, 32);
  const m9 = load<u32>(block, 36);
  const m10 = load<u32>(block, 40);
  const m11 = load<u32>(block, 44);
  const m12 = load<u32>(block, 48);
  const m13 = load<u32>(block, 52);
  const m14 = load<u32>(block, 56);
  const m15 = load<u32>(block, 60);
  a = f1(a, b, c, d, m0, 7, 0xd76aa478);
  d = f1(d, a, b, c, m1, 12, 0xe8c7b756);
  c = f1(c, d, a, b, m2, 17, 0x242070db);
  b = f1(b, c, d, a, m3, 22, 0xc1bdceee);
  a = f1(a, b, c, d, m4, 7, 0xf57c0faf);
  d = f1(d, a, b, c, m5, 12, 0x4787c62a);
  c = f1(c, d, a, b, m6, 17, 0xa8304613);
  b = f1(b, c, d, a, m7, 22, 0xfd469501);
  a = f1(a, b, c, d, m8, 7, 0x698098d8);
  d = f1(d, a, b, c, m9, 12, 0x8b44f7af);
  c = f1(c, d, a, b, m10, 17, 0xffff5bb1);
  b = f1(b, c, d, a, m11, 22, 0x895cd7be);
  a = f1(a, b, c, d, m12, 7, 0x6b901122);
  d = f1(d, a, b, c, m13, 12, 0xfd987193);
  c = f1(c, d, a, b, m14, 17, 0xa679438e);
  b = f1(b, c, d, a, m15, 22, 0x49b40821);
  a = f2(a, b, c, d, m1, 5, 0xf61e2562);
  d = f2(d, a, b, c, m6, 9, 0xc040b340);
  c = f2(c, d, a, b, m11, 14, 0x265e5a51);
  b = f2(b, c, d, a, m0, 20, 0xe9b6c7aa);
  a = f2(a, b, c, d, m5, 5, 0xd62f105d);
  d = f2(d, a, b, c, m10, 9, 0x02441453);
  c = f2(c, d, a, b, m15, 14, 0xd8a1e681);
  b = f2(b, c, d, a, m4, 20, 0xe7d3fbc8);
  a = f2(a, b, c, d, m9, 5, 0x21e1cde6);
  d = f2(d, a, b, c, m14, 9, 0xc33707d6);
  c = f2(c, d, a, b, m3, 14, 0xf4d50d87);
  b = f2(b, c, d, a, m8, 20, 0x455a14ed);
  a = f2(a, b, c, d, m13, 5, 0xa9e3e905);
  d = f2(d, a, b, c, m2, 9, 0xfcefa3f8);
  c = f2(c, d, a, b, m7, 14, 0x676f02d9);
  b = f2(b, c, d, a, m12, 20, 0x8d2a4c8a);
  a = f3(a, b, c, d, m5, 4, 0xfffa3942);
  d = f3(d, a, b, c, m8, 11, 0x8771f681);
  c = f3(c, d, a, b, m11, 16, 0x6d9d6122);
  b = f3(b, c, d, a, m14, 23, 0xfde5380c);
  a = f3(a, b, c, d, m1, 4, 0xa4beea44);
  d = f3(d, a, b, c, m4, 11, 0x4bdecfa9);
  c = f3(c, d, a, b, m7, 16, 0xf6bb4b60);
  b = f3(b, c, d, a, m10, 23, 0xbebfbc70);
  a = f3(a, b, c, d, m13, 4, 0x289b7ec6);
  d = f3(d, a, b, c, m0, 11, 0xeaa127fa);
  c = f3(c, d, a, b, m3, 16, 0xd4ef3085);
  b = f3(b, c, d, a, m6, 23, 0x04881d05);
  a = f3(a, b, c, d, m9, 4, 0xd9d4d039);
  d = f3(d, a, b, c, m12, 11, 0xe6db99e5);
  c = f3(c, d, a, b, m15, 16, 0x1fa27cf8);
  b = f3(b, c, d, a, m2, 23, 0xc4ac5665);
  a = f4(a, b, c, d, m0, 6, 0xf4292244);
  d = f4(d, a, b, c, m7, 10, 0x432aff97);
  c = f4(c, d, a, b, m14, 15, 0xab9423a7);
  b = f4(b, c, d, a, m5, 21, 0xfc93a039);
  a = f4(a, b, c, d, m12, 6, 0x655b59c3);
  d = f4(d, a, b, c, m3, 10, 0x8f0ccc92);
  c = f4(c, d, a, b, m10, 15, 0xffeff47d);
  b = f4(b, c, d, a, m1, 21, 0x85845dd1);
  a = f4(a, b, c, d, m8, 6, 0x6fa87e4f);
  d = f4(d, a, b, c, m15, 10, 0xfe2ce6e0);
  c = f4(c, d, a, b, m6, 15, 0xa3014314);
  b = f4(b, c, d, a, m13, 21, 0x4e0811a1);
  a = f4(a, b, c, d, m4, 6, 0xf7537e82);
  d = f4(d, a, b, c, m11, 10, 0xbd3af235);
  c = f4(c, d, a, b, m2, 15, 0x2ad7d2bb);
  b = f4(b, c, d, a, m9, 21, 0xeb86d391);
  store<u32>(STATE, load<u32>(STATE, 0) + a, 0);
  store<u32>(STATE, load<u32>(STATE, 4) + b, 4);
  store<u32>(STATE, load<u32>(STATE, 8) + c, 8);
  store<u32>(STATE, load<u32>(STATE, 12) + d, 12);
}

/**
 * MD5 of `len` bytes at `ptr`; writes the 16-byte digest at `out` (`out` may alias the
 * input). Allocation-free.
 */
export function md5(ptr: usize, len: i32, out: usize): void {
  store<u32>(STATE, 0x67452301, 0);
  store<u32>(STATE, 0xefcdab89, 4);
  store<u32>(STATE, 0x98badcfe, 8);
  store<u32>(STATE, 0x10325476, 12);
  const n = len > 0 ? len : 0;
  let p = ptr;
  let left = n;
  while (left >= 64) {
    compress(p);
    p += 64;
    left -= 64;
  }
  memory.copy(TAIL, p, <usize>left);
  store<u8>(TAIL + <usize>left, 0x80);
  const padded = left < 56 ? 64 : 128;
  memory.fill(TAIL + <usize>left + 1, 0, <usize>(padded - left - 9));
  store<u64>(TAIL + <usize>(padded - 8), <u64>n << 3);
  compress(TAIL);
  if (padded == 128) compress(TAIL + 64);
  memory.copy(out, STATE, 16);
}
