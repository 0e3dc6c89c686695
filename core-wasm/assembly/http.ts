// HTTP/1.x request framing on a reassembled TCP byte stream: recognise a request line,
// find the end of the header block, read Content-Length so keep-alive streams can skip
// the body and fingerprint the next request.

/** Result of the last `httpMethodCode` call: the two JA4H method characters. */
export let methodCode: u16 = 0;
/** Length of the method token (without the space). */
export let methodLen: i32 = 0;

function tokenIs(p: usize, n: usize, lit: string): bool {
  if (<usize>lit.length != n) return false;
  for (let i: usize = 0; i < n; i++) {
    if (<u32>load<u8>(p + i) != <u32>lit.charCodeAt(<i32>i)) return false;
  }
  return true;
}

/**
 * Recognises a request line start at `p` (`avail` bytes). Returns 1 when it is one of
 * the methods JA4H.md lists (sets methodCode), 0 when it is not HTTP, -1 when more bytes
 * are needed to decide.
 */
export function httpMethodCode(p: usize, avail: i32): i32 {
  let n = 0;
  while (n < avail && n < 8) {
    const c = <u32>load<u8>(p + <usize>n);
    if (c == 32) break;
    if (c - 65 >= 26) return 0; // methods are upper-case letters
    n++;
  }
  if (n >= avail) return avail < 8 ? -1 : 0;
  if (n == 0 || n >= 8) return 0;
  const t = p;
  const un = <usize>n;
  let code: string | null = null;
  if (tokenIs(t, un, "GET")) code = "ge";
  else if (tokenIs(t, un, "POST")) code = "po";
  else if (tokenIs(t, un, "HEAD")) code = "he";
  else if (tokenIs(t, un, "PUT")) code = "pu";
  else if (tokenIs(t, un, "DELETE")) code = "de";
  else if (tokenIs(t, un, "OPTIONS")) code = "op";
  else if (tokenIs(t, un, "PATCH")) code = "pa";
  else if (tokenIs(t, un, "CONNECT")) code = "co";
  else if (tokenIs(t, un, "TRACE")) code = "tr";
  if (code == null) return 0;
  methodCode = <u16>(code.charCodeAt(0) | (code.charCodeAt(1) << 8));
  methodLen = n;
  return 1;
}

/** True when `p` starts an HTTP response status line ("HTTP/"). */
export function isHttpResponse(p: usize, avail: i32): bool {
  return avail >= 5 && load<u32>(p) == 0x50545448 && load<u8>(p + 4) == 47; // "HTTP" "/"
}

/**
 * Offset just past the blank line ending the header block in [p, p+avail), or -1 when it
 * is incomplete. Bare LF line ends are accepted too (RFC 9112 §2.2 allows recipients to).
 */
export function headerEnd(p: usize, avail: i32): i32 {
  for (let i = 1; i < avail; i++) {
    if (load<u8>(p + <usize>i) != 10) continue;
    const prev = load<u8>(p + <usize>i - 1);
    if (prev == 10) return i + 1;
    if (prev == 13 && i >= 2 && load<u8>(p + <usize>i - 2) == 10) return i + 1;
  }
  return -1;
}

/** ASCII case-insensitive comparison of `n` bytes at `p` with a lower-case literal. */
export function ieq(p: usize, n: i32, lit: string): bool {
  if (lit.length != n) return false;
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u8>(p + <usize>i);
    if (c - 65 < 26) c |= 32;
    if (c != <u32>lit.charCodeAt(i)) return false;
  }
  return true;
}

/** Content-Length of the header block [p, p+len) (0 when absent, -1 when chunked). */
export function bodyLength(p: usize, len: i32): i64 {
  let i = 0;
  let result: i64 = 0;
  while (i < len) {
    let e = i;
    while (e < len && load<u8>(p + <usize>e) != 10) e++;
    let c = i;
    while (c < e && load<u8>(p + <usize>c) != 58) c++;
    if (c < e) {
      const nameLen = c - i;
      if (ieq(p + <usize>i, nameLen, "content-length")) {
        let v: i64 = 0;
        for (let k = c + 1; k < e; k++) {
          const d = <u32>load<u8>(p + <usize>k) - 48;
          if (d < 10) v = v * 10 + <i64>d;
        }
        result = v;
      } else if (ieq(p + <usize>i, nameLen, "transfer-encoding")) {
        result = -1;
      }
    }
    i = e + 1;
  }
  return result;
}
