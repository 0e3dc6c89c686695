// Turns a complete handshake message (ClientHello / ServerHello) into an output record
// with every fingerprint derived from it. Shared by the TCP stream parser and QUIC.

import {
  alpnLen, alpnPtr, chCipherN, chExtN, helloVersion, HS_CLIENT_HELLO, parseClientHello,
  parseServerHello, sniLen, sniPtr,
} from "./tls";
import { buildJa4Parts, writeJa4 } from "./ja4";
import { writeJa3, writeJa3s } from "./ja3";
import { writeJa4s } from "./ja4s";
import { fpMemoClient, fpMemoServer, fpMemoStore } from "./fpmemo";
import {
  F_ALPN, F_JA3, F_JA3_FULL, F_JA3S, F_JA3S_FULL, F_JA4, F_JA4_O, F_JA4_R, F_JA4_RO, F_JA4S,
  F_JA4S_R, F_SNI, KIND_CLIENT_HELLO, KIND_SERVER_HELLO, R_CIPHERS, R_EXTS, R_TLS_VERSION,
  recBegin, recEnd, recU16, recU8, strField,
} from "./out";
import { bump, ST_CLIENT_HELLOS, ST_MALFORMED_HELLOS, ST_RECORDS, ST_SERVER_HELLOS } from "./stats";

/** Whether ja4_o / ja4_ro are produced (session option; on by default). */
export let originalOrder: bool = true;

export function setOriginalOrder(on: bool): void {
  originalOrder = on;
}

/**
 * Fingerprints the handshake message body at `p` (`len` bytes, after the 4-byte header)
 * of type `hsType`. Returns false (and counts it) when the hello does not parse.
 */
export function emitHello(hsType: u32, p: usize, len: i32, flowId: u32, quic: bool): bool {
  if (hsType == HS_CLIENT_HELLO) {
    if (!parseClientHello(p, len)) {
      bump(ST_MALFORMED_HELLOS);
      return false;
    }
    recBegin(KIND_CLIENT_HELLO, flowId, quic);
    recU16(R_TLS_VERSION, helloVersion());
    recU8(R_CIPHERS, <u32>min(chCipherN, 255));
    recU8(R_EXTS, <u32>min(chExtN, 255));
    if (!fpMemoClient(quic, originalOrder)) {
      buildJa4Parts(quic);
      writeJa4(originalOrder);
      writeJa3();
      // Output order of writeJa4 + writeJa3.
      if (originalOrder) fpMemoStore(6, F_JA4, F_JA4_R, F_JA4_O, F_JA4_RO, F_JA3_FULL, F_JA3);
      else fpMemoStore(4, F_JA4, F_JA4_R, F_JA3_FULL, F_JA3, 0, 0);
    }
    if (sniLen > 0) strField(F_SNI, sniPtr, sniLen);
    if (alpnLen > 0) strField(F_ALPN, alpnPtr, alpnLen);
    recEnd();
    bump(ST_CLIENT_HELLOS);
  } else {
    if (!parseServerHello(p, len)) {
      bump(ST_MALFORMED_HELLOS);
      return false;
    }
    recBegin(KIND_SERVER_HELLO, flowId, quic);
    recU16(R_TLS_VERSION, helloVersion());
    recU8(R_EXTS, <u32>min(chExtN, 255));
    if (!fpMemoServer(quic)) {
      writeJa4s(quic);
      writeJa3s();
      fpMemoStore(4, F_JA4S, F_JA4S_R, F_JA3S_FULL, F_JA3S, 0, 0);
    }
    if (alpnLen > 0) strField(F_ALPN, alpnPtr, alpnLen);
    recEnd();
    bump(ST_SERVER_HELLOS);
  }
  bump(ST_RECORDS);
  return true;
}
