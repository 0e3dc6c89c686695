// TCP: JA4T from SYNs, and per-direction reassembly feeding a small stream parser that
// walks TLS records and HTTP/1.x messages in order.
//
// Reassembly keeps, per direction, the sequence number of the first unconsumed byte, at
// most one slab of contiguous bytes after it and one out-of-order range. In-order
// segments are parsed straight from the packet (zero copy); only an incomplete tail or
// an out-of-order segment is copied. Retransmissions are trimmed against what was
// consumed. A message larger than a slab, or an exhausted slab pool, abandons the
// direction (counted), so memory stays bounded.

import {
  D_BUF_LEN, D_FLAGS, D_HELLOS, D_MODE, D_OOO_END, D_OOO_START, D_SEQ, D_SEQ_KNOWN, D_SKIP,
  D_SLAB, DIR_SIZE, dirState, FL_CLIENT_DIR, FL_CRANDOM, FL_FLAGS, FL_ID, flowDir, flowLookup, inShard,
} from "./flow";
import { keylogAny } from "./keylog";
import { tlsCanDecrypt, tlsClientRecord, tlsCtxSetup } from "./tls13";
import { helloVersion, shCipher } from "./tls";
import { SLAB_SIZE, slabAlloc, slabFree, slabPtr } from "./slab";
import { emitHello } from "./hello";
import { writeJa4t } from "./ja4t";
import { writeJa4h } from "./ja4h";
import { bodyLength, headerEnd, httpMethodCode, isHttpResponse } from "./http";
import { KIND_HTTP_REQUEST, KIND_SYN, recBegin, recCancel, recEnd } from "./out";
import { pktSetPorts } from "./pkt";
import { be16, be24, be32 } from "./util";
import {
  bump, ST_HTTP_REQUESTS, ST_MALFORMED_PACKETS, ST_REASM_DROPPED, ST_RECORDS, ST_SYNS,
} from "./stats";

// Stream parser modes.
const M_DETECT: u8 = 0; // at a message boundary: look at the next bytes
const M_TLS: u8 = 1;
const M_DEAD: u8 = 2; // nothing more of interest in this direction

// TLS record content types (RFC 8446 §5.1).
const CT_CHANGE_CIPHER_SPEC: u32 = 20;
const CT_HANDSHAKE: u32 = 22;
const CT_APPLICATION_DATA: u32 = 23;
/** Largest TLSPlaintext/TLSCiphertext fragment (RFC 8446 §5.2: 2^14 + 256). */
const MAX_RECORD: u32 = 16384 + 2048;

const F_SYN: u32 = 0x02;
const F_RST: u32 = 0x04;
const F_ACK: u32 = 0x10;

const DF_SERVER_HELLO: u8 = 1;
const DF_CCS: u8 = 2;

let curFlowId: u32 = 0;
let curFlow: usize = 0;
let curDir: i32 = 0;

function kill(d: usize): void {
  store<u8>(d, M_DEAD, D_MODE);
  const s = load<i32>(d, D_SLAB);
  if (s >= 0) {
    slabFree(s);
    store<i32>(d, -1, D_SLAB);
  }
  store<u32>(d, 0, D_BUF_LEN);
  store<u32>(d, 0, D_OOO_END);
}

