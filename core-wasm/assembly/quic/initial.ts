// QUIC Initial packets → TLS ClientHello / ServerHello bytes.
//
// Specs: RFC 9000 (QUIC v1 transport: §17.2 long header, §17.2.2 Initial, §16 varints,
// §19 frames, Appendix A.3 packet-number decoding), RFC 9001 (§5.2 Initial secrets, §5.3
// AEAD, §5.4 header protection), RFC 9369 (QUIC v2: other salt, labels and type bits).
//
// Interface (for the UDP path of the engine). A caller keeps one state block of
// QUIC_STATE_BYTES per UDP flow that looks like QUIC, and feeds it every datagram payload
// of that flow with the direction:
//
//   if (quicInitialVersion(p, n) != 0) { quicStateInit(state); ... }   // new flow
//   const st = quicFeed(state, p, n, fromServer);
//   if (st == QUIC_HELLO) parseHandshake(quicHelloPtr(state, fromServer),
//                                        quicHelloLen(state, fromServer));
//
// The hello is the complete TLS handshake message (type byte, 3-byte length, body) as it
// appears in the CRYPTO stream: type 1 from the client, type 2 from the server. After a
// HelloRetryRequest, quicExpectNextHello(state, dir) re-arms a direction for the second
// ClientHello / ServerHello further along the same stream.
// quicFeed returns one of the QUIC_* status codes below; it never traps on any input.
//
// Behaviour:
// - Keys come from the Destination Connection ID of the flow's FIRST client Initial and
//   stay for the flow: later client Initials (whose DCID is the server's chosen ID) and
//   the server's Initials use them. If a client Initial fails to authenticate under the
//   stored keys and carries another DCID or version (after Retry or Version Negotiation),
//   keys are re-derived from it and kept if, and only if, that packet authenticates.
// - The first client Initial derives the keys of both directions at once: the schedule's
//   independent HMACs run side by side in SIMD lanes (crypto/hmac.ts four-lane calls), so
//   the server's keys cost little more than the client's alone. Once a direction's hello
//   is complete its packets are not even decrypted.
// - Every packet is authenticated (AES-128-GCM tag over the whole packet) before any of
//   its frames is read; then it is decrypted lazily, only as far as the frame walk reads,
//   which stops once the hello is complete (Initials are mostly PADDING after it).
// - CRYPTO frames are placed by offset into a per-direction buffer with a received-bytes
//   bitmap, so frames out of order, duplicated, or spread over several packets (Chrome
//   shuffles them and post-quantum key shares need 2+ packets) are reassembled.
// - Memory is bounded: the state block is fixed (QUIC_STATE_BYTES), hellos longer than
//   QUIC_CLIENT_HELLO_CAP / QUIC_SERVER_HELLO_CAP report QUIC_TOO_BIG, packets longer than
//   QUIC_MAX_PACKET are refused as malformed. No allocation.

import { gcmCtr, gcmInit, gcmVerify, GCM_CTX_BYTES } from "../crypto/gcm";
import { aes128EncryptBlock, aes128ExpandKey, AES128_ROUND_KEYS_BYTES } from "../crypto/aes";
import { hkdfExpandLabelBlock } from "../crypto/hkdf";
import {
  hmacSha256Block, hmacSha256Block4, hmacSha256Key, hmacSha256Key32, hmacSha256Key32x2,
  hmacSha256SaveKey, HMAC_KEY_STATE_BYTES,
} from "../crypto/hmac";
import { sha256LastBlock } from "../crypto/sha256";

/** QUIC version 1 (RFC 9000). */
export const QUIC_V1: u32 = 0x00000001;
/** QUIC version 2 (RFC 9369 §3.1). */
export const QUIC_V2: u32 = 0x6b3343cf;

/** Accepted; the hello of this direction is not complete yet. */
export const QUIC_PENDING: i32 = 0;
/** The hello of this direction has just been completed by this datagram. */
export const QUIC_HELLO: i32 = 1;
/** The hello of this direction was already complete; the datagram was not decrypted. */
export const QUIC_DONE: i32 = 2;
/** No Initial packet of a supported version (v1, v2) in the datagram. */
export const QUIC_NOT_INITIAL: i32 = -1;
/** Truncated or inconsistent header, or a packet over QUIC_MAX_PACKET bytes. */
export const QUIC_MALFORMED: i32 = -2;
/** The packet did not authenticate (AEAD tag mismatch) under the flow's keys. */
export const QUIC_AUTH_FAILED: i32 = -3;
/** A server Initial arrived before any client Initial: no keys to decrypt it. */
export const QUIC_NO_KEYS: i32 = -4;
/** The hello is longer than this direction's reassembly buffer. */
export const QUIC_TOO_BIG: i32 = -5;

/** Reassembly capacity for a ClientHello (post-quantum hellos are ~1.8 KB). */
export const QUIC_CLIENT_HELLO_CAP: i32 = 8192;
/** Reassembly capacity for a ServerHello (an ML-KEM key share makes it ~1.2 KB). */
export const QUIC_SERVER_HELLO_CAP: i32 = 4096;
/** Longest single QUIC packet accepted (Initial datagrams are 1200..~1500 bytes). */
export const QUIC_MAX_PACKET: i32 = 16384;

