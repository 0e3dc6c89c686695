// MD5 (RFC 1321), allocation-free, one-shot.
//
// Only JA3/JA3S use it (MD5 of the comma/dash string), so a one-shot API suffices: full
// blocks are read in place and only the tail is copied to static scratch memory.

/** Per-step additive constants T[1..64] = floor(2^32 * |sin(i)|), RFC 1321 §3.4. */
const T: usize = memory.data<u32>([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]);

/** Left-rotation amounts per step, RFC 1321 §3.4 (S11..S44). */
const S: usize = memory.data<u8>([
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
]);

/** Message word index per step (round 1: i, round 2: 5i+1, round 3: 3i+5, round 4: 7i). */
const G: usize = memory.data<u8>([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  1, 6, 11, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12,
  5, 8, 11, 14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2,
  0, 7, 14, 5, 12, 3, 10, 1, 8, 15, 6, 13, 4, 11, 2, 9,
]);

const STATE: usize = memory.data(16);
const TAIL: usize = memory.data(128);

/** Size in bytes of a digest. */
export const MD5_DIGEST_BYTES: i32 = 16;

function compress(block: usize): void {
  let a = load<u32>(STATE, 0);
  let b = load<u32>(STATE, 4);
  let c = load<u32>(STATE, 8);
  let d = load<u32>(STATE, 12);
  for (let i: usize = 0; i < 64; i++) {
    let f: u32;
    if (i < 16) f = (b & c) | (~b & d);
    else if (i < 32) f = (d & b) | (~d & c);
    else if (i < 48) f = b ^ c ^ d;
    else f = c ^ (b | ~d);
    // MD5 words are little-endian, as is WebAssembly memory: load them as-is.
    const m = load<u32>(block + (<usize>load<u8>(G + i) << 2));
    const x = a + f + load<u32>(T + (i << 2)) + m;
    a = d;
    d = c;
    c = b;
    b = b + rotl<u32>(x, <u32>load<u8>(S + i));
  }
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
