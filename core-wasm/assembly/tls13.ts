// TLS 1.3 client-record decryption with secrets from a key log (keylog.ts), to read the
// HTTP requests inside and fingerprint them with JA4H: HTTP/2 (h2.ts) or HTTP/1.x (the
// TCP stream parser run over the plaintext). Only what JA4H needs:
// the client direction, TLS_AES_128_GCM_SHA256 (RFC 8446 §B.4), handshake then
// application traffic keys (§7.1-7.3), per-record nonce (§5.3), inner content type (§5.2).
//
// Contexts come from a small fixed pool (captures with embedded secrets are rare); a
// clock hand recycles the oldest when all are busy.

import { GCM_CTX_BYTES, gcmDecrypt, gcmInit } from "./crypto/gcm";
import { hkdfExpandLabel } from "./crypto/hkdf";
import { FL_CRANDOM, FL_TLSCTX } from "./flow";
import { keylogFind, keylogSecretLen, LABEL_CLIENT_APP, LABEL_CLIENT_HS } from "./keylog";
import { h2Feed, h2Init, H2_STATE_BYTES } from "./h2";
import { parsePlain, plainDead, plainInit } from "./tcp";
import { bump, ST_TLS_DECRYPT_FAILED } from "./stats";

/** TLS_AES_128_GCM_SHA256. */
export const TLS_AES_128_GCM_SHA256: u32 = 0x1301;

const C_OWNER: usize = 0; // u32 flow pointer
const C_STATE: usize = 4; // u8 1 = handshake key, 2 = application key, 3 = dead
const C_OK: usize = 5; // u8 a record opened under the current key
const C_APP_LEN: usize = 6; // u8 application secret length (0 = none)
const C_SEQ: usize = 8; // u64
const C_IV: usize = 16; // 12 bytes
const C_APP: usize = 32; // 48 bytes
const C_GCM: usize = 80;
const C_PROTO: usize = 7; // u8 0 = not known yet, 1 = HTTP/2, 2 = HTTP/1.x
const C_H2: usize = (C_GCM + <usize>GCM_CTX_BYTES + 15) & ~15;
const C_H1_DIR: usize = (C_H2 + <usize>H2_STATE_BYTES + 15) & ~15; // parser state (tcp.ts)
// Room for a direction state: at least flow.ts DIR_SIZE (64). A literal, because module
// globals across the flow ↔ tls13 import cycle are not initialised in a usable order.
const H1_DIR_BYTES: usize = 128;
const C_H1_LEN: usize = C_H1_DIR + H1_DIR_BYTES; // u32 bytes carried to the next record
const C_H1_BUF: usize = C_H1_LEN + 16;
const H1_CAP: i32 = 32768;
const CTX_BYTES: usize = (C_H1_BUF + <usize>H1_CAP + 15) & ~15;

const PROTO_H2: u8 = 1;
const PROTO_H1: u8 = 2;

const ST_HS: u8 = 1;
const ST_APP: u8 = 2;
const ST_DEAD: u8 = 3;

let pool: usize = 0;
let nCtx: i32 = 0;
let hand: i32 = 0;

const KEY: usize = memory.data(16);
const NONCE: usize = memory.data(12);
const PT: usize = memory.data(16384 + 256);
const L_KEY: usize = memory.data<u8>([107, 101, 121]); // "key"
const L_IV: usize = memory.data<u8>([105, 118]); // "iv"

export function tlsCtxBytes(n: i32): usize {
  return <usize>n * CTX_BYTES + 16;
}

export function tlsCtxInit(mem: usize, n: i32): void {
  pool = (mem + 15) & ~15;
  nCtx = n;
  for (let i = 0; i < n; i++) store<u32>(pool + <usize>i * CTX_BYTES, 0, C_OWNER);
  hand = 0;
}

function ctxOf(f: usize): usize {
  const i = load<u32>(f, FL_TLSCTX);
  return i == 0 ? 0 : pool + <usize>(i - 1) * CTX_BYTES;
}

export function tlsCtxRelease(f: usize): void {
  const c = ctxOf(f);
  if (c == 0) return;
  store<u32>(c, 0, C_OWNER);
  store<u32>(f, 0, FL_TLSCTX);
}

function useSecret(c: usize, secret: usize, len: i32): void {
  hkdfExpandLabel(secret, len, L_KEY, 3, 0, 0, KEY, 16);
  hkdfExpandLabel(secret, len, L_IV, 2, 0, 0, c + C_IV, 12);
  gcmInit(c + C_GCM, KEY);
  store<u64>(c, 0, C_SEQ);
  store<u8>(c, 0, C_OK);
}

/**
 * Called after the ServerHello of flow `f`: when the key log knows this connection's
 * client secrets and the suite is TLS_AES_128_GCM_SHA256, take a context for it.
 */
