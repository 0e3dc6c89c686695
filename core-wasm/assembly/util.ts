// Byte-level helpers over linear memory: big-endian loads and lowercase hex/decimal
// formatting into caller-owned buffers. Everything here is allocation-free because the
// engine runs with the `stub` runtime (nothing is ever freed).

/** Big-endian u16 at `p`. */
// @ts-ignore: decorator
@inline export function be16(p: usize): u32 {
  return <u32>bswap<u16>(load<u16>(p));
}

/** Big-endian u32 at `p`. */
// @ts-ignore: decorator
@inline export function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

/** Big-endian u24 at `p` (TLS handshake lengths). */
// @ts-ignore: decorator
@inline export function be24(p: usize): u32 {
  return (<u32>load<u8>(p) << 16) | (<u32>load<u8>(p + 1) << 8) | <u32>load<u8>(p + 2);
}

const HEX: usize = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

/** Lowercase hex digit for a nibble. */
// @ts-ignore: decorator
@inline export function hexDigit(n: u32): u8 {
  return load<u8>(HEX + (n & 15));
}

/** 256 entries of two lowercase hex characters (u16, little-endian: first char low). */
const HEX_PAIRS: usize = memory.data(512);
/** 100 entries of two decimal digits "00".."99". */
const DEC_PAIRS: usize = memory.data(200);
function initTables(): void {
  for (let i: u32 = 0; i < 256; i++) {
    store<u16>(HEX_PAIRS + (<usize>i << 1), <u16>(<u32>hexDigit(i >> 4) | (<u32>hexDigit(i) << 8)));
  }
  for (let i: u32 = 0; i < 100; i++) {
    store<u16>(DEC_PAIRS + (<usize>i << 1), <u16>((48 + i / 10) | ((48 + i % 10) << 8)));
  }
}
// Module start: the tables are ready before any export runs.
initTables();

/** Writes `v` as 4 lowercase hex digits at `p`; returns p + 4. */
export function putHex4(p: usize, v: u32): usize {
  const hi = <u32>load<u16>(HEX_PAIRS + (<usize>((v >> 8) & 255) << 1));
  const lo = <u32>load<u16>(HEX_PAIRS + (<usize>(v & 255) << 1));
  store<u32>(p, hi | (lo << 16));
  return p + 4;
}

/** Writes `v` (0..99, capped) as exactly two decimal digits at `p`; returns p + 2. */
export function putDec2(p: usize, v: u32): usize {
  if (v > 99) v = 99;
  store<u8>(p, <u8>(48 + v / 10));
  store<u8>(p + 1, <u8>(48 + v % 10));
  return p + 2;
}

/** Writes `v` in decimal (no padding) at `p`; returns the end pointer. */
export function putDec(p: usize, v: u32): usize {
  if (v < 10) {
    store<u8>(p, <u8>(48 + v));
    return p + 1;
  }
  const n: usize = v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
  let q = p + n;
  // Two digits per division: TLS values are up to 5 digits, so this is 2-3 steps.
  while (v >= 100) {
    q -= 2;
    store<u16>(q, load<u16>(DEC_PAIRS + (<usize>(v % 100) << 1)));
    v /= 100;
  }
  if (v >= 10) {
    store<u16>(q - 2, load<u16>(DEC_PAIRS + (<usize>v << 1)));
  } else {
    store<u8>(q - 1, <u8>(48 + v));
  }
  return p + n;
}

/** Writes bytes at `src` as lowercase hex at `p`; returns the end pointer. */
export function putHexBytes(p: usize, src: usize, len: i32): usize {
  for (let i = 0; i < len; i++) {
    const b = <u32>load<u8>(src + <usize>i);
    store<u8>(p, hexDigit(b >> 4));
    store<u8>(p + 1, hexDigit(b));
    p += 2;
  }
  return p;
}

/**
 * Sorts `n` u16 values at `p` ascending, in place. Insertion sort for the usual short
 * lists (hellos carry 10-40 values); shell sort beyond, so a crafted 8192-entry list
 * stays O(n^1.5) instead of quadratic.
 */
export function sortU16(p: usize, n: i32): void {
  if (n <= 48) {
    for (let i = 1; i < n; i++) {
      const v = load<u16>(p + (<usize>i << 1));
      let j = i;
      while (j > 0) {
        const u = load<u16>(p + (<usize>(j - 1) << 1));
        if (u <= v) break;
        store<u16>(p + (<usize>j << 1), u);
        j--;
      }
      store<u16>(p + (<usize>j << 1), v);
    }
    return;
  }
  let gap = 1;
  while (gap < n / 3) gap = gap * 3 + 1;
  while (gap >= 1) {
    for (let i = gap; i < n; i++) {
      const v = load<u16>(p + (<usize>i << 1));
      let j = i;
      while (j >= gap && load<u16>(p + (<usize>(j - gap) << 1)) > v) {
        store<u16>(p + (<usize>j << 1), load<u16>(p + (<usize>(j - gap) << 1)));
        j -= gap;
      }
      store<u16>(p + (<usize>j << 1), v);
    }
    gap = (gap - 1) / 3;
  }
}

/** True for ASCII letters and digits. */
// @ts-ignore: decorator
@inline export function isAlnum(c: u32): bool {
  return (c - 48 < 10) || ((c | 32) - 97 < 26);
}

/** Copies 16 bytes (an address) without a bulk-memory call: small copies are hot. */
// @ts-ignore: decorator
@inline export function copy16(dst: usize, src: usize): void {
  store<u64>(dst, load<u64>(src));
  store<u64>(dst, load<u64>(src, 8), 8);
}