// Flags of a state block.
const F_SECRET: u32 = 1;
const F_CLIENT_KEYS: u32 = 2;
const F_SERVER_KEYS: u32 = 4;
const F_CLIENT_DONE: u32 = 8;
const F_SERVER_DONE: u32 = 16;

// State block layout (byte offsets).
const S_FLAGS: usize = 0; // u32
const S_VERSION: usize = 4; // u32
const S_DCID_LEN: usize = 8; // u8
const S_DCID: usize = 9; // up to 20 bytes
// initial_secret is only ever an HMAC key (for "client in" / "server in"), so the state
// keeps its keyed HMAC (inner and outer SHA-256 states): deriving the second direction
// later does not hash the key pads again.
const S_SECRET_KEY: usize = 32; // HMAC_KEY_STATE_BYTES (64)
const S_CLIENT: usize = S_SECRET_KEY + <usize>HMAC_KEY_STATE_BYTES; // direction block
// Direction block layout.
const D_LARGEST_PN: usize = 0; // i64, -1 before the first packet
const D_MSG_LEN: usize = 8; // i32, hello length once complete
const D_MSG_START: usize = 12; // i32, CRYPTO stream offset of the hello being assembled
const D_IV: usize = 16; // 12 bytes
// i32: bytes of this direction's received-bytes bitmap known to be zero. The bitmaps are
// cleared lazily, only as far as the hello reaches: a whole-bitmap clear per flow (1.5 KB
// of cold pool memory) cost more than the frame walk.
const D_MAP_CLEAN: usize = 28;
const D_HP: usize = 32; // AES-128 round keys for header protection
const D_GCM: usize = D_HP + <usize>AES128_ROUND_KEYS_BYTES; // GCM context
const DIR_BYTES: usize = D_GCM + <usize>GCM_CTX_BYTES;
const S_SERVER: usize = S_CLIENT + DIR_BYTES;
const S_CLIENT_BUF: usize = S_SERVER + DIR_BYTES;
const S_CLIENT_MAP: usize = S_CLIENT_BUF + <usize>QUIC_CLIENT_HELLO_CAP;
const S_SERVER_BUF: usize = S_CLIENT_MAP + <usize>(QUIC_CLIENT_HELLO_CAP >> 3);
const S_SERVER_MAP: usize = S_SERVER_BUF + <usize>QUIC_SERVER_HELLO_CAP;

/** Size in bytes of one flow's state block (allocate it 8-byte aligned). */
export const QUIC_STATE_BYTES: i32 = <i32>(S_SERVER_MAP + <usize>(QUIC_SERVER_HELLO_CAP >> 3));

/** RFC 9001 §5.2 initial_salt for v1. */
const SALT_V1: usize = memory.data<u8>([
  0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
  0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
]);
/** RFC 9369 §3.3.1 initial_salt for v2. */
const SALT_V2: usize = memory.data<u8>([
  0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
  0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
]);
// HKDF labels (without the "tls13 " prefix hkdf.ts adds).
const L_CLIENT_IN: usize = memory.data<u8>([0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x20, 0x69, 0x6e]); // "client in"
const L_SERVER_IN: usize = memory.data<u8>([0x73, 0x65, 0x72, 0x76, 0x65, 0x72, 0x20, 0x69, 0x6e]); // "server in"
// "quic key", "quic iv", "quic hp" (v1); "quicv2 key", "quicv2 iv", "quicv2 hp" (v2).
const L_KEY_V1: usize = memory.data<u8>([0x71, 0x75, 0x69, 0x63, 0x20, 0x6b, 0x65, 0x79]);
const L_IV_V1: usize = memory.data<u8>([0x71, 0x75, 0x69, 0x63, 0x20, 0x69, 0x76]);
const L_HP_V1: usize = memory.data<u8>([0x71, 0x75, 0x69, 0x63, 0x20, 0x68, 0x70]);
const L_KEY_V2: usize = memory.data<u8>([0x71, 0x75, 0x69, 0x63, 0x76, 0x32, 0x20, 0x6b, 0x65, 0x79]);
const L_IV_V2: usize = memory.data<u8>([0x71, 0x75, 0x69, 0x63, 0x76, 0x32, 0x20, 0x69, 0x76]);
const L_HP_V2: usize = memory.data<u8>([0x71, 0x75, 0x69, 0x63, 0x76, 0x32, 0x20, 0x68, 0x70]);

// Scratch (the engine is single-threaded).
const WORK: usize = memory.data(QUIC_MAX_PACKET, 16);
const DIR_SECRET: usize = memory.data(32);
const MASK: usize = memory.data(16);
const NONCE: usize = memory.data(16);
const TRY_SECRET_KEY: usize = memory.data(HMAC_KEY_STATE_BYTES);
const SECRET_TMP: usize = memory.data(32);
const TRY_DIR: usize = memory.data(<i32>DIR_BYTES, 16);

/** End offset of the last varint read by `readVarint`. */
let varEnd: usize = 0;

