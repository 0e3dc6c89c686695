// JA4H HTTP client fingerprint from an HTTP/1.x request header block.
// Spec: FoxIO-LLC/ja4 technical_details/JA4H.md (FoxIO License 1.1).
//   a = method(2) version(2) cookie(c/n) referer(r/n) header count(2) language(4)
//   b = sha256[:12] of header names in wire order, Cookie and Referer left out
//   c = sha256[:12] of cookie names, d = of cookie name=value items, both sorted
// Header count is capped at 99; no cookies → "000000000000" for c and d; HTTP/2
// pseudo-headers are dropped.

import { putHash12 } from "./hash";
import { ieq, methodCode, methodLen } from "./http";
import { F_JA4H, F_JA4H_R, strBegin, strEndAt, strPtr } from "./out";
import { putDec2 } from "./util";

const MAX_HEADERS: i32 = 256;
const MAX_COOKIES: i32 = 256;
const HDRS: usize = memory.data(MAX_HEADERS * 8); // (ptr u32, len u32)
const COOKIES: usize = memory.data(MAX_COOKIES * 8);
const TXT_B: usize = memory.data(16384);
const TXT_C: usize = memory.data(16384);
const TXT_D: usize = memory.data(32768);
const A: usize = memory.data(16);

function isExact(p: usize, n: i32, lit: string): bool {
  if (lit.length != n) return false;
  for (let i = 0; i < n; i++) {
    if (<u32>load<u8>(p + <usize>i) != <u32>lit.charCodeAt(i)) return false;
  }
  return true;
}

/** Byte-wise comparison of two (ptr, len) strings. */
function cmpStr(ap: usize, al: i32, bp: usize, bl: i32): i32 {
  const n = min(al, bl);
  for (let i = 0; i < n; i++) {
    const a = <i32>load<u8>(ap + <usize>i);
    const b = <i32>load<u8>(bp + <usize>i);
    if (a != b) return a - b;
  }
  return al - bl;
}

/** Length of the cookie name: up to the first '='. */
function nameLen(p: usize, n: i32): i32 {
  let i = 0;
  while (i < n && load<u8>(p + <usize>i) != 61) i++;
  return i;
}

function appendCapped(dst: usize, used: i32, cap: i32, src: usize, n: i32): i32 {
  const k = min(n, cap - used);
  if (k > 0) memory.copy(dst + <usize>used, src, k);
  return used + max(k, 0);
}

let nh = 0;
let nc = 0;
let hasCookie = false;
let hasReferer = false;
let langPtr: usize = 0;
let langLen = 0;
let isH2 = false;

/**
 * Starts a request: method characters (`ge`, `po` …), version digits, and whether header
 * names follow HTTP/2 rules (lower-case "cookie"/"referer", pseudo-headers kept as the
 * reference implementation counts them).
 */
export function ja4hBegin(method: u16, v0: u8, v1: u8, h2: bool): void {
  store<u16>(A, method);
  store<u8>(A + 2, v0);
  store<u8>(A + 3, v1);
  nh = 0;
  nc = 0;
  hasCookie = false;
  hasReferer = false;
  langPtr = 0;
  langLen = 0;
  isH2 = h2;
}

/** Adds cookie items of one Cookie header value (items separated by "; ", RFC 6265). */
function addCookies(v: usize, vlen: i32): void {
  let s = 0;
  let k = 0;
  while (k <= vlen) {
    const sep = k + 1 < vlen && load<u8>(v + <usize>k) == 59 && load<u8>(v + <usize>k + 1) == 32;
    if (k == vlen || sep) {
      if (nc < MAX_COOKIES) {
        store<u32>(COOKIES + (<usize>nc << 3), <u32>(v + <usize>s));
        store<u32>(COOKIES + (<usize>nc << 3) + 4, <u32>(k - s));
        nc++;
      }
      k += 2;
      s = k;
    } else {
      k++;
    }
  }
}

/** Adds one header field in wire order. The bytes must stay valid until ja4hWrite. */
export function ja4hAdd(name: usize, nlen: i32, value: usize, vlen: i32): void {
  // ":x" (an HTTP/2 pseudo-header) or an empty name is not an HTTP/1 header.
  if (!isH2 && (nlen == 0 || load<u8>(name) == 58)) return;
  if (isExact(name, nlen, isH2 ? "cookie" : "Cookie")) {
    // HTTP/1: the first Cookie header; HTTP/2 splits cookies over several fields
    // (RFC 9113 §8.2.3), every one counts.
    if (isH2 || !hasCookie) addCookies(value, vlen);
    hasCookie = true;
    return;
  }
  if (isExact(name, nlen, isH2 ? "referer" : "Referer")) {
    hasReferer = true;
    return;
  }
  if (nh < MAX_HEADERS) {
    store<u32>(HDRS + (<usize>nh << 3), <u32>name);
    store<u32>(HDRS + (<usize>nh << 3) + 4, <u32>nlen);
    nh++;
  }
  if (langLen == 0 && ieq(name, nlen, "accept-language")) {
    langPtr = value;
    langLen = vlen;
  }
}

