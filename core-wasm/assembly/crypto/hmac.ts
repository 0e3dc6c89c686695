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
import { sha256Compress4 } from "./sha256x4";

/** RFC 2104's inner and outer pad bytes, eight at a time. */
const IPAD: u64 = 0x3636363636363636;
const OPAD: u64 = 0x5c5c5c5c5c5c5c5c;

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
  for (let i: usize = 0; i < 64; i += 8) store<u64>(PAD + i, load<u64>(PAD + i) ^ IPAD);
  sha256Init();
  sha256Update(PAD, 64);
  sha256SaveState(IPAD_STATE);
  // ipad ^ opad = 0x36 ^ 0x5c = 0x6a: turns the ipad block into the opad block in place.
  for (let i: usize = 0; i < 64; i += 8) store<u64>(PAD + i, load<u64>(PAD + i) ^ (IPAD ^ OPAD));
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
  padKey32(key, PAD, IPAD);
  sha256InitAt(saved);
  sha256CompressAt(saved, PAD);
  padKey32(key, PAD, OPAD);
  sha256InitAt(saved + 32);
  sha256CompressAt(saved + 32, PAD);
}

/** The 64-byte ipad or opad block (`pad` repeated) of a 32-byte key, at `block`. */
@inline function padKey32(key: usize, block: usize, pad: u64): void {
  for (let i: usize = 0; i < 32; i += 8) store<u64>(block + i, load<u64>(key + i) ^ pad);
  for (let i: usize = 32; i < 64; i += 8) store<u64>(block + i, pad);
}

/**
 * Sets up an outer block of the one-block path: bytes 32..63 are the padding of a 64 + 32
 * byte message (the inner digest goes in bytes 0..31, per MAC).
 */
function padOuterBlock(block: usize): void {
  memory.fill(block + 32, 0, 32);
  store<u8>(block + 32, 0x80);
  store<u64>(block, bswap<u64>(<u64>(64 + 32) << 3), 56);
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
    padOuterBlock(OUTER_BLOCK);
    outerReady = true;
  }
  copy32(ST, saved);
  sha256CompressAt(ST, block);
  sha256DigestAt(ST, OUTER_BLOCK);
  copy32(ST, saved + 32);
  sha256CompressAt(ST, OUTER_BLOCK);
  sha256DigestAt(ST, out);
}

// Four-lane variants (crypto/sha256x4.ts): QUIC's Initial key schedule has, at each step,
// two to six independent one-block HMACs; doing them side by side in SIMD lanes halves
// its cost. Results equal the one-at-a-time functions above.

/** Four chaining states and four message blocks for the four-lane calls. */
const ST4: usize = memory.data(4 * 32, 16);
const PAD4: usize = memory.data(4 * 64, 16);
/** Outer blocks: each lane's inner digest, then the padding of a 96-byte message. */
const OUTER4: usize = memory.data(4 * 64, 16);
let outer4Ready = false;

/**
 * `hmacSha256Key32` for two 32-byte keys at once (its four compressions in one four-lane
 * call): `k0` keyed into `saved0`, `k1` into `saved1` (HMAC_KEY_STATE_BYTES each). The
 * keys may be the same; keys and states must not overlap.
 */
export function hmacSha256Key32x2(k0: usize, saved0: usize, k1: usize, saved1: usize): void {
  padKey32(k0, PAD4, IPAD);
  padKey32(k0, PAD4 + 64, OPAD);
  padKey32(k1, PAD4 + 128, IPAD);
  padKey32(k1, PAD4 + 192, OPAD);
  sha256InitAt(saved0);
  sha256InitAt(saved0 + 32);
  sha256InitAt(saved1);
  sha256InitAt(saved1 + 32);
  sha256Compress4(saved0, PAD4, saved0 + 32, PAD4 + 64, saved1, PAD4 + 128, saved1 + 32, PAD4 + 192);
}

/**
 * `hmacSha256Block` for four (key state, padded block, output) triples at once: lane i
 * MACs `bi` under the keyed state `si` into the 32 bytes at `oi`. For fewer than four,
 * repeat a lane's arguments. Outputs must not overlap the inputs of another lane.
 */
export function hmacSha256Block4(
  s0: usize, b0: usize, o0: usize,
  s1: usize, b1: usize, o1: usize,
  s2: usize, b2: usize, o2: usize,
  s3: usize, b3: usize, o3: usize,
): void {
  if (!outer4Ready) {
    for (let i: usize = 0; i < 4; i++) padOuterBlock(OUTER4 + (i << 6));
    outer4Ready = true;
  }
  copy32(ST4, s0);
  copy32(ST4 + 32, s1);
  copy32(ST4 + 64, s2);
  copy32(ST4 + 96, s3);
  sha256Compress4(ST4, b0, ST4 + 32, b1, ST4 + 64, b2, ST4 + 96, b3);
  for (let i: usize = 0; i < 4; i++) sha256DigestAt(ST4 + (i << 5), OUTER4 + (i << 6));
  copy32(ST4, s0 + 32);
  copy32(ST4 + 32, s1 + 32);
  copy32(ST4 + 64, s2 + 32);
  copy32(ST4 + 96, s3 + 32);
  sha256Compress4(ST4, OUTER4, ST4 + 32, OUTER4 + 64, ST4 + 64, OUTER4 + 128, ST4 + 96, OUTER4 + 192);
  sha256DigestAt(ST4, o0);
  sha256DigestAt(ST4 + 32, o1);
  sha256DigestAt(ST4 + 64, o2);
  sha256DigestAt(ST4 + 96, o3);
}
