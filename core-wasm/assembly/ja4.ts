// JA4 TLS client fingerprint and its raw / original-order variants.
// Spec: FoxIO-LLC/ja4 technical_details/JA4.md (BSD 3-Clause).
//   ja4    = a_b_c    a = proto, version, SNI marker, cipher count, extension count, ALPN
//                     b = sha256[:12] of sorted ciphers, c = sha256[:12] of sorted
//                         extensions (without SNI and ALPN) "_" signature algorithms
//   ja4_r  = the same with the lists unhashed; ja4_o / ja4_ro keep wire order and keep
//            SNI and ALPN in the extension list.

import {
  alpnLen, alpnPtr, CH_CIPHERS, CH_EXTS, CH_SIGS, chCipherN, chExtN, chHasQuicTp, chHasSni,
  chSigN, EXT_ALPN, EXT_SERVER_NAME, helloVersion, MAX_LIST,
} from "./tls";
import { putHash12 } from "./hash";
import { F_JA4, F_JA4_O, F_JA4_R, F_JA4_RO, strBegin, strEndAt, strPtr } from "./out";
import { hexDigit, isAlnum, putDec2, putHex4, sortU16 } from "./util";

/** Scratch text buffers: a list of 8192 entries is at most 40 KiB as "xxxx,". */
const TXT_BYTES: i32 = MAX_LIST * 5 + 16;
const PART_A: usize = memory.data(16);
const CIPH_SORTED: usize = memory.data(TXT_BYTES);
const CIPH_ORIG: usize = memory.data(TXT_BYTES);
const EXT_SORTED: usize = memory.data(TXT_BYTES * 2);
const EXT_ORIG: usize = memory.data(TXT_BYTES * 2);
const SORT_TMP: usize = memory.data(MAX_LIST * 2);

let lenCS: i32 = 0;
let lenCO: i32 = 0;
let lenES: i32 = 0;
let lenEO: i32 = 0;

/** JA4 version code (JA4.md "TLS Version"): 13, 12, 11, 10, s3, s2, d1, d2, d3, else 00. */
export function putVersion(p: usize, v: u32): usize {
  let a: u32 = 48;
  let b: u32 = 48;
  if (v == 0x0304) { a = 49; b = 51; }
  else if (v == 0x0303) { a = 49; b = 50; }
  else if (v == 0x0302) { a = 49; b = 49; }
  else if (v == 0x0301) { a = 49; b = 48; }
  else if (v == 0x0300) { a = 115; b = 51; }
  else if (v == 0x0002) { a = 115; b = 50; }
  else if (v == 0xfeff) { a = 100; b = 49; }
  else if (v == 0xfefd) { a = 100; b = 50; }
  else if (v == 0xfefc) { a = 100; b = 51; }
  store<u8>(p, <u8>a);
  store<u8>(p + 1, <u8>b);
  return p + 2;
}

/**
 * ALPN characters (JA4.md "ALPN Extension Value"): first and last character of the first
 * ALPN value, one character used twice when the value has one, "00" when absent or empty.
 * A non-alphanumeric ASCII byte switches to the first/last hex digit of the value.
 * Bytes >= 0x80 print as '9', as FoxIO's reference implementation does (it sees them
 * as U+FFFD through tshark); the conformance capture tls-non-ascii-alpn pins "99".
 */
export function putAlpn(p: usize, ptr: usize, len: i32): usize {
  if (len <= 0) {
    store<u8>(p, 48);
    store<u8>(p + 1, 48);
    return p + 2;
  }
  const first = <u32>load<u8>(ptr);
  const last = <u32>load<u8>(ptr + <usize>(len - 1));
  // Non-ASCII bytes count as the alphanumeric '9'; an ASCII non-alphanumeric byte at
  // either end switches both characters to the hex fallback.
  const c1 = first >= 0x80 ? 57 : first;
  const c2 = last >= 0x80 ? 57 : last;
  if (isAlnum(c1) && isAlnum(c2)) {
    store<u8>(p, <u8>c1);
    store<u8>(p + 1, <u8>c2);
  } else {
    store<u8>(p, hexDigit(first >> 4));
    store<u8>(p + 1, hexDigit(last));
  }
  return p + 2;
}