/** Reads a QUIC varint (RFC 9000 §16) at `p` before `end`; -1 when truncated. */
function readVarint(p: usize, end: usize): i64 {
  if (p >= end) return -1;
  const b = <u64>load<u8>(p);
  const n = <usize>1 << <usize>(b >> 6);
  if (p + n > end) return -1;
  let v: u64 = b & 0x3f;
  for (let i: usize = 1; i < n; i++) v = (v << 8) | <u64>load<u8>(p + i);
  varEnd = p + n;
  return <i64>v;
}

/** True when `v` is a version whose Initial packets this module can open. */
function supported(v: u32): bool {
  return v == QUIC_V1 || v == QUIC_V2;
}

/** Long-header packet type bits of an Initial packet for `v` (v1: 0b00, v2: 0b01). */
function initialType(v: u32): u32 {
  return v == QUIC_V2 ? 1 : 0;
}

/** Long-header packet type bits of a Retry packet for `v` (v1: 0b11, v2: 0b00). */
function retryType(v: u32): u32 {
  return v == QUIC_V2 ? 0 : 3;
}

/**
 * Version of the first packet of the datagram when it is a long-header Initial packet of
 * a supported version (QUIC_V1 or QUIC_V2), else 0. Cheap: reads 5 bytes. Use it to decide
 * whether a UDP flow deserves a state block.
 */
export function quicInitialVersion(payload: usize, len: i32): u32 {
  if (len < 7) return 0;
  const first = <u32>load<u8>(payload);
  if ((first & 0xc0) != 0xc0) return 0; // long header with the fixed bit set
  const v = bswap<u32>(load<u32>(payload + 1));
  if (!supported(v)) return 0;
  return ((first >> 4) & 3) == initialType(v) ? v : 0;
}

/** Resets the state block at `state` (QUIC_STATE_BYTES) for a new flow. */
export function quicStateInit(state: usize): void {
  // Only the header and the counters of each direction need clearing: key material is
  // written before use (guarded by the F_*_KEYS flags), buffers by offset, and bitmaps
  // are cleared on demand (D_MAP_CLEAN).
  // Plain stores: memory.fill is an out-of-line call in V8, dearer than these few words.
  for (let i: usize = 0; i < S_CLIENT; i += 8) store<u64>(state + i, 0);
  for (let d = state + S_CLIENT; d <= state + S_SERVER; d += S_SERVER - S_CLIENT) {
    store<i64>(d + D_LARGEST_PN, -1);
    store<u64>(d + D_MSG_LEN, 0); // D_MSG_LEN and D_MSG_START
    store<i32>(d + D_MAP_CLEAN, 0);
  }
}

/** Pointer to the reassembled hello of a direction (valid when quicHelloLen > 0). */
export function quicHelloPtr(state: usize, fromServer: bool): usize {
  const start = load<i32>(state + (fromServer ? S_SERVER : S_CLIENT) + D_MSG_START);
  return state + (fromServer ? S_SERVER_BUF : S_CLIENT_BUF) + <usize>start;
}

/**
 * After a HelloRetryRequest the client sends a second ClientHello (and the server a second
 * ServerHello) further along the same CRYPTO stream (RFC 9001 §4.7 keeps Initial keys).
 * Call this once a direction's hello has been taken to assemble that direction's next
 * handshake message: the next QUIC_HELLO then reports it. Returns false when the direction
 * has no completed hello yet.
 */
export function quicExpectNextHello(state: usize, fromServer: bool): bool {
  const done = fromServer ? F_SERVER_DONE : F_CLIENT_DONE;
  const flags = load<u32>(state + S_FLAGS);
  if ((flags & done) == 0) return false;
  const dir = state + (fromServer ? S_SERVER : S_CLIENT);
  store<i32>(dir + D_MSG_START, load<i32>(dir + D_MSG_START) + load<i32>(dir + D_MSG_LEN));
  store<i32>(dir + D_MSG_LEN, 0);
  store<u32>(state + S_FLAGS, flags & ~done);
  return true;
}

/** Length of the reassembled hello of a direction, 0 until it is complete. */
export function quicHelloLen(state: usize, fromServer: bool): i32 {
  const done = fromServer ? F_SERVER_DONE : F_CLIENT_DONE;
  if ((load<u32>(state + S_FLAGS) & done) == 0) return 0;
  return load<i32>(state + (fromServer ? S_SERVER : S_CLIENT) + D_MSG_LEN);
}

/** QUIC version the flow's keys were derived for, 0 before the first client Initial. */
export function quicStateVersion(state: usize): u32 {
  return (load<u32>(state + S_FLAGS) & F_SECRET) != 0 ? load<u32>(state + S_VERSION) : 0;
}

