// HTTP/2 (RFC 9113) client stream after TLS decryption: connection preface, frame
// headers, HEADERS + CONTINUATION into one header block, HPACK decoding, then JA4H with
// version "20". Frames may span TLS records: a per-connection carry buffer holds a partial
// frame.

import { HPACK_STATE_BYTES, FIELDS, fieldCount, hpackDecode, hpackInit } from "./hpack";
import { ja4hAdd, ja4hBegin, ja4hWrite } from "./ja4h";
import { httpMethodCode, methodCode } from "./http";
import { KIND_HTTP_REQUEST, recBegin, recEnd } from "./out";
import { be24 } from "./util";
import { bump, ST_HTTP_REQUESTS, ST_RECORDS } from "./stats";

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_HEADERS: u32 = 1;
const FRAME_CONTINUATION: u32 = 9;
const FLAG_END_HEADERS: u32 = 0x4;
const FLAG_PADDED: u32 = 0x8;
const FLAG_PRIORITY: u32 = 0x20;

const S_PREFACE: usize = 0; // u32 preface bytes matched
const S_BUF_LEN: usize = 4; // u32
const S_HB_LEN: usize = 8; // u32
const S_HB_OPEN: usize = 12; // u32 a header block waits for CONTINUATION
const BUF_CAP: i32 = 32768;
const HB_CAP: i32 = 16384;
const S_BUF: usize = 16;
const S_HB: usize = S_BUF + <usize>BUF_CAP;
const S_HPACK: usize = S_HB + <usize>HB_CAP;
export const H2_STATE_BYTES: i32 = <i32>S_HPACK + HPACK_STATE_BYTES;

const METHOD_TMP: usize = memory.data(16);

export function h2Init(s: usize): void {
  store<u32>(s, 0, S_PREFACE);
  store<u32>(s, 0, S_BUF_LEN);
  store<u32>(s, 0, S_HB_LEN);
  store<u32>(s, 0, S_HB_OPEN);
  hpackInit(s + S_HPACK);
}

function isName(p: usize, n: i32, lit: string): bool {
  if (n != lit.length) return false;
  for (let i = 0; i < n; i++) if (<u32>load<u8>(p + <usize>i) != <u32>lit.charCodeAt(i)) return false;
  return true;
}

function headerBlock(s: usize, flowId: u32): void {
  const ok = hpackDecode(s + S_HPACK, s + S_HB, <i32>load<u32>(s, S_HB_LEN));
  store<u32>(s, 0, S_HB_LEN);
  if (!ok) return;
  // The request method, from the :method pseudo-header.
  let code = -1;
  for (let i = 0; i < fieldCount; i++) {
    const f = FIELDS + (<usize>i << 4);
    if (isName(<usize>load<u32>(f), <i32>load<u32>(f, 4), ":method")) {
      const v = <usize>load<u32>(f, 8);
      const n = <i32>load<u32>(f, 12);
      if (n > 0 && n < 12) {
        memory.copy(METHOD_TMP, v, n);
        store<u8>(METHOD_TMP + <usize>n, 32);
        code = httpMethodCode(METHOD_TMP, n + 1) == 1 ? 1 : -1;
      }
      break;
    }
  }
  if (code < 0) return; // a response or trailers, not a request
  ja4hBegin(methodCode, 50, 48, true);
  for (let i = 0; i < fieldCount; i++) {
    const f = FIELDS + (<usize>i << 4);
    ja4hAdd(<usize>load<u32>(f), <i32>load<u32>(f, 4), <usize>load<u32>(f, 8), <i32>load<u32>(f, 12));
  }
  recBegin(KIND_HTTP_REQUEST, flowId, false);
  ja4hWrite();
  recEnd();
  bump(ST_HTTP_REQUESTS);
  bump(ST_RECORDS);
}

function appendBlock(s: usize, p: usize, n: i32): bool {
  const have = <i32>load<u32>(s, S_HB_LEN);
  if (n < 0 || have + n > HB_CAP) return false;
  memory.copy(s + S_HB + <usize>have, p, n);
  store<u32>(s, <u32>(have + n), S_HB_LEN);
  return true;
}

/** One complete frame at `p` (9-byte header included). False ends the connection. */
function frame(s: usize, p: usize, flowId: u32): bool {
  const len = <i32>be24(p);
  const type = <u32>load<u8>(p + 3);
  const flags = <u32>load<u8>(p + 4);
  let q = p + 9;
  let n = len;
  if (type == FRAME_HEADERS) {
    if ((flags & FLAG_PADDED) != 0) {
      if (n < 1) return false;
      const pad = <i32>load<u8>(q);
      q++;
      n -= 1 + pad;
    }
    if ((flags & FLAG_PRIORITY) != 0) {
      q += 5;
      n -= 5;
    }
    store<u32>(s, 0, S_HB_LEN);
    if (!appendBlock(s, q, n)) return false;
    if ((flags & FLAG_END_HEADERS) != 0) headerBlock(s, flowId);
    else store<u32>(s, 1, S_HB_OPEN);
  } else if (type == FRAME_CONTINUATION && load<u32>(s, S_HB_OPEN) != 0) {
    if (!appendBlock(s, q, n)) return false;
    if ((flags & FLAG_END_HEADERS) != 0) {
      store<u32>(s, 0, S_HB_OPEN);
      headerBlock(s, flowId);
    }
  }
  return true;
}

/**
 * Feeds `n` plaintext bytes of the client stream. Returns false when the stream is not
 * HTTP/2 or breaks its framing (the caller stops decrypting this connection).
 */
export function h2Feed(s: usize, p: usize, n: i32, flowId: u32): bool {
  let i = 0;
  let matched = <i32>load<u32>(s, S_PREFACE);
  while (matched < PREFACE.length && i < n) {
    if (<u32>load<u8>(p + <usize>i) != <u32>PREFACE.charCodeAt(matched)) return false;
    matched++;
    i++;
  }
  store<u32>(s, <u32>matched, S_PREFACE);
  if (i == n) return true;
  let have = <i32>load<u32>(s, S_BUF_LEN);
  if (have + (n - i) > BUF_CAP) return false;
  memory.copy(s + S_BUF + <usize>have, p + <usize>i, n - i);
  have += n - i;
  let off = 0;
  while (have - off >= 9) {
    const flen = <i32>be24(s + S_BUF + <usize>off);
    if (flen > BUF_CAP - 9) return false;
    if (have - off < 9 + flen) break;
    if (!frame(s, s + S_BUF + <usize>off, flowId)) return false;
    off += 9 + flen;
  }
  if (off > 0) memory.copy(s + S_BUF, s + S_BUF + <usize>off, have - off);
  store<u32>(s, <u32>(have - off), S_BUF_LEN);
  return true;
}
