// Fingerprint memo: parsed hello → the dictionary indices of its fingerprint strings.
//
// One TLS stack sends the same lists on every connection (only the random, session id,
// key shares and SNI change), so the strings ja4, ja4_r, ja4_o, ja4_ro, ja3_full, ja3
// (client) and ja4s, ja4s_r, ja3s_full, ja3s (server) repeat. Building them costs two
// sorts, hex/decimal formatting, four SHA-256/MD5 memo probes and one dictionary probe per
// string (~1 µs per ClientHello). Here the key is every parsed input those strings are a
// function of (GREASE already removed), compared byte for byte: a hit is exact, never a
// guess, and costs one hash over ~100 bytes plus one compare. On a hit the record gets
// dictionary references (out.ts strRef) instead of literals.
//
// The dictionary (dict.ts) reuses its indices after it fills and is cleared; every entry
// remembers the dictionary generation it was made in and is only used within it.

import { dictGen, hashBytes, sameBytes } from "./dict";
import {
  CH_CIPHERS, CH_EXTS, CH_GROUPS, CH_POINT_FORMATS, CH_SIGS, chCipherN, chExtN, chGroupN,
  chHasQuicTp, chHasSni, chPfN, chSigN, alpnLen, alpnPtr, helloLegacyVersion, helloSupVersion,
  shCipher,
} from "./tls";
import { putAlpn } from "./ja4";
import { fieldIndex, strRef } from "./out";

/** Direct-mapped slots (power of two): a few hundred TLS stacks are typical. */
const SLOTS: u32 = 4096;
/** Longest key memoised (~190 list entries); longer hellos are simply not memoised. */
const KEY_MAX: i32 = 448;
/** At most 6 strings per hello (client with original order). */
const MAX_FIELDS: i32 = 6;

// Entry layout: u32 hash, i32 key length (0 = empty), u32 dictionary generation,
// u8 field count, u8[6] field ids, u32[6] dictionary indices at 20.
const E_HASH: usize = 0;
const E_LEN: usize = 4;
const E_GEN: usize = 8;
const E_N: usize = 12;
const E_IDS: usize = 13;
const E_IDX: usize = 20;
const ENTRY: usize = 48;

const TABLE: usize = memory.data(<i32>(SLOTS * <u32>ENTRY), 8);
const KEYS: usize = memory.data(<i32>SLOTS * KEY_MAX, 8);
const KEY: usize = memory.data(KEY_MAX + 16, 8);

/** Session option (on by default); off only to measure or cross-check the slow path. */
let enabled: bool = true;
/** Key length of the hello just looked up; -1 when it is not memoisable. */
let keyLen: i32 = -1;
let keyHash: u32 = 0;
/** Dictionary generation when the miss path started. */
let missGen: u32 = 0;

export function setFpMemo(on: bool): void {
  enabled = on;
}

function putList(k: i32, src: usize, n: i32): i32 {
  const bytes = n << 1;
  memory.copy(KEY + <usize>k, src, <usize>bytes);
  return k + bytes;
}

/** The key of the parsed ClientHello, or -1 when too long. */
function clientKey(quic: bool, originalOrder: bool): i32 {
  const total = 18 + ((chCipherN + chExtN + chSigN + chGroupN) << 1) + chPfN;
  if (total > KEY_MAX) return -1;
  store<u8>(KEY, 1);
  store<u8>(KEY, (quic || chHasQuicTp ? 1 : 0) | (chHasSni ? 2 : 0) | (originalOrder ? 4 : 0), 1);
  putAlpn(KEY + 2, alpnPtr, alpnLen);
  store<u16>(KEY, <u16>helloLegacyVersion, 4);
  store<u16>(KEY, <u16>helloSupVersion, 6);
  store<u16>(KEY, <u16>chCipherN, 8);
  store<u16>(KEY, <u16>chExtN, 10);
  store<u16>(KEY, <u16>chSigN, 12);
  store<u16>(KEY, <u16>chGroupN, 14);
  store<u16>(KEY, <u16>chPfN, 16);
  let k = putList(18, CH_CIPHERS, chCipherN);
  k = putList(k, CH_EXTS, chExtN);
  k = putList(k, CH_SIGS, chSigN);
  k = putList(k, CH_GROUPS, chGroupN);
  memory.copy(KEY + <usize>k, CH_POINT_FORMATS, <usize>chPfN);
  return k + chPfN;
}