// HMAC keyed with each version's salt, computed once: HKDF-Extract is HMAC(salt, DCID),
// so every new flow saves the two SHA-256 blocks of keying.
const SALT_KEY_V1: usize = memory.data(HMAC_KEY_STATE_BYTES);
const SALT_KEY_V2: usize = memory.data(HMAC_KEY_STATE_BYTES);
// Every HKDF-Expand-Label of the Initial key schedule has a fixed label, no context and
// an output of at most 32 bytes, so the one SHA-256 block its HMAC hashes is a constant
// (RFC 8446 §7.1 HkdfLabel, counter 1, padding): built once per module, each expand is
// then exactly two compressions. These constants hold for all traffic; nothing here
// depends on a connection.
const B_CLIENT_IN: usize = memory.data(64);
const B_SERVER_IN: usize = memory.data(64);
const B_KEY_V1: usize = memory.data(64);
const B_IV_V1: usize = memory.data(64);
const B_HP_V1: usize = memory.data(64);
const B_KEY_V2: usize = memory.data(64);
const B_IV_V2: usize = memory.data(64);
const B_HP_V2: usize = memory.data(64);
let constantsReady = false;
/** The padded block of HKDF-Extract's message (the DCID). */
const EXTRACT_BLOCK: usize = memory.data(64);
/** Keyed HMAC state of a direction's secret (for its key, iv and hp). */
const DIR_SECRET_KEY: usize = memory.data(HMAC_KEY_STATE_BYTES);

function ensureConstants(): void {
  if (constantsReady) return;
  hmacSha256Key(SALT_V1, 20);
  hmacSha256SaveKey(SALT_KEY_V1);
  hmacSha256Key(SALT_V2, 20);
  hmacSha256SaveKey(SALT_KEY_V2);
  hkdfExpandLabelBlock(L_CLIENT_IN, 9, 32, B_CLIENT_IN);
  hkdfExpandLabelBlock(L_SERVER_IN, 9, 32, B_SERVER_IN);
  hkdfExpandLabelBlock(L_KEY_V1, 8, 16, B_KEY_V1);
  hkdfExpandLabelBlock(L_IV_V1, 7, 12, B_IV_V1);
  hkdfExpandLabelBlock(L_HP_V1, 7, 16, B_HP_V1);
  hkdfExpandLabelBlock(L_KEY_V2, 10, 16, B_KEY_V2);
  hkdfExpandLabelBlock(L_IV_V2, 9, 12, B_IV_V2);
  hkdfExpandLabelBlock(L_HP_V2, 9, 16, B_HP_V2);
  constantsReady = true;
}

/**
 * Keyed HMAC states of the two directions' secrets, and the expand outputs: key, iv, hp of
 * the client (or the one direction `deriveDirection` derives), then of the server, each in
 * a 32-byte slot (the layout `setDirectionKeys` reads).
 */
const CLIENT_SECRET_KEY: usize = memory.data(HMAC_KEY_STATE_BYTES, 16);
const SERVER_SECRET_KEY: usize = memory.data(HMAC_KEY_STATE_BYTES, 16);
const SECRETS: usize = memory.data(64, 16); // client secret, then server secret
const EXPANDED: usize = memory.data(6 * 32, 16);

/**
 * initial_secret = HKDF-Extract(version salt, DCID) (RFC 9001 §5.2), stored at `out` as
 * an HMAC key state (HMAC_KEY_STATE_BYTES) ready for HKDF-Expand-Label. A DCID is at most
 * 20 bytes, so the extract is one block after the salt's key block.
 */
function deriveInitialSecretKey(version: u32, dcid: usize, dcidLen: i32, out: usize): void {
  ensureConstants();
  sha256LastBlock(dcid, dcidLen, 64, EXTRACT_BLOCK);
  hmacSha256Block(version == QUIC_V2 ? SALT_KEY_V2 : SALT_KEY_V1, EXTRACT_BLOCK, SECRET_TMP);
  hmacSha256Key32(SECRET_TMP, out);
}

/** Derives one direction's key, iv and hp (RFC 9001 §5.1) into the direction block `dir`. */
function deriveDirection(secretKey: usize, version: u32, fromServer: bool, dir: usize): void {
  ensureConstants();
  hmacSha256Block(secretKey, fromServer ? B_SERVER_IN : B_CLIENT_IN, DIR_SECRET);
  // One HMAC keying for the three labels below.
  hmacSha256Key32(DIR_SECRET, DIR_SECRET_KEY);
  const v2 = version == QUIC_V2;
  hmacSha256Block(DIR_SECRET_KEY, v2 ? B_KEY_V2 : B_KEY_V1, EXPANDED);
  hmacSha256Block(DIR_SECRET_KEY, v2 ? B_IV_V2 : B_IV_V1, EXPANDED + 32);
  hmacSha256Block(DIR_SECRET_KEY, v2 ? B_HP_V2 : B_HP_V1, EXPANDED + 64);
  setDirectionKeys(dir, EXPANDED);
}

/**
 * The whole Initial key schedule of a flow (RFC 9001 §5.2) from its first client DCID:
 * the initial secret's keyed state at `secretKey`, then both directions' key, iv and hp
 * into the direction blocks `client` and `server`. 4 scalar and 7 four-lane compressions
 * (24 one at a time): extract and key the initial secret (scalar); "client in" with
 * "server in"; key both secrets; the six expands.
 */
