// JA4T TCP client fingerprint from the SYN. Spec: FoxIO-LLC/ja4 technical_details/JA4T.md
// (FoxIO License 1.1).
//   ja4t = window_options_mss_wscale, e.g. "64240_2-1-3-1-1-4_1460_8"
//   options: every option kind in wire order, '-' joined, EOL padding included ("…-0-0");
//   "00" for no options, for a missing MSS and for a missing window scale.

import { F_JA4T, R_MSS, R_WINDOW, R_WSCALE, recU16, recU8, strBegin, strEndAt, strPtr } from "./out";
import { be16 } from "./util";
import { putDec } from "./util";

/** TCP option kinds (RFC 9293 §3.2, RFC 7323). */
export const OPT_EOL: u32 = 0;
export const OPT_NOP: u32 = 1;
export const OPT_MSS: u32 = 2;
export const OPT_WSCALE: u32 = 3;

/** Writes ja4t for the TCP header at `tcp` whose header is `hlen` bytes long. */
export function writeJa4t(tcp: usize, hlen: i32): void {
  const window = be16(tcp + 14);
  let mss: i32 = -1;
  let ws: i32 = -1;
  strBegin(F_JA4T);
  let p = putDec(strPtr(), window);
  store<u8>(p, 95);
  p++;
  let q = tcp + 20;
  const end = tcp + <usize>hlen;
  let n = 0;
  while (q < end) {
    const kind = <u32>load<u8>(q);
    if (n > 0) {
      store<u8>(p, 45);
      p++;
    }
    p = putDec(p, kind);
    n++;
    if (kind == OPT_EOL || kind == OPT_NOP) {
      q++;
      continue;
    }
    if (q + 1 >= end) break;
    const olen = <usize>load<u8>(q + 1);
    if (olen < 2 || q + olen > end) break;
    if (kind == OPT_MSS && olen == 4) mss = <i32>be16(q + 2);
    else if (kind == OPT_WSCALE && olen == 3) ws = <i32>load<u8>(q + 2);
    q += olen;
  }
  if (n == 0) {
    store<u16>(p, 0x3030);
    p += 2;
  }
  store<u8>(p, 95);
  p++;
  if (mss >= 0) p = putDec(p, <u32>mss);
  else {
    store<u16>(p, 0x3030);
    p += 2;
  }
  store<u8>(p, 95);
  p++;
  if (ws >= 0) p = putDec(p, <u32>ws);
  else {
    store<u16>(p, 0x3030);
    p += 2;
  }
  strEndAt(p);
  recU16(R_WINDOW, window);
  recU16(R_MSS, mss >= 0 ? <u32>mss : 0);
  recU8(R_WSCALE, ws >= 0 ? <u32>ws : 255);
}
