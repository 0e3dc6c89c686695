// HMAC-SHA256 (RFC 2104), allocation-free.
//
// QUIC key derivation calls HMAC many times with the same key (HKDF-Expand-Label for
// "quic key", "quic iv", "quic hp" from one secret), so keying is split from hashing:
// `hmacSha256Key` absorbs the ipad/opad blocks once and saves both chaining states, and
// every following MAC costs only the message blocks plus one outer block.

import {
  sha256,
  sha256CompressAt,
  sha256DigestAt,
  sha256Final,
  sha256Init,
  sha256InitAt,
  sha256Resume,
  sha256SaveState,
  sha256Update,
} from "./sha256";

const IPAD_STATE: usize = memory.data(32);
const OPAD_STATE: usize = memory.data(32);
const PAD: usize = memory.data(64);
const INNER: usize = memory.data(32);
/** Chaining state of the one-block path (`hmacSha256Block`, `hmacSha256Key32`). */
const ST: usize = memory.data(32);
/**
 * Outer message block of the one-block path: the inner digest (bytes 0..31, written per
 * MAC), then constant padding for 64 + 32 bytes = 768 bits, set up on first use.
 */
const OUTER_BLOCK: usize = memory.data(64);
let outerReady = false;

/** Sets the key for the following `hmacSha256Begin`/`Update`/`End` calls. */
export function hmacSha256Key(key: usize, keyLen: i32): void {
  memory.fill(PAD, 0, 64);
  if (keyLen > 64) {
    // RFC 2104 §2: keys longer than the block size are hashed first.
    sha256(key, keyLen, PAD);
  } else if (keyLen > 0) {
    memory.copy(PAD, key, <usize>keyLen);
  }
  for (let i: usize = 0; i < 64; i += 8) store<u64>(PAD + i, load<u64>(PAD + i) ^ 0x3636363636363636);
  sha256Init();
  sha256Update(PAD, 64);
  sha256SaveState(IPAD_STATE);
  // ipad ^ opad = 0x36 ^ 0x5c = 0x6a: turns the ipad block into the opad block in place.
  for (let i: usize = 0; i < 64; i += 8) store<u64>(PAD + i, load<u64>(PAD + i) ^ 0x6a6a6a6a6a6a6a6a);
  sha256Init();
  sha256Update(PAD, 64);
  sha256SaveState(OPAD_STATE);
}

/** Size in bytes of a keyed HMAC state (the inner and outer chaining states). */
export const HMAC_KEY_STATE_BYTES: i32 = 64;

/** Copies the current key's inner/outer states to `out` (HMAC_KEY_STATE_BYTES). */
export function hmacSha256SaveKey(out: usize): void {
  memory.copy(out, IPAD_STATE, 32);
  memory.copy(out + 32, OPAD_STATE, 32);
}

/** Makes a key saved by `hmacSha256SaveKey` current again, without hashing its pads. */
export function hmacSha256LoadKey(saved: usize): void {
  memory.copy(IPAD_STATE, saved, 32);
  memory.copy(OPAD_STATE, saved + 32, 32);
}

/** Starts a MAC under the key set by `hmacSha256Key`. */
export function hmacSha256Begin(): void {
  sha256Resume(IPAD_STATE, 64);
}

/** Absorbs `len` bytes at `ptr` into the MAC. */
export function hmacSha256Update(ptr: usize, len: i32): void {
  sha256Update(ptr, len);
}

/** Finishes the MAC and writes 32 bytes at `out`. */
export function hmacSha256End(out: usize): void {
  sha256Final(INNER);
  sha256Resume(OPAD_STATE, 64);
  sha256Update(INNER, 32);
  sha256Final(out);
}

/** HMAC-SHA256 of the message at `msg` under the key at `key`; 32 bytes at `out`. */
export function hmacSha256(key: usize, keyLen: i32, msg: usize, msgLen: i32, out: usize): void {
  hmacSha256Key(key, keyLen);
  hmacSha256Begin();
  sha256Update(msg, msgLen);
  hmacSha256End(out);
}

/**
 * Keys HMAC with a 32-byte key (`keyLen` = HashLen, as every HKDF PRK and TLS 1.3 secret)
 * and writes the keyed state to `saved` (HMAC_KEY_STATE_BYTES, the layout of
 * `hmacSha256SaveKey`): two compressions, no streaming buffer. Does not change the key of
 * the streaming calls.
 */
export function hmacSha256Key32(key: usize, saved: usize): void {
  for (let i: usize = 0; i < 32; i += 8) store<u64>(PAD + i, load<u64>(key + i) ^ 0x3636363636363636);
  for (let i: usize = 32; i < 64; i += 8) store<u64>(PAD + i, 0x3636363636363636);
  sha256InitAt(saved);
  sha256CompressAt(saved, PAD);
  for (let i: usize = 0; i < 64; i += 8) store<u64>(PAD + i, load<u64>(PAD + i) ^ 0x6a6a6a6a6a6a6a6a);
  sha256InitAt(saved + 32);
  sha256CompressAt(saved + 32, PAD);
}

/** 32-byte copy as four u64 moves (memory.copy is an out-of-line call in V8). */
@inline function copy32(dst: usize, src: usize): void {
  store<u64>(dst, load<u64>(src, 0), 0);
  store<u64>(dst, load<u64>(src, 8), 8);
  store<u64>(dst, load<u64>(src, 16), 16);
  store<u64>(dst, load<u64>(src, 24), 24);
}

/**
 * HMAC-SHA256 under the keyed state at `saved` of a message that fits one block after the
 * key's: `block` is the message padded by `sha256LastBlock(msg, len, 64, block)`. Writes 32
 * bytes at `out`; exactly two compressions. HKDF-Extract of a connection ID and
 * HKDF-Expand-Label with a fixed label are such messages.
 */
export function hmacSha256Block(saved: usize, block: usize, out: usize): void {
  if (!outerReady) {
    memory.fill(OUTER_BLOCK + 32, 0, 32);
    store<u8>(OUTER_BLOCK + 32, 0x80);
    store<u64>(OUTER_BLOCK, bswap<u64>(<u64>(64 + 32) << 3), 56);
    outerReady = true;
  }
  copy32(ST, saved);
  sha256CompressAt(ST, block);
  sha256DigestAt(ST, OUTER_BLOCK);
  copy32(ST, saved + 32);
  sha256CompressAt(ST, OUTER_BLOCK);
  sha256DigestAt(ST, out);
}
