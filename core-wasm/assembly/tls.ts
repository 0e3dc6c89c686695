// TLS ClientHello / ServerHello parsing (RFC 8446 §4.1.2-4.1.3, RFC 5246 §7.4.1) into
// fixed scratch arrays that the fingerprint builders (ja4.ts, ja3.ts, ja4s.ts) read.
// Parsing is bounds-checked against the message length: a malformed or truncated hello
// returns false and is counted by the caller, never a trap.

import { be16 } from "./util";

/** TLS extension numbers used by the fingerprints (IANA "TLS ExtensionType Values"). */
export const EXT_SERVER_NAME: u32 = 0x0000;
export const EXT_SUPPORTED_GROUPS: u32 = 0x000a;
export const EXT_EC_POINT_FORMATS: u32 = 0x000b;
export const EXT_SIGNATURE_ALGORITHMS: u32 = 0x000d;
export const EXT_ALPN: u32 = 0x0010;
export const EXT_SUPPORTED_VERSIONS: u32 = 0x002b;
/** quic_transport_parameters: its presence makes the JA4 protocol character `q` (JA4.md). */
export const EXT_QUIC_TRANSPORT_PARAMETERS: u32 = 0x0039;

export const HS_CLIENT_HELLO: u32 = 1;
export const HS_SERVER_HELLO: u32 = 2;

/** Max entries kept per list: a 16 KiB record cannot hold more u16 values than this. */
export const MAX_LIST: i32 = 8192;

/**
 * GREASE values (RFC 8701): 0x0a0a, 0x1a1a … 0xfafa. JA4.md: "GREASE values are ignored"
 * in every list, signature algorithms included. 0x0101 is not GREASE.
 */