/** Writes ja4h and ja4h_r for the request built with ja4hBegin/ja4hAdd. */
export function ja4hWrite(): void {
  const a = A;
  store<u8>(a + 4, hasCookie ? 99 : 110);
  store<u8>(a + 5, hasReferer ? 114 : 110);
  putDec2(a + 6, <u32>nh);
  // Language: first entry of Accept-Language, '-' removed, lower-cased, 4 chars, 0-padded.
  let k = 0;
  for (let j = 0; j < langLen && k < 4; j++) {
    let ch = <u32>load<u8>(langPtr + <usize>j);
    if (ch == 44) break;
    if (ch == 45) continue;
    if (ch - 65 < 26) ch |= 32;
    store<u8>(a + 8 + <usize>k, <u8>ch);
    k++;
  }
  while (k < 4) {
    store<u8>(a + 8 + <usize>k, 48);
    k++;
  }

  // Part b: header names in wire order.
  let lb = 0;
  for (let j = 0; j < nh; j++) {
    if (j > 0 && lb < 16384) {
      store<u8>(TXT_B + <usize>lb, 44);
      lb++;
    }
    const hp = <usize>load<u32>(HDRS + (<usize>j << 3));
    lb = appendCapped(TXT_B, lb, 16384, hp, <i32>load<u32>(HDRS + (<usize>j << 3) + 4));
  }

  // Parts c and d: cookies sorted by name (stable insertion sort, ≤256 items); the
  // reference sorts by name, so "a-b=…" comes before "a=…" only through the name.
  for (let j = 1; j < nc; j++) {
    const jp = load<u64>(COOKIES + (<usize>j << 3));
    let m = j;
    while (m > 0) {
      const prev = load<u64>(COOKIES + (<usize>(m - 1) << 3));
      const pp = <usize>(<u32>prev);
      const jpp = <usize>(<u32>jp);
      if (cmpStr(pp, nameLen(pp, <i32>(prev >> 32)), jpp, nameLen(jpp, <i32>(jp >> 32))) <= 0) break;
      store<u64>(COOKIES + (<usize>m << 3), prev);
      m--;
    }
    store<u64>(COOKIES + (<usize>m << 3), jp);
  }
  let lc = 0;
  let ld = 0;
  for (let j = 0; j < nc; j++) {
    const cp = <usize>load<u32>(COOKIES + (<usize>j << 3));
    const cl = <i32>load<u32>(COOKIES + (<usize>j << 3) + 4);
    const eq = nameLen(cp, cl);
    if (j > 0 && lc < 16384 && ld < 32768) {
      store<u8>(TXT_C + <usize>lc, 44);
      lc++;
      store<u8>(TXT_D + <usize>ld, 44);
      ld++;
    }
    lc = appendCapped(TXT_C, lc, 16384, cp, eq);
    ld = appendCapped(TXT_D, ld, 32768, cp, cl);
  }

  strBegin(F_JA4H);
  let o = strPtr();
  memory.copy(o, A, 12);
  store<u8>(o + 12, 95);
  o = putHash12(o + 13, TXT_B, lb);
  store<u8>(o, 95);
  o = putHash12(o + 1, TXT_C, lc);
  store<u8>(o, 95);
  o = putHash12(o + 1, TXT_D, ld);
  strEndAt(o);

  strBegin(F_JA4H_R);
  o = strPtr();
  memory.copy(o, A, 12);
  store<u8>(o + 12, 95);
  o += 13;
  memory.copy(o, TXT_B, lb);
  o += <usize>lb;
  store<u8>(o, 95);
  memory.copy(o + 1, TXT_C, lc);
  o += 1 + <usize>lc;
  store<u8>(o, 95);
  memory.copy(o + 1, TXT_D, ld);
  strEndAt(o + 1 + <usize>ld);
}

/**
 * Fingerprints the HTTP/1.x request header block at `p` (`len` bytes, request line and
 * final blank line included). Returns false when the request line has no HTTP version.
 */
export function writeJa4h(p: usize, len: i32): bool {
  // Request line: METHOD SP target SP HTTP/x.y CRLF
  let e = 0;
  while (e < len && load<u8>(p + <usize>e) != 10) e++;
  let lineEnd = e;
  if (lineEnd > 0 && load<u8>(p + <usize>lineEnd - 1) == 13) lineEnd--;
  let sp = lineEnd - 1;
  while (sp > methodLen && load<u8>(p + <usize>sp) != 32) sp--;
  const vp = p + <usize>sp + 1;
  const vlen = lineEnd - sp - 1;
  let v0: u8 = 48;
  let v1: u8 = 48;
  if (isExact(vp, vlen, "HTTP/1.1")) { v0 = 49; v1 = 49; }
  else if (isExact(vp, vlen, "HTTP/1.0")) { v0 = 49; v1 = 48; }
  else if (isExact(vp, vlen, "HTTP/2") || isExact(vp, vlen, "HTTP/2.0")) { v0 = 50; v1 = 48; }
  else if (isExact(vp, vlen, "HTTP/3")) { v0 = 51; v1 = 48; }
  else return false;
  ja4hBegin(methodCode, v0, v1, false);
  let i = e + 1;
  while (i < len) {
    let le = i;
    while (le < len && load<u8>(p + <usize>le) != 10) le++;
    let end = le;
    if (end > i && load<u8>(p + <usize>end - 1) == 13) end--;
    if (end == i) break; // blank line: end of headers
    let c = i;
    while (c < end && load<u8>(p + <usize>c) != 58) c++;
    // Value: after ':' and optional whitespace.
    let vs = c + 1;
    while (vs < end && (load<u8>(p + <usize>vs) == 32 || load<u8>(p + <usize>vs) == 9)) vs++;
    if (vs > end) vs = end;
    ja4hAdd(p + <usize>i, c - i, p + <usize>vs, end - vs);
    i = le + 1;
  }
  ja4hWrite();
  return true;
}