export function tlsCtxSetup(f: usize, version: u32, cipher: u32): void {
  if (nCtx == 0 || version != 0x0304 || cipher != TLS_AES_128_GCM_SHA256) return;
  const random = f + FL_CRANDOM;
  const hs = keylogFind(LABEL_CLIENT_HS, random);
  const hsLen = keylogSecretLen;
  const app = keylogFind(LABEL_CLIENT_APP, random);
  const appLen = keylogSecretLen;
  if (hs == 0 && app == 0) return;
  if ((hs != 0 && hsLen != 32) || (app != 0 && appLen != 32)) return; // SHA-256 suite only
  tlsCtxRelease(f);
  const i = hand;
  hand = hand + 1 == nCtx ? 0 : hand + 1;
  const c = pool + <usize>i * CTX_BYTES;
  const prev = <usize>load<u32>(c, C_OWNER);
  if (prev != 0) store<u32>(prev, 0, FL_TLSCTX);
  store<u32>(c, <u32>f, C_OWNER);
  store<u32>(f, <u32>i + 1, FL_TLSCTX);
  store<u8>(c, <u8>(app != 0 ? appLen : 0), C_APP_LEN);
  if (app != 0) memory.copy(c + C_APP, app, appLen);
  if (hs != 0) {
    useSecret(c, hs, hsLen);
    store<u8>(c, ST_HS, C_STATE);
  } else {
    useSecret(c, app, appLen);
    store<u8>(c, ST_APP, C_STATE);
  }
  h2Init(c + C_H2);
  plainInit(c + C_H1_DIR);
  store<u32>(c + C_H1_LEN, 0);
  store<u8>(c, 0, C_PROTO);
}

/** HTTP/1.x requests inside TLS: the TCP stream parser over the plaintext, with a carry. */
function h1Feed(c: usize, p: usize, n: i32): bool {
  let have = <i32>load<u32>(c + C_H1_LEN);
  if (have + n > H1_CAP) return false;
  const buf = c + C_H1_BUF;
  memory.copy(buf + <usize>have, p, n);
  have += n;
  const used = <i32>parsePlain(c + C_H1_DIR, buf, <u32>have);
  if (plainDead(c + C_H1_DIR)) return false;
  memory.copy(buf, buf + <usize>used, have - used);
  store<u32>(c + C_H1_LEN, <u32>(have - used));
  return true;
}

/** True when flow `f` has keys for its client records. */
export function tlsCanDecrypt(f: usize): bool {
  const c = ctxOf(f);
  return c != 0 && load<u8>(c, C_STATE) != ST_DEAD;
}

function toApp(c: usize): bool {
  const n = <i32>load<u8>(c, C_APP_LEN);
  if (n == 0) return false;
  useSecret(c, c + C_APP, n);
  store<u8>(c, ST_APP, C_STATE);
  return true;
}

function open(c: usize, rec: usize, len: i32): i32 {
  const seq = load<u64>(c, C_SEQ);
  memory.copy(NONCE, c + C_IV, 12);
  // RFC 8446 §5.3: the 64-bit sequence number, big-endian, XORed into the IV's end.
  store<u64>(NONCE, load<u64>(NONCE, 4) ^ bswap<u64>(seq), 4);
  const ctLen = len - 5 - 16;
  if (!gcmDecrypt(c + C_GCM, NONCE, rec, 5, rec + 5, ctLen, rec + 5 + <usize>ctLen, PT)) return -1;
  store<u64>(c, seq + 1, C_SEQ);
  store<u8>(c, 1, C_OK);
  return ctLen;
}

/** Decrypts one client application_data record (`len` bytes with its 5-byte header). */
export function tlsClientRecord(f: usize, rec: usize, len: i32, flowId: u32): void {
  const c = ctxOf(f);
  if (c == 0 || len < 5 + 17 || len - 5 > 16384 + 256) return;
  let n = open(c, rec, len);
  if (n < 0) {
    const st = load<u8>(c, C_STATE);
    if (st == ST_HS && toApp(c)) n = open(c, rec, len);
    if (n < 0) {
      // Under the application key, a first record that does not open is the client
      // Finished (handshake key we were not given): skip it. Anything else ends decryption.
      if (load<u8>(c, C_OK) != 0 || load<u8>(c, C_STATE) == ST_HS) {
        store<u8>(c, ST_DEAD, C_STATE);
        bump(ST_TLS_DECRYPT_FAILED);
      }
      return;
    }
  }
  // Inner plaintext: content, content type, zero padding (§5.2).
  let end = n;
  while (end > 0 && load<u8>(PT + <usize>(end - 1)) == 0) end--;
  if (end == 0) return;
  const type = <u32>load<u8>(PT + <usize>(end - 1));
  if (type == 22 && load<u8>(c, C_STATE) == ST_HS) {
    toApp(c); // client Finished: application keys from the next record on
  } else if (type == 23 && end > 1) {
    let proto = load<u8>(c, C_PROTO);
    if (proto == 0) {
      // The first application bytes tell the protocol: the HTTP/2 preface or a request.
      proto = load<u32>(PT) == 0x20495250 ? PROTO_H2 : PROTO_H1; // "PRI "
      store<u8>(c, proto, C_PROTO);
    }
    const n = end - 1;
    const ok = proto == PROTO_H2 ? h2Feed(c + C_H2, PT, n, flowId) : h1Feed(c, PT, n);
    if (!ok) store<u8>(c, ST_DEAD, C_STATE);
  }
}