function deriveFlowKeys(
  version: u32, dcid: usize, dcidLen: i32, secretKey: usize, client: usize, server: usize,
): void {
  deriveInitialSecretKey(version, dcid, dcidLen, secretKey);
  hmacSha256Block4(
    secretKey, B_CLIENT_IN, SECRETS,
    secretKey, B_SERVER_IN, SECRETS + 32,
    secretKey, B_CLIENT_IN, SECRETS,
    secretKey, B_SERVER_IN, SECRETS + 32,
  );
  hmacSha256Key32x2(SECRETS, CLIENT_SECRET_KEY, SECRETS + 32, SERVER_SECRET_KEY);
  const v2 = version == QUIC_V2;
  const bKey = v2 ? B_KEY_V2 : B_KEY_V1;
  const bIv = v2 ? B_IV_V2 : B_IV_V1;
  const bHp = v2 ? B_HP_V2 : B_HP_V1;
  hmacSha256Block4(
    CLIENT_SECRET_KEY, bKey, EXPANDED,
    CLIENT_SECRET_KEY, bIv, EXPANDED + 32,
    CLIENT_SECRET_KEY, bHp, EXPANDED + 64,
    SERVER_SECRET_KEY, bKey, EXPANDED + 96,
  );
  hmacSha256Block4(
    SERVER_SECRET_KEY, bIv, EXPANDED + 128,
    SERVER_SECRET_KEY, bHp, EXPANDED + 160,
    SERVER_SECRET_KEY, bIv, EXPANDED + 128,
    SERVER_SECRET_KEY, bHp, EXPANDED + 160,
  );
  setDirectionKeys(client, EXPANDED);
  setDirectionKeys(server, EXPANDED + 96);
}

/** Installs a direction's key, iv and hp (32-byte slots at `kih`) into direction block `dir`. */
function setDirectionKeys(dir: usize, kih: usize): void {
  gcmInit(dir + D_GCM, kih);
  store<u64>(dir + D_IV, load<u64>(kih + 32));
  store<u32>(dir + D_IV, load<u32>(kih + 32, 8), 8);
  aes128ExpandKey(kih + 64, dir + D_HP);
  store<i64>(dir + D_LARGEST_PN, -1);
}

// The packet opened last: its payload is authenticated as a whole first, then decrypted
// lazily, front to back, only as far as the frame walk reads (CTR mode allows that): most
// of a client Initial is PADDING after the hello.
/** Offset in WORK of the payload of the packet opened last. */
let plainOff: usize = 0;
/** GCM context of the packet opened last. */
let openCtx: usize = 0;
/** First byte of the payload not decrypted yet (absolute address). */
let decEnd: usize = 0;
/** End of the payload (absolute address). */
let payEnd: usize = 0;

/**
 * Decrypt-ahead of `need`: at least this many bytes per counter-mode call. Chrome
 * scatters CRYPTO frames among PADDING runs, which the frame walk reads 8 bytes at a time;
 * a call per 16-byte block paid the call and the counter-mode set-up each time, while
 * decrypting up to 48 bytes too many once, at the end of the walk, costs 3 blocks at most.
 */
const DECRYPT_AHEAD: usize = 64;

/** Makes sure the payload bytes before `upto` are decrypted (clamped to the payload). */
function need(upto: usize): void {
  if (upto <= decEnd) return;
  const base = WORK + plainOff;
  const want = max(upto, decEnd + DECRYPT_AHEAD);
  const stop = min(payEnd, base + ((want - base + 15) & ~15));
  gcmCtr(openCtx, NONCE, base, <i32>(decEnd - base), <i32>(stop - base), base);
  decEnd = stop;
}

/**
 * Removes header protection from the Initial packet copied at WORK (`pktLen` bytes,
 * packet number at `pnOff`) and authenticates it with the keys of `dir`. Returns the
 * payload length (payload at WORK + plainOff, decrypted on demand by `need`), or -1 when
 * the packet does not open.
 */
function openPacket(dir: usize, pnOff: usize, pktLen: usize): i32 {
  // RFC 9001 §5.4.2: the sample starts 4 bytes after the packet number field's start.
  if (pnOff + 4 + 16 > pktLen) return -1;
  aes128EncryptBlock(dir + D_HP, WORK + pnOff + 4, MASK);
  const first = load<u8>(WORK) ^ (load<u8>(MASK) & 0x0f);
  store<u8>(WORK, first);
  const pnLen = <usize>(first & 3) + 1;
  let truncated: u64 = 0;
  for (let i: usize = 0; i < pnLen; i++) {
    const b = load<u8>(WORK + pnOff + i) ^ load<u8>(MASK + 1 + i);
    store<u8>(WORK + pnOff + i, b);
    truncated = (truncated << 8) | <u64>b;
  }
  const hdrLen = pnOff + pnLen;
  if (hdrLen + 16 > pktLen) return -1;
  const pn = decodePacketNumber(load<i64>(dir + D_LARGEST_PN), truncated, pnLen);
  // RFC 9001 §5.3: nonce = iv XOR packet number (left-padded to the iv length).
  store<u64>(NONCE, load<u64>(dir + D_IV));
  store<u32>(NONCE, load<u32>(dir + D_IV, 8), 8);
  store<u64>(NONCE + 4, load<u64>(NONCE + 4) ^ bswap<u64>(<u64>pn));
  const ctLen = <i32>(pktLen - hdrLen - 16);
  const ct = WORK + hdrLen;
  if (!gcmVerify(dir + D_GCM, NONCE, WORK, <i32>hdrLen, ct, ctLen, ct + <usize>ctLen)) return -1;
  if (pn > load<i64>(dir + D_LARGEST_PN)) store<i64>(dir + D_LARGEST_PN, pn);
  plainOff = hdrLen;
  openCtx = dir + D_GCM;
  decEnd = ct;
  payEnd = ct + <usize>ctLen;
  return ctLen;
}