// @ts-ignore: decorator
@inline export function isGrease(v: u32): bool {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

export const CH_CIPHERS: usize = memory.data(MAX_LIST * 2);
export const CH_EXTS: usize = memory.data(MAX_LIST * 2);
export const CH_SIGS: usize = memory.data(MAX_LIST * 2);
export const CH_GROUPS: usize = memory.data(MAX_LIST * 2);
export const CH_POINT_FORMATS: usize = memory.data(256);

export let chCipherN: i32 = 0;
export let chExtN: i32 = 0;
export let chSigN: i32 = 0;
export let chGroupN: i32 = 0;
export let chPfN: i32 = 0;
/** legacy_version of the hello (JA3 uses it; JA4 only when supported_versions is absent). */
export let helloLegacyVersion: u32 = 0;
/** Highest non-GREASE supported_versions entry; 0 when the extension is absent. */
export let helloSupVersion: u32 = 0;
export let chHasSni: bool = false;
export let chHasQuicTp: bool = false;
export let sniPtr: usize = 0;
export let sniLen: i32 = 0;
/** First ALPN protocol name (client: first offered; server: the selected one). */
export let alpnPtr: usize = 0;
export let alpnLen: i32 = -1;
/** ServerHello cipher suite. */
export let shCipher: u32 = 0;

function resetHello(): void {
  chCipherN = 0;
  chExtN = 0;
  chSigN = 0;
  chGroupN = 0;
  chPfN = 0;
  helloLegacyVersion = 0;
  helloSupVersion = 0;
  chHasSni = false;
  chHasQuicTp = false;
  sniPtr = 0;
  sniLen = 0;
  alpnPtr = 0;
  alpnLen = -1;
  shCipher = 0;
}

/** Reads an ALPN extension body (RFC 7301 §3.1): keeps the first protocol name. */
function readAlpn(p: usize, end: usize): void {
  if (p + 2 > end) return;
  const listEnd = p + 2 + <usize>be16(p);
  if (listEnd > end || p + 3 > listEnd) {
    alpnLen = 0;
    return;
  }
  const n = <usize>load<u8>(p + 2);
  if (p + 3 + n > listEnd) {
    alpnLen = 0;
    return;
  }
  alpnPtr = p + 3;
  alpnLen = <i32>n;
}

/** Reads an SNI extension body (RFC 6066 §3): keeps the first host_name. */
function readSni(p: usize, end: usize): void {
  if (p + 2 > end) return;
  let q = p + 2;
  const listEnd = min(end, q + <usize>be16(p));
  while (q + 3 <= listEnd) {
    const type = load<u8>(q);
    const n = <usize>be16(q + 1);
    if (q + 3 + n > listEnd) return;
    if (type == 0) {
      sniPtr = q + 3;
      sniLen = <i32>n;
      return;
    }
    q += 3 + n;
  }
}

/** Appends non-GREASE u16 values of a u16-length-prefixed vector to `dst`. */
function readU16List(p: usize, end: usize, lenBytes: i32, dst: usize, n: i32): i32 {
  if (p + <usize>lenBytes > end) return n;
  const len = lenBytes == 2 ? <usize>be16(p) : <usize>load<u8>(p);
  let q = p + <usize>lenBytes;
  const stop = min(end, q + len);
  while (q + 2 <= stop && n < MAX_LIST) {
    const v = be16(q);
    if (!isGrease(v)) {
      store<u16>(dst + (<usize>n << 1), <u16>v);
      n++;
    }
    q += 2;
  }
  return n;
}

/**
 * Parses a ClientHello body (after the 4-byte handshake header) of `len` bytes at `p`.
 * Returns false when the structure does not fit in `len`. A hello without extensions
 * is valid (older clients) and still gets a fingerprint.
 */
export function parseClientHello(p: usize, len: i32): bool {
  resetHello();
  const end = p + <usize>len;
  if (len < 38) return false;
  helloLegacyVersion = be16(p);
  let q = p + 34; // version(2) + random(32)
  const sidLen = <usize>load<u8>(q);
  q += 1 + sidLen;
  if (q + 2 > end) return false;
  const csLen = <usize>be16(q);
  q += 2;
  if (q + csLen > end) return false;
  const csEnd = q + csLen;
  while (q + 2 <= csEnd) {
    const v = be16(q);
    if (!isGrease(v) && chCipherN < MAX_LIST) {
      store<u16>(CH_CIPHERS + (<usize>chCipherN << 1), <u16>v);
      chCipherN++;
    }
    q += 2;
  }
  q = csEnd;
  if (q + 1 > end) return false;
  q += 1 + <usize>load<u8>(q); // compression methods
  if (q > end) return false;
  if (q + 2 > end) return true; // no extensions block
  const extEnd = q + 2 + <usize>be16(q);
  if (extEnd > end) return false;
  q += 2;
  while (q + 4 <= extEnd) {
    const type = be16(q);
    const elen = <usize>be16(q + 2);
    const body = q + 4;
    const bend = body + elen;
    if (bend > extEnd) return false;
    if (!isGrease(type)) {
      if (chExtN < MAX_LIST) {
        store<u16>(CH_EXTS + (<usize>chExtN << 1), <u16>type);
        chExtN++;
      }
      if (type == EXT_SERVER_NAME) {
        chHasSni = true;
        readSni(body, bend);
      } else if (type == EXT_ALPN) {
        readAlpn(body, bend);
      } else if (type == EXT_SIGNATURE_ALGORITHMS) {
        // Only this extension's list: delegated_credentials (0x0022) carries signature
        // algorithms too, and JA4 must not pick those up (FoxIO-LLC/ja4 issue 41).
        chSigN = readU16List(body, bend, 2, CH_SIGS, 0);
      } else if (type == EXT_SUPPORTED_GROUPS) {
        chGroupN = readU16List(body, bend, 2, CH_GROUPS, 0);
      } else if (type == EXT_EC_POINT_FORMATS) {
        if (body < bend) {
          const n = min(<usize>load<u8>(body), bend - body - 1);
          for (let i: usize = 0; i < n && chPfN < 256; i++) {
            store<u8>(CH_POINT_FORMATS + <usize>chPfN, load<u8>(body + 1 + i));
            chPfN++;
          }
        }
      } else if (type == EXT_SUPPORTED_VERSIONS) {
        if (body < bend) {
          let r = body + 1;
          const stop = min(bend, r + <usize>load<u8>(body));
          while (r + 2 <= stop) {
            const v = be16(r);
            if (!isGrease(v) && v > helloSupVersion) helloSupVersion = v;
            r += 2;
          }
        }
      } else if (type == EXT_QUIC_TRANSPORT_PARAMETERS) {
        chHasQuicTp = true;
      }
    }
    q = bend;
  }
  return true;
}

/**
 * Parses a ServerHello body at `p`. Extensions are kept in wire order (JA4S does not
 * sort them), GREASE included as JA4S.md does not remove it from server lists.
 */
export function parseServerHello(p: usize, len: i32): bool {
  resetHello();
  const end = p + <usize>len;
  if (len < 38) return false;
  helloLegacyVersion = be16(p);
  let q = p + 34;
  q += 1 + <usize>load<u8>(q);
  if (q + 3 > end) return false;
  shCipher = be16(q);
  q += 3; // cipher(2) + compression(1)
  if (q + 2 > end) return true;
  const extEnd = q + 2 + <usize>be16(q);
  if (extEnd > end) return false;
  q += 2;
  while (q + 4 <= extEnd) {
    const type = be16(q);
    const elen = <usize>be16(q + 2);
    const body = q + 4;
    const bend = body + elen;
    if (bend > extEnd) return false;
    if (chExtN < MAX_LIST) {
      store<u16>(CH_EXTS + (<usize>chExtN << 1), <u16>type);
      chExtN++;
    }
    if (type == EXT_SUPPORTED_VERSIONS && elen >= 2) {
      helloSupVersion = be16(body);
    } else if (type == EXT_ALPN) {
      readAlpn(body, bend);
    }
    q = bend;
  }
  return true;
}

/** The version JA4/JA4S report: supported_versions if present, else the hello's own. */
export function helloVersion(): u32 {
  return helloSupVersion != 0 ? helloSupVersion : helloLegacyVersion;
}
