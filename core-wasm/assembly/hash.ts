// Truncated hex digests as the JA4+ specs print them. The digest cores live in crypto/
// (sha256.ts, md5.ts, memoised by memo.ts: fingerprint inputs repeat across clients).

import { md5Cached, sha256Cached } from "./crypto/memo";

import { putHexBytes } from "./util";

const DIGEST: usize = memory.data(32);

/**
 * First 12 hex characters of SHA-256 of `len` bytes at `p`, written at `dst`; returns the
 * end pointer. JA4.md: an empty list hashes to "000000000000", not to SHA-256("").
 */
export function putHash12(dst: usize, p: usize, len: i32): usize {
  if (len == 0) {
    for (let i: usize = 0; i < 12; i++) store<u8>(dst + i, 48);
    return dst + 12;
  }
  sha256Cached(p, len, DIGEST);
  return putHexBytes(dst, DIGEST, 6);
}

/** Full 32-character MD5 hex of `len` bytes at `p` (JA3, JA3S); returns the end pointer. */
export function putMd5Hex(dst: usize, p: usize, len: i32): usize {
  md5Cached(p, len, DIGEST);
  return putHexBytes(dst, DIGEST, 16);
}
