// JA3 (Salesforce, as Wireshark computes `tls.handshake.ja3`) and JA3S.
//   ja3_full = legacy_version,ciphers,extensions,groups,point_formats (decimal, '-'
//              joined, GREASE removed from every list); ja3 = md5(ja3_full).
// TLS 1.3 hellos keep their legacy version (771): JA3 predates supported_versions.

import {
  CH_CIPHERS, CH_EXTS, CH_GROUPS, CH_POINT_FORMATS, chCipherN, chExtN, chGroupN, chPfN,
  helloLegacyVersion, MAX_LIST, shCipher,
} from "./tls";
import { putMd5Hex } from "./hash";
import { F_JA3, F_JA3_FULL, F_JA3S, F_JA3S_FULL, strBegin, strEndAt, strPtr } from "./out";
import { putDec } from "./util";

const FULL: usize = memory.data(MAX_LIST * 6 * 3 + 1024);

function putDecList16(p: usize, src: usize, n: i32): usize {
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      store<u8>(p, 45);
      p++;
    }
    p = putDec(p, <u32>load<u16>(src + (<usize>i << 1)));
  }
  return p;
}

function emit(idFull: u8, idHash: u8, len: i32): void {
  strBegin(idFull);
  let p = strPtr();
  memory.copy(p, FULL, len);
  strEndAt(p + <usize>len);
  strBegin(idHash);
  p = strPtr();
  strEndAt(putMd5Hex(p, FULL, len));
}

/** Writes ja3_full and ja3 for the parsed ClientHello. */
export function writeJa3(): void {
  let p = putDec(FULL, helloLegacyVersion);
  store<u8>(p, 44);
  p = putDecList16(p + 1, CH_CIPHERS, chCipherN);
  store<u8>(p, 44);
  p = putDecList16(p + 1, CH_EXTS, chExtN);
  store<u8>(p, 44);
  p = putDecList16(p + 1, CH_GROUPS, chGroupN);
  store<u8>(p, 44);
  p++;
  for (let i = 0; i < chPfN; i++) {
    if (i > 0) {
      store<u8>(p, 45);
      p++;
    }
    p = putDec(p, <u32>load<u8>(CH_POINT_FORMATS + <usize>i));
  }
  emit(F_JA3_FULL, F_JA3, <i32>(p - FULL));
}

/** Writes ja3s_full and ja3s for the parsed ServerHello: version,cipher,extensions. */
export function writeJa3s(): void {
  let p = putDec(FULL, helloLegacyVersion);
  store<u8>(p, 44);
  p = putDec(p + 1, shCipher);
  store<u8>(p, 44);
  p = putDecList16(p + 1, CH_EXTS, chExtN);
  emit(F_JA3S_FULL, F_JA3S, <i32>(p - FULL));
}