/** Handles one TLS handshake record body: every complete hello in it is fingerprinted. */
function tlsHandshakeRecord(d: usize, p: usize, len: u32): void {
  let q: u32 = 0;
  const flags = load<u8>(d, D_FLAGS);
  while (q + 4 <= len) {
    const t = <u32>load<u8>(p + q);
    const mlen = be24(p + q + 1);
    if (q + 4 + mlen > len) break; // spans records: not a hello we can see whole
    // After ChangeCipherSpec, handshake records are normally encrypted (TLS 1.2 Finished);
    // only a record that is exactly one ClientHello (after a HelloRetryRequest) counts.
    if ((flags & DF_CCS) != 0 && !(t == 1 && q == 0 && mlen + 4 == len)) return;
    if (t == 1) {
      if (keylogAny() && mlen >= 34) {
        // Keep the client random: the key log is keyed by it (TLS 1.3 JA4H over HTTP/2).
        memory.copy(curFlow + FL_CRANDOM, p + q + 4 + 2, 32);
        store<u8>(curFlow, <u8>(curDir + 1), FL_CLIENT_DIR);
      }
      emitHello(1, p + q + 4, <i32>mlen, curFlowId, false);
      store<u32>(d, load<u32>(d, D_HELLOS) + 1, D_HELLOS);
    } else if (t == 2) {
      if ((load<u8>(d, D_FLAGS) & DF_SERVER_HELLO) == 0) {
        emitHello(2, p + q + 4, <i32>mlen, curFlowId, false);
        store<u8>(d, load<u8>(d, D_FLAGS) | DF_SERVER_HELLO, D_FLAGS);
        const clientDir = <i32>load<u8>(curFlow, FL_CLIENT_DIR) - 1;
        if (keylogAny() && clientDir >= 0 && clientDir != curDir) {
          tlsCtxSetup(curFlow, helloVersion(), shCipher);
        }
      }
    }
    q += 4 + mlen;
  }
}

/**
 * Parses as much of the in-order bytes [p, p+avail) as forms complete units; returns the
 * number of bytes consumed. Sets the direction dead when the stream is not TLS or HTTP.
 */
function parseStream(d: usize, p: usize, avail: u32): u32 {
  let used: u32 = 0;
  while (used < avail) {
    const skip = load<u32>(d, D_SKIP);
    if (skip > 0) {
      const k = min(skip, avail - used);
      store<u32>(d, skip - k, D_SKIP);
      used += k;
      continue;
    }
    const mode = load<u8>(d, D_MODE);
    if (mode == M_DEAD) return avail;
    const q = p + used;
    const rest = avail - used;
    if (mode == M_DETECT) {
      const b0 = <u32>load<u8>(q);
      if (b0 >= 20 && b0 <= 23) {
        if (rest < 2) break;
        if (load<u8>(q + 1) == 3) {
          store<u8>(d, M_TLS, D_MODE);
          continue;
        }
      }
      const m = httpMethodCode(q, <i32>rest);
      if (m < 0) break;
      const isRequest = m > 0;
      if (!isRequest && !isHttpResponse(q, <i32>rest)) {
        kill(d);
        return avail;
      }
      // An HTTP/1.x message: wait for the whole header block, fingerprint a request,
      // then skip the body by Content-Length (chunked bodies end the parsing).
      const he = headerEnd(q, <i32>rest);
      if (he < 0) {
        if (rest >= <u32>SLAB_SIZE) {
          kill(d);
          return avail;
        }
        break;
      }
      if (isRequest) {
        recBegin(KIND_HTTP_REQUEST, curFlowId, false);
        if (writeJa4h(q, he)) {
          recEnd();
          bump(ST_HTTP_REQUESTS);
          bump(ST_RECORDS);
        } else {
          recCancel(); // no HTTP version on the request line: not a request after all
        }
      }
      const body = bodyLength(q, he);
      used += <u32>he;
      if (body < 0) {
        kill(d);
        return avail;
      }
      store<u32>(d, <u32>min(body, 0xffffffff), D_SKIP);
      continue;
    }
    // M_TLS: one record at a time.
    if (rest < 5) break;
    const ct = <u32>load<u8>(q);
    const rlen = be16(q + 3);
    if (load<u8>(q + 1) != 3 || ct < 20 || ct > 24 || rlen > MAX_RECORD) {
      kill(d);
      return avail;
    }
    if (ct == CT_HANDSHAKE) {
      if (rest < 5 + rlen) break;
      tlsHandshakeRecord(d, q + 5, rlen);
      used += 5 + rlen;
      if ((load<u8>(d, D_FLAGS) & DF_SERVER_HELLO) != 0) {
        // The server's first hello is all JA4S needs; the rest is certificates or
        // encrypted handshake.
        kill(d);
        return avail;
      }
      continue;
    }
    if (ct == CT_APPLICATION_DATA) {
      if (keylogAny() && <i32>load<u8>(curFlow, FL_CLIENT_DIR) - 1 == curDir &&
          tlsCanDecrypt(curFlow)) {
        // Key-logged TLS 1.3: decrypt the client's records for JA4H over HTTP/2.
        if (rest < 5 + rlen) break;
        tlsClientRecord(curFlow, q, <i32>(5 + rlen), curFlowId);
        used += 5 + rlen;
        continue;
      }
      kill(d);
      return avail;
    }
    if (ct == CT_CHANGE_CIPHER_SPEC) store<u8>(d, load<u8>(d, D_FLAGS) | DF_CCS, D_FLAGS);
    used += 5;
    store<u32>(d, rlen, D_SKIP);
  }
  return used;
}