/** RFC 9000 Appendix A.3: full packet number from its truncated encoding. */
function decodePacketNumber(largest: i64, truncated: u64, pnLen: usize): i64 {
  const expected = largest + 1;
  const win: i64 = <i64>1 << <i64>(pnLen * 8);
  const hwin = win >> 1;
  const candidate = (expected & ~(win - 1)) | <i64>truncated;
  if (candidate <= expected - hwin && candidate < (<i64>1 << 62) - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

function setBit(map: usize, i: i32): void {
  const at = map + <usize>(i >> 3);
  store<u8>(at, <u8>(<u32>load<u8>(at) | (<u32>1 << <u32>(i & 7))));
}

/**
 * Makes sure the bitmap bytes covering stream bytes [0, upto) of direction `dir` are
 * cleared (bitmap at `map`, `cap` stream bytes): everything the hello can touch is zeroed
 * before it is first read or set. Rounds up to 64 bitmap bytes so a hello costs a fill or
 * two, not one per frame.
 */
function clearMapTo(dir: usize, map: usize, cap: i32, upto: i32): void {
  const have = load<i32>(dir + D_MAP_CLEAN);
  const want = min((((upto + 7) >> 3) + 63) & ~63, cap >> 3);
  if (want <= have) return;
  memory.fill(map + <usize>have, 0, <usize>(want - have));
  store<i32>(dir + D_MAP_CLEAN, want);
}

/** Marks bytes [a, b) received in the bitmap at `map`. */
function markRange(map: usize, a: i32, b: i32): void {
  let i = a;
  while (i < b && (i & 7) != 0) {
    setBit(map, i);
    i++;
  }
  if (b - i >= 8) {
    memory.fill(map + <usize>(i >> 3), 0xff, <usize>((b - i) >> 3));
    i += (b - i) & ~7;
  }
  while (i < b) {
    setBit(map, i);
    i++;
  }
}

function hasBit(map: usize, i: i32): bool {
  return ((<u32>load<u8>(map + <usize>(i >> 3)) >> <u32>(i & 7)) & 1) != 0;
}

/** True when every byte of [from, to) is marked in the bitmap at `map`. */
function covered(map: usize, from: i32, to: i32): bool {
  let i = from;
  while (i < to && (i & 7) != 0) {
    if (!hasBit(map, i)) return false;
    i++;
  }
  while (i + 64 <= to) {
    if (load<u64>(map + <usize>(i >> 3)) != 0xffffffffffffffff) return false;
    i += 64;
  }
  while (i + 8 <= to) {
    if (load<u8>(map + <usize>(i >> 3)) != 0xff) return false;
    i += 8;
  }
  while (i < to) {
    if (!hasBit(map, i)) return false;
    i++;
  }
  return true;
}

/**
 * Walks the frames of an opened Initial payload (RFC 9000 §19; Initial packets may carry
 * PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE, §17.2.2) and stores CRYPTO data,
 * decrypting only as far as it reads. Stops at the first frame that is truncated or not
 * allowed in an Initial packet, and as soon as the hello is complete (`helloLen` > 0).
 */
function takeFrames(
  p0: usize, end: usize, dir: usize, buf: usize, map: usize, start: i32, cap: i32,
): void {
  let p = p0;
  while (p < end) {
    need(p + 1);
    const t = load<u8>(p);
    if (t == 0x00 || t == 0x01) {
      // PADDING / PING: no body. Padding comes in long runs: skip the run 8 bytes at a time.
      p++;
      while (p < end) {
        if (p + 8 <= end) {
          need(p + 8);
          if (load<u64>(p) == 0) {
            p += 8;
            continue;
          }
        } else {
          need(p + 1);
        }
        if (load<u8>(p) != 0) break;
        p++;
      }
    } else if (t == 0x06) {
      need(min(end, p + 17)); // type + two varints of at most 8 bytes
      const off = readVarint(p + 1, end);
      if (off < 0) return;
      const n = readVarint(varEnd, end);
      if (n < 0) return;
      const data = varEnd;
      if (<u64>n > <u64>(end - data)) return;
      need(data + <usize>n);
      // Keep only what fits: a hello that does not fit is reported by the caller.
      if (off < <i64>cap) {
        const stop = min<i64>(off + n, <i64>cap);
        const a = <i32>off;
        const b = <i32>stop;
        memory.copy(buf + <usize>a, data, <usize>(b - a));
        clearMapTo(dir, map, cap, b);
        markRange(map, a, b);
        if (helloLength(dir, buf, map, start, cap) > 0) return; // complete: the rest is not needed
      }
      p = data + <usize>n;
    } else if (t == 0x02 || t == 0x03) {
      // ACK: largest, delay, range count, first range, then (gap, length) pairs, then
      // three ECN counts for type 0x03. Each varint read advances p, so the loop ends.
      need(min(end, p + 33));
      if (readVarint(p + 1, end) < 0) return;
      if (readVarint(varEnd, end) < 0) return;
      const ranges = readVarint(varEnd, end);
      if (ranges < 0) return;
      if (readVarint(varEnd, end) < 0) return;
      let q = varEnd;
      for (let r: i64 = 0; r < ranges; r++) {
        need(min(end, q + 16));
        if (readVarint(q, end) < 0) return;
        if (readVarint(varEnd, end) < 0) return;
        q = varEnd;
      }
      if (t == 0x03) {
        need(min(end, q + 24));
        for (let r = 0; r < 3; r++) {
          if (readVarint(q, end) < 0) return;
          q = varEnd;
        }
      }
      p = q;
    } else if (t == 0x1c || t == 0x1d) {
      // CONNECTION_CLOSE: error code, [frame type], reason length, reason.
      need(min(end, p + 25));
      if (readVarint(p + 1, end) < 0) return;
      if (t == 0x1c && readVarint(varEnd, end) < 0) return;
      const n = readVarint(varEnd, end);
      if (n < 0 || <u64>n > <u64>(end - varEnd)) return;
      p = varEnd + <usize>n;
    } else {
      return;
    }
  }
}

/**
 * Length of the handshake message at offset `start` of a direction's CRYPTO stream once
 * every byte of it has arrived; 0 while incomplete, -1 when it does not fit in `cap`.
 */
function helloLength(dir: usize, buf: usize, map: usize, start: i32, cap: i32): i32 {
  if (start + 4 > cap) return -1;
  clearMapTo(dir, map, cap, start + 4);
  if (!covered(map, start, start + 4)) return 0;
  const h = buf + <usize>start;
  const msgLen = 4 + ((<i32>load<u8>(h, 1) << 16) | (<i32>load<u8>(h, 2) << 8) | <i32>load<u8>(h, 3));
  if (start + msgLen > cap) return -1;
  clearMapTo(dir, map, cap, start + msgLen);
  return covered(map, start, start + msgLen) ? msgLen : 0;
}

/**
 * Opens the Initial packet at `pkt` (`pktLen` bytes, packet number at `pnOff`, DCID at
 * `dcid`) for one direction and reassembles its CRYPTO frames.
 */
function feedInitial(
  state: usize, pkt: usize, pnOff: usize, pktLen: usize, version: u32, dcid: usize, dcidLen: i32,
  fromServer: bool,
): i32 {
  let flags = load<u32>(state + S_FLAGS);
  if ((flags & (fromServer ? F_SERVER_DONE : F_CLIENT_DONE)) != 0) return QUIC_DONE;
  if (pktLen > <usize>QUIC_MAX_PACKET) return QUIC_MALFORMED;
  const dir = state + (fromServer ? S_SERVER : S_CLIENT);
  if ((flags & F_SECRET) == 0) {
    if (fromServer) return QUIC_NO_KEYS;
    store<u32>(state + S_VERSION, version);
    store<u8>(state + S_DCID_LEN, <u8>dcidLen);
    memory.copy(state + S_DCID, dcid, <usize>dcidLen);
    deriveFlowKeys(version, dcid, dcidLen, state + S_SECRET_KEY, state + S_CLIENT, state + S_SERVER);
    flags |= F_SECRET | F_CLIENT_KEYS | F_SERVER_KEYS;
    store<u32>(state + S_FLAGS, flags);
  }
  const keyFlag = fromServer ? F_SERVER_KEYS : F_CLIENT_KEYS;
  if ((flags & keyFlag) == 0) {
    deriveDirection(state + S_SECRET_KEY, load<u32>(state + S_VERSION), fromServer, dir);
    flags |= keyFlag;
    store<u32>(state + S_FLAGS, flags);
  }
  memory.copy(WORK, pkt, pktLen);
  let plainLen = openPacket(dir, pnOff, pktLen);
  if (plainLen < 0) {
    if (fromServer || !rekeyFromPacket(state, pkt, pnOff, pktLen, version, dcid, dcidLen)) {
      return QUIC_AUTH_FAILED;
    }
    plainLen = openPacket(dir, pnOff, pktLen);
    if (plainLen < 0) return QUIC_AUTH_FAILED;
  }
  const buf = state + (fromServer ? S_SERVER_BUF : S_CLIENT_BUF);
  const map = state + (fromServer ? S_SERVER_MAP : S_CLIENT_MAP);
  const cap = fromServer ? QUIC_SERVER_HELLO_CAP : QUIC_CLIENT_HELLO_CAP;
  const start = load<i32>(dir + D_MSG_START);
  takeFrames(WORK + plainOff, WORK + plainOff + <usize>plainLen, dir, buf, map, start, cap);
  const msgLen = helloLength(dir, buf, map, start, cap);
  if (msgLen < 0) return QUIC_TOO_BIG;
  if (msgLen == 0) return QUIC_PENDING;
  store<i32>(dir + D_MSG_LEN, msgLen);
  // Reloaded: a re-key above may have changed the flags (server keys to derive again).
  const now = load<u32>(state + S_FLAGS);
  store<u32>(state + S_FLAGS, now | (fromServer ? F_SERVER_DONE : F_CLIENT_DONE));
  return QUIC_HELLO;
}

/**
 * After Retry or Version Negotiation a client restarts with a new DCID (or version):
 * derive trial keys from this packet and adopt them only if the packet authenticates.
 * On success the client keys in the state are replaced and WORK holds a fresh copy of
 * the packet, ready for `openPacket` again.
 */
function rekeyFromPacket(
  state: usize, pkt: usize, pnOff: usize, pktLen: usize, version: u32, dcid: usize, dcidLen: i32,
): bool {
  const sameDcid = <i32>load<u8>(state + S_DCID_LEN) == dcidLen &&
    memory.compare(state + S_DCID, dcid, <usize>dcidLen) == 0;
  if (sameDcid && load<u32>(state + S_VERSION) == version) return false;
  deriveInitialSecretKey(version, dcid, dcidLen, TRY_SECRET_KEY);
  deriveDirection(TRY_SECRET_KEY, version, false, TRY_DIR);
  memory.copy(WORK, pkt, pktLen);
  if (openPacket(TRY_DIR, pnOff, pktLen) < 0) return false;
  memory.copy(state + S_SECRET_KEY, TRY_SECRET_KEY, <usize>HMAC_KEY_STATE_BYTES);
  // The bitmap keeps what arrived under the old keys: so does its cleared extent.
  const clean = load<i32>(state + S_CLIENT + D_MAP_CLEAN);
  memory.copy(state + S_CLIENT, TRY_DIR, DIR_BYTES);
  store<i32>(state + S_CLIENT + D_MAP_CLEAN, clean);
  store<i64>(state + S_CLIENT + D_LARGEST_PN, -1);
  store<u32>(state + S_VERSION, version);
  store<u8>(state + S_DCID_LEN, <u8>dcidLen);
  memory.copy(state + S_DCID, dcid, <usize>dcidLen);
  // Server keys belong to the old secret: derive them again when the server speaks.
  store<u32>(state + S_FLAGS, load<u32>(state + S_FLAGS) & ~F_SERVER_KEYS);
  memory.copy(WORK, pkt, pktLen);
  return true;
}

/** Picks the more informative of two statuses: a hello beats progress beats errors. */
function better(a: i32, b: i32): i32 {
  if (a == QUIC_HELLO || b == QUIC_HELLO) return QUIC_HELLO;
  if (a == QUIC_DONE || b == QUIC_DONE) return QUIC_DONE;
  if (a == QUIC_PENDING || b == QUIC_PENDING) return QUIC_PENDING;
  if (a == QUIC_NOT_INITIAL) return b;
  return a;
}

/**
 * Feeds one UDP payload of the flow whose state block is at `state`; `fromServer` tells
 * the direction. Walks every coalesced long-header packet (RFC 9000 §12.2), opens the
 * Initial ones and reassembles their CRYPTO data. Returns a QUIC_* status; when it is
 * QUIC_HELLO, quicHelloPtr/quicHelloLen give the handshake message.
 */
export function quicFeed(state: usize, payload: usize, len: i32, fromServer: bool): i32 {
  let result = QUIC_NOT_INITIAL;
  if (len <= 0) return result;
  const end = payload + <usize>len;
  let p = payload;
  while (p < end) {
    const first = <u32>load<u8>(p);
    // A short-header packet (or garbage without the fixed bit) ends the long-header run.
    if ((first & 0xc0) != 0xc0) break;
    if (p + 7 > end) return better(result, QUIC_MALFORMED);
    const version = bswap<u32>(load<u32>(p + 1));
    if (!supported(version)) break; // includes Version Negotiation (version 0)
    const type = (first >> 4) & 3;
    if (type == retryType(version)) break; // Retry has no Length field and no CRYPTO
    const dcidLen = <i32>load<u8>(p + 5);
    if (dcidLen > 20) return better(result, QUIC_MALFORMED);
    const dcid = p + 6;
    let q = dcid + <usize>dcidLen;
    if (q + 1 > end) return better(result, QUIC_MALFORMED);
    const scidLen = <usize>load<u8>(q);
    if (scidLen > 20) return better(result, QUIC_MALFORMED);
    q += 1 + scidLen;
    const isInitial = type == initialType(version);
    if (isInitial) {
      const tokenLen = readVarint(q, end);
      if (tokenLen < 0 || <u64>tokenLen > <u64>(end - varEnd)) return better(result, QUIC_MALFORMED);
      q = varEnd + <usize>tokenLen;
    }
    const length = readVarint(q, end);
    if (length < 0 || <u64>length > <u64>(end - varEnd)) return better(result, QUIC_MALFORMED);
    const pnOff = varEnd - p;
    const pktLen = pnOff + <usize>length;
    if (isInitial) {
      const st = feedInitial(state, p, pnOff, pktLen, version, dcid, dcidLen, fromServer);
      result = better(result, st);
    }
    p += pktLen;
  }
  return result;
}
