// HKDF-SHA256 (RFC 5869) and TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1), as QUIC uses
// them to derive Initial secrets (RFC 9001 §5.1-5.2). Allocation-free.

import { hmacSha256, hmacSha256Begin, hmacSha256End, hmacSha256Key, hmacSha256Update } from "./hmac";
import { sha256LastBlock } from "./sha256";

/** Longest output HKDF-Expand can produce with SHA-256 (255 * HashLen, RFC 5869 §2.3). */
export const HKDF_MAX_OUT: i32 = 255 * 32;

const T: usize = memory.data(32);
const COUNTER: usize = memory.data(1);
/** HkdfLabel: u16 length, u8 label length, "tls13 " + label (≤ 255), u8 context length, context (≤ 255). */
const LABEL: usize = memory.data(2 + 1 + 255 + 1 + 255);
const TLS13_PREFIX: usize = memory.data<u8>([0x74, 0x6c, 0x73, 0x31, 0x33, 0x20]); // "tls13 "

/** HKDF-Extract(salt, IKM) → 32-byte PRK at `out`. */
export function hkdfExtract(salt: usize, saltLen: i32, ikm: usize, ikmLen: i32, out: usize): void {
  hmacSha256(salt, saltLen, ikm, ikmLen, out);
}

/** HKDF-Expand under the HMAC key already set (the PRK); `out` must not overlap `info`. */
function expandKeyed(info: usize, infoLen: i32, out: usize, outLen: i32): void {
  let done = 0;
  let counter: u8 = 1;
  while (done < outLen) {
    hmacSha256Begin();
    if (counter > 1) hmacSha256Update(T, 32);
    hmacSha256Update(info, infoLen);
    store<u8>(COUNTER, counter);
    hmacSha256Update(COUNTER, 1);
    hmacSha256End(T);
    const take = min(32, outLen - done);
    memory.copy(out + <usize>done, T, <usize>take);
    done += take;
    counter++;
  }
}

/**
 * HKDF-Expand(PRK, info, L): writes `outLen` bytes at `out`. Returns false (writing
 * nothing) when `outLen` is outside 0..{@link HKDF_MAX_OUT}.
 */
export function hkdfExpand(prk: usize, prkLen: i32, info: usize, infoLen: i32, out: usize, outLen: i32): bool {
  if (outLen < 0 || outLen > HKDF_MAX_OUT || infoLen < 0) return false;
  hmacSha256Key(prk, prkLen);
  expandKeyed(info, infoLen, out, outLen);
  return true;
}

/**
 * Builds the HkdfLabel structure for `label` (without the "tls13 " prefix) and `context`
 * into static memory; returns its length, or -1 when a part is too long.
 */
function buildLabel(label: usize, labelLen: i32, context: usize, contextLen: i32, outLen: i32): i32 {
  if (labelLen < 0 || labelLen + 6 > 255 || contextLen < 0 || contextLen > 255) return -1;
  if (outLen < 0 || outLen > 0xffff) return -1;
  store<u8>(LABEL, <u8>(outLen >> 8), 0);
  store<u8>(LABEL, <u8>outLen, 1);
  store<u8>(LABEL, <u8>(labelLen + 6), 2);
  memory.copy(LABEL + 3, TLS13_PREFIX, 6);
  memory.copy(LABEL + 9, label, <usize>labelLen);
  let n = 9 + labelLen;
  store<u8>(LABEL + <usize>n, <u8>contextLen);
  n++;
  memory.copy(LABEL + <usize>n, context, <usize>contextLen);
  return n + contextLen;
}

/**
 * HKDF-Expand-Label(Secret, Label, Context, Length) from RFC 8446 §7.1; `label` excludes
 * the "tls13 " prefix (e.g. "quic key"). Returns false when a length is out of range.
 */
export function hkdfExpandLabel(
  secret: usize, secretLen: i32, label: usize, labelLen: i32, context: usize, contextLen: i32, out: usize, outLen: i32,
): bool {
  hmacSha256Key(secret, secretLen);
  return hkdfExpandLabelKeyed(label, labelLen, context, contextLen, out, outLen);
}

/**
 * Like {@link hkdfExpandLabel} but reuses the secret set by the previous call (or by
 * `hmacSha256Key`): QUIC derives key, iv and hp from one secret, so keying once saves
 * two SHA-256 blocks per label.
 */
export function hkdfExpandLabelKeyed(
  label: usize, labelLen: i32, context: usize, contextLen: i32, out: usize, outLen: i32,
): bool {
  if (outLen > HKDF_MAX_OUT) return false;
  const n = buildLabel(label, labelLen, context, contextLen, outLen);
  if (n < 0) return false;
  expandKeyed(LABEL, n, out, outLen);
  return true;
}

/**
 * Builds at `block` the one padded SHA-256 block that HKDF-Expand-Label(Secret, label, "",
 * outLen) hashes inside HMAC for outLen ≤ 32: HkdfLabel || 0x01, after the 64-byte key
 * block. With `hmacSha256Block` this turns an expand into two compressions; the block
 * depends only on the label and length, so callers build it once. Returns false when the
 * label is too long for one block (over 44 bytes) or outLen is outside 1..32.
 */
export function hkdfExpandLabelBlock(label: usize, labelLen: i32, outLen: i32, block: usize): bool {
  if (outLen < 1 || outLen > 32) return false;
  const n = buildLabel(label, labelLen, 0, 0, outLen);
  if (n < 0) return false;
  store<u8>(LABEL + <usize>n, 1); // HKDF-Expand's counter for T(1)
  return sha256LastBlock(LABEL, n + 1, 64, block);
}