/** Prepares a stand-alone direction state for {@link parsePlain} (no slab, detect mode). */
export function plainInit(d: usize): void {
  memory.fill(d, 0, DIR_SIZE);
  store<i32>(d, -1, D_SLAB);
}

/**
 * Runs the stream parser over decrypted bytes (HTTP/1.x inside TLS): returns the bytes
 * consumed; the caller keeps the rest for the next call. Records go to the current flow.
 */
export function parsePlain(d: usize, p: usize, n: u32): u32 {
  return parseStream(d, p, n);
}

/** True when the parser gave up on the stream (not HTTP, chunked body …). */
export function plainDead(d: usize): bool {
  return load<u8>(d, D_MODE) == M_DEAD;
}

/** Feeds a payload segment of direction state `d` at sequence `seq`. */
function segment(d: usize, seq: u32, p: usize, len: u32): void {
  if (load<u8>(d, D_MODE) == M_DEAD) return;
  if (load<u8>(d, D_SEQ_KNOWN) == 0) {
    // Capture started mid-connection: take this segment as the start of the stream.
    store<u32>(d, seq, D_SEQ);
    store<u8>(d, 1, D_SEQ_KNOWN);
  }
  const base = load<u32>(d, D_SEQ);
  let rel = <i32>(seq - base);
  if (rel < 0) {
    // Retransmission of consumed bytes: keep only what is new.
    if (<i64>rel + <i64>len <= 0) return;
    p += <usize>(-rel);
    len -= <u32>(-rel);
    rel = 0;
  }
  let slab = load<i32>(d, D_SLAB);
  let bufLen = load<u32>(d, D_BUF_LEN);
  if (slab < 0 && rel == 0) {
    // Fast path: in order, nothing buffered: parse from the packet itself.
    const used = parseStream(d, p, len);
    if (load<u8>(d, D_MODE) == M_DEAD) return;
    store<u32>(d, base + used, D_SEQ);
    if (used == len) return;
    if (len - used > <u32>SLAB_SIZE) {
      bump(ST_REASM_DROPPED);
      kill(d);
      return;
    }
    slab = slabAlloc();
    if (slab < 0) {
      bump(ST_REASM_DROPPED);
      kill(d);
      return;
    }
    store<i32>(d, slab, D_SLAB);
    memory.copy(slabPtr(slab), p + used, len - used);
    store<u32>(d, len - used, D_BUF_LEN);
    return;
  }
  if (slab < 0) {
    slab = slabAlloc();
    if (slab < 0) {
      bump(ST_REASM_DROPPED);
      kill(d);
      return;
    }
    store<i32>(d, slab, D_SLAB);
    bufLen = 0;
  }
  const sp = slabPtr(slab);
  const urel = <u32>rel;
  if (urel >= <u32>SLAB_SIZE) {
    bump(ST_REASM_DROPPED);
    return;
  }
  let n = len;
  if (urel + n > <u32>SLAB_SIZE) {
    n = <u32>SLAB_SIZE - urel;
    bump(ST_REASM_DROPPED);
  }
  memory.copy(sp + urel, p, n);
  let oooS = load<u32>(d, D_OOO_START);
  let oooE = load<u32>(d, D_OOO_END);
  if (urel <= bufLen) {
    if (urel + n > bufLen) bufLen = urel + n;
    if (oooE != 0 && oooS <= bufLen) {
      if (oooE > bufLen) bufLen = oooE;
      oooS = 0;
      oooE = 0;
    }
  } else if (oooE == 0) {
    oooS = urel;
    oooE = urel + n;
  } else if (urel <= oooE && urel + n >= oooS) {
    oooS = min(oooS, urel);
    oooE = max(oooE, urel + n);
  } else {
    bump(ST_REASM_DROPPED); // a second hole: keep the first range only
  }
  if (bufLen == 0) {
    store<u32>(d, oooS, D_OOO_START);
    store<u32>(d, oooE, D_OOO_END);
    return;
  }
  const used = parseStream(d, sp, bufLen);
  if (load<u8>(d, D_MODE) == M_DEAD) return;
  if (used > 0) {
    memory.copy(sp, sp + used, (oooE > bufLen ? oooE : bufLen) - used);
    bufLen -= used;
    if (oooE != 0) {
      oooS -= used;
      oooE -= used;
    }
    store<u32>(d, base + used, D_SEQ);
  } else if (bufLen >= <u32>SLAB_SIZE) {
    bump(ST_REASM_DROPPED);
    kill(d);
    return;
  }
  store<u32>(d, bufLen, D_BUF_LEN);
  store<u32>(d, oooS, D_OOO_START);
  store<u32>(d, oooE, D_OOO_END);
  if (bufLen == 0 && oooE == 0) {
    slabFree(slab);
    store<i32>(d, -1, D_SLAB);
  }
}