/** The key of the parsed ServerHello, or -1 when too long. */
function serverKey(quic: bool): i32 {
  const total = 12 + (chExtN << 1);
  if (total > KEY_MAX) return -1;
  store<u8>(KEY, 2);
  store<u8>(KEY, quic ? 1 : 0, 1);
  putAlpn(KEY + 2, alpnPtr, alpnLen);
  store<u16>(KEY, <u16>helloLegacyVersion, 4);
  store<u16>(KEY, <u16>helloSupVersion, 6);
  store<u16>(KEY, <u16>shCipher, 8);
  store<u16>(KEY, <u16>chExtN, 10);
  return putList(12, CH_EXTS, chExtN);
}

// @ts-ignore: decorator
@inline function slotOf(h: u32): u32 {
  return h & (SLOTS - 1);
}

/** Looks the key in KEY up; on a hit writes the references into the open record. */
function probe(): bool {
  missGen = dictGen;
  if (keyLen < 0) return false;
  keyHash = hashBytes(KEY, keyLen, 0x51ed27);
  const s = slotOf(keyHash);
  const e = TABLE + <usize>s * ENTRY;
  if (load<i32>(e, E_LEN) != keyLen || load<u32>(e, E_HASH) != keyHash ||
      load<u32>(e, E_GEN) != dictGen ||
      !sameBytes(KEYS + <usize>s * <usize>KEY_MAX, KEY, keyLen)) {
    return false;
  }
  const n = <i32>load<u8>(e, E_N);
  for (let i = 0; i < n; i++) {
    strRef(load<u8>(e + E_IDS + <usize>i), load<u32>(e + E_IDX + (<usize>i << 2)));
  }
  return true;
}

/**
 * True when the parsed ClientHello's fingerprint strings were memoised: their references
 * are now in the open record. Otherwise the caller builds them and calls
 * {@link fpMemoStoreClient}.
 */
export function fpMemoClient(quic: bool, originalOrder: bool): bool {
  keyLen = enabled ? clientKey(quic, originalOrder) : -1;
  return probe();
}

/** Like {@link fpMemoClient} for a parsed ServerHello. */
export function fpMemoServer(quic: bool): bool {
  keyLen = enabled ? serverKey(quic) : -1;
  return probe();
}

/**
 * Remembers the strings just written for the hello of the last lookup. `ids` lists their
 * field ids (out.ts F_*), in output order; their indices come from out.ts fieldIndex.
 */
export function fpMemoStore(n: i32, id0: u8, id1: u8, id2: u8, id3: u8, id4: u8, id5: u8): void {
  // A dictionary clear in the middle of the record would mix generations: skip.
  if (keyLen < 0 || dictGen != missGen || n > MAX_FIELDS) return;
  const s = slotOf(keyHash);
  const e = TABLE + <usize>s * ENTRY;
  store<u32>(e, keyHash, E_HASH);
  store<i32>(e, keyLen, E_LEN);
  store<u32>(e, dictGen, E_GEN);
  store<u8>(e, <u8>n, E_N);
  store<u8>(e, id0, E_IDS);
  store<u8>(e, id1, E_IDS + 1);
  store<u8>(e, id2, E_IDS + 2);
  store<u8>(e, id3, E_IDS + 3);
  store<u8>(e, id4, E_IDS + 4);
  store<u8>(e, id5, E_IDS + 5);
  for (let i = 0; i < n; i++) {
    const id = load<u8>(e + E_IDS + <usize>i);
    store<u32>(e + E_IDX + (<usize>i << 2), fieldIndex(id));
  }
  memory.copy(KEYS + <usize>s * <usize>KEY_MAX, KEY, <usize>keyLen);
  keyLen = -1;
}
