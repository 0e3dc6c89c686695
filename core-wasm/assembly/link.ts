// Link layers (tcpdump.org LINKTYPE_* values): Ethernet with 802.1Q / QinQ tags, Linux
// cooked SLL and SLL2, raw IPv4/IPv6, BSD null / loopback.

import { ipInput } from "./ip";
import { be16 } from "./util";
import { bump, ST_MALFORMED_PACKETS, ST_UNSUPPORTED_LINK } from "./stats";

export const LINKTYPE_NULL: u32 = 0;
export const LINKTYPE_ETHERNET: u32 = 1;
export const LINKTYPE_RAW_OLD: u32 = 12; // DLT_RAW on some BSDs
export const LINKTYPE_RAW_OLD2: u32 = 14;
export const LINKTYPE_RAW: u32 = 101;
export const LINKTYPE_LOOP: u32 = 108;
export const LINKTYPE_LINUX_SLL: u32 = 113;
export const LINKTYPE_IPV4: u32 = 228;
export const LINKTYPE_IPV6: u32 = 229;
export const LINKTYPE_LINUX_SLL2: u32 = 276;

export const ETHERTYPE_IPV4: u32 = 0x0800;
export const ETHERTYPE_IPV6: u32 = 0x86dd;
export const ETHERTYPE_VLAN: u32 = 0x8100;
export const ETHERTYPE_QINQ: u32 = 0x88a8;
export const ETHERTYPE_QINQ_OLD: u32 = 0x9100;

/** Dispatches on an EtherType (also used by GRE and Geneve). */
export function etherTypeInput(type: u32, p: usize, len: i32): void {
  if (type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6) ipInput(p, len);
}

/** Ethernet II frame, VLAN tags skipped (any depth up to 4). */
export function ethernetInput(p: usize, len: i32): void {
  if (len < 14) {
    bump(ST_MALFORMED_PACKETS);
    return;
  }
  let type = be16(p + 12);
  let off: i32 = 14;
  for (let i = 0; i < 4; i++) {
    if (type != ETHERTYPE_VLAN && type != ETHERTYPE_QINQ && type != ETHERTYPE_QINQ_OLD) break;
    if (off + 4 > len) {
      bump(ST_MALFORMED_PACKETS);
      return;
    }
    type = be16(p + <usize>off + 2);
    off += 4;
  }
  etherTypeInput(type, p + <usize>off, len - off);
}

/** Decodes one captured frame of link type `link`. */
export function linkInput(link: u32, p: usize, len: i32): void {
  if (link == LINKTYPE_ETHERNET) {
    ethernetInput(p, len);
  } else if (link == LINKTYPE_RAW || link == LINKTYPE_IPV4 || link == LINKTYPE_IPV6 ||
             link == LINKTYPE_RAW_OLD || link == LINKTYPE_RAW_OLD2) {
    ipInput(p, len);
  } else if (link == LINKTYPE_LINUX_SLL) {
    if (len < 16) {
      bump(ST_MALFORMED_PACKETS);
      return;
    }
    etherTypeInput(be16(p + 14), p + 16, len - 16);
  } else if (link == LINKTYPE_LINUX_SLL2) {
    if (len < 20) {
      bump(ST_MALFORMED_PACKETS);
      return;
    }
    etherTypeInput(be16(p), p + 20, len - 20);
  } else if (link == LINKTYPE_NULL || link == LINKTYPE_LOOP) {
    // 4-byte address family, host byte order for NULL, network order for LOOP; the
    // IP version nibble is as reliable and needs neither.
    if (len < 5) {
      bump(ST_MALFORMED_PACKETS);
      return;
    }
    ipInput(p + 4, len - 4);
  } else {
    bump(ST_UNSUPPORTED_LINK);
  }
}