/** Decodes a TCP segment at `p` (`len` bytes, IP payload). */
export function tcpInput(p: usize, len: i32): void {
  if (len < 20) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  const hlen = <i32>(load<u8>(p + 12) >> 4) << 2;
  if (hlen < 20 || hlen > len) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  const flags = <u32>load<u8>(p + 13);
  const plen = len - hlen;
  const isSyn = (flags & F_SYN) != 0;
  if (plen == 0 && !isSyn) {
    // Pure ACK / FIN / RST: nothing to fingerprint; do not create flows for them (nor
    // hash them for the shard test).
    return;
  }
  pktSetPorts(<u16>be16(p), <u16>be16(p + 2));
  if (!inShard()) return;
  const seq = be32(p + 4);
  const f = flowLookup(6, true);
  curFlowId = load<u32>(f, FL_ID);
  curFlow = f;
  curDir = flowDir;
  const d = dirState(f, flowDir);
  if (isSyn) {
    store<u32>(d, seq + 1, D_SEQ);
    store<u8>(d, 1, D_SEQ_KNOWN);
    if ((flags & F_ACK) == 0 && (load<u8>(f, FL_FLAGS) & 1) == 0) {
      store<u8>(f, load<u8>(f, FL_FLAGS) | 1, FL_FLAGS);
      recBegin(KIND_SYN, curFlowId, false);
      writeJa4t(p, hlen);
      recEnd();
      bump(ST_SYNS);
      bump(ST_RECORDS);
    }
    // TCP Fast Open (RFC 7413): data in the SYN starts right after its sequence number.
    if (plen > 0 && load<u32>(d, D_SEQ) == seq + 1) segment(d, seq + 1, p + <usize>hlen, <u32>plen);
    return;
  }
  if ((flags & F_RST) != 0) return;
  segment(d, seq, p + <usize>hlen, <u32>plen);
}
