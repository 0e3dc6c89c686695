// JA4S TLS server fingerprint. Spec: FoxIO-LLC/ja4 technical_details/JA4S.md
// (FoxIO License 1.1).
//   ja4s = a_b_c   a = proto (t/q), version, extension count, ALPN chars
//                  b = chosen cipher (4 hex), c = sha256[:12] of extensions in wire order

import { alpnLen, alpnPtr, CH_EXTS, chExtN, helloVersion, MAX_LIST, shCipher } from "./tls";
import { putHash12 } from "./hash";
import { putAlpn, putVersion } from "./ja4";
import { F_JA4S, F_JA4S_R, strBegin, strEndAt, strPtr } from "./out";
import { putDec2, putHex4 } from "./util";

const A: usize = memory.data(16);
const EXTS: usize = memory.data(MAX_LIST * 5 + 16);

/** Writes ja4s (and ja4s_r) for the parsed ServerHello. */
export function writeJa4s(quic: bool): void {
  let p = A;
  store<u8>(p, quic ? 113 : 116);
  p = putVersion(p + 1, helloVersion());
  p = putDec2(p, <u32>chExtN);
  p = putAlpn(p, alpnPtr, alpnLen);
  store<u8>(p, 95);
  putHex4(p + 1, shCipher);
  // "t130200_1301" is 12 bytes.
  let e = EXTS;
  for (let i = 0; i < chExtN; i++) {
    if (i > 0) {
      store<u8>(e, 44);
      e++;
    }
    e = putHex4(e, <u32>load<u16>(CH_EXTS + (<usize>i << 1)));
  }
  const elen = <i32>(e - EXTS);
  strBegin(F_JA4S);
  let q = strPtr();
  memory.copy(q, A, 12);
  store<u8>(q + 12, 95);
  strEndAt(putHash12(q + 13, EXTS, elen));
  strBegin(F_JA4S_R);
  q = strPtr();
  memory.copy(q, A, 12);
  store<u8>(q + 12, 95);
  memory.copy(q + 13, EXTS, elen);
  strEndAt(q + 13 + <usize>elen);
}