function putList(dst: usize, src: usize, n: i32): usize {
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      store<u8>(dst, 44);
      dst++;
    }
    dst = putHex4(dst, <u32>load<u16>(src + (<usize>i << 1)));
  }
  return dst;
}

/** Appends "_" + signature algorithms in wire order, only when there are some. */
function putSigs(dst: usize): usize {
  if (chSigN == 0) return dst;
  store<u8>(dst, 95);
  return putList(dst + 1, CH_SIGS, chSigN);
}

/** Builds part a and the four list strings from the parsed ClientHello. */
export function buildJa4Parts(quic: bool): void {
  let p = PART_A;
  store<u8>(p, quic || chHasQuicTp ? 113 : 116); // 'q' / 't'
  p = putVersion(p + 1, helloVersion());
  store<u8>(p, chHasSni ? 100 : 105); // 'd' domain / 'i' IP
  p = putDec2(p + 1, <u32>chCipherN);
  p = putDec2(p, <u32>chExtN);
  putAlpn(p, alpnPtr, alpnLen);

  memory.copy(SORT_TMP, CH_CIPHERS, <usize>chCipherN << 1);
  sortU16(SORT_TMP, chCipherN);
  lenCS = <i32>(putList(CIPH_SORTED, SORT_TMP, chCipherN) - CIPH_SORTED);
  lenCO = <i32>(putList(CIPH_ORIG, CH_CIPHERS, chCipherN) - CIPH_ORIG);

  let n = 0;
  for (let i = 0; i < chExtN; i++) {
    const e = <u32>load<u16>(CH_EXTS + (<usize>i << 1));
    if (e == EXT_SERVER_NAME || e == EXT_ALPN) continue;
    store<u16>(SORT_TMP + (<usize>n << 1), <u16>e);
    n++;
  }
  sortU16(SORT_TMP, n);
  const q = putList(EXT_SORTED, SORT_TMP, n);
  lenES = <i32>(putSigs(q) - EXT_SORTED);
  lenEO = <i32>(putSigs(putList(EXT_ORIG, CH_EXTS, chExtN)) - EXT_ORIG);
}

function writeFp(id: u8, hashed: bool, ciph: usize, ciphLen: i32, ext: usize, extLen: i32, zeroC: bool): void {
  strBegin(id);
  let p = strPtr();
  store<u64>(p, load<u64>(PART_A)); // part a is 10 bytes
  store<u16>(p, load<u16>(PART_A, 8), 8);
  p += 10;
  store<u8>(p, 95);
  p++;
  if (hashed) {
    p = putHash12(p, ciph, ciphLen);
    store<u8>(p, 95);
    p = putHash12(p + 1, ext, zeroC ? 0 : extLen);
  } else {
    memory.copy(p, ciph, ciphLen);
    p += <usize>ciphLen;
    store<u8>(p, 95);
    p++;
    memory.copy(p, ext, extLen);
    p += <usize>extLen;
  }
  strEndAt(p);
}

/** Writes ja4 and ja4_r, and with `originalOrder` also ja4_o and ja4_ro. */
export function writeJa4(originalOrder: bool): void {
  writeFp(F_JA4, true, CIPH_SORTED, lenCS, EXT_SORTED, lenES, false);
  writeFp(F_JA4_R, false, CIPH_SORTED, lenCS, EXT_SORTED, lenES, false);
  if (!originalOrder) return;
  // The reference prints a zero part c for ja4_o whenever the sorted list is empty
  // (only SNI/ALPN present), although ja4_ro still lists them: https3-301-get pins it.
  writeFp(F_JA4_O, true, CIPH_ORIG, lenCO, EXT_ORIG, lenEO, lenES == 0);
  writeFp(F_JA4_RO, false, CIPH_ORIG, lenCO, EXT_ORIG, lenEO, false);
}

/** Part a of the last built JA4, for tests and the hot-path benchmark. */
export function ja4PartA(): usize {
  return PART_A;
}
