// TLS key log (NSS SSLKEYLOGFILE format) from pcapng Decryption Secrets Blocks, so a
// capture that embeds its secrets (`editcap --inject-secrets tls,keys.txt`) gets JA4H for
// the HTTP requests inside TLS 1.3, as FoxIO's reference does through tshark.
//
// Lines: "<LABEL> <client_random hex64> <secret hex>". Only the client-side TLS 1.3
// traffic secrets are kept: JA4H needs the client's requests, nothing else.

export const LABEL_CLIENT_HS: i32 = 1; // CLIENT_HANDSHAKE_TRAFFIC_SECRET
export const LABEL_CLIENT_APP: i32 = 2; // CLIENT_TRAFFIC_SECRET_0
/** pcapng DSB secrets type for a TLS key log ("TLSK"). */
export const SECRETS_TLS_KEYLOG: u32 = 0x544c534b;

const MAX_ENTRIES: i32 = 4096;
const ENTRY: usize = 32 + 1 + 1 + 48; // random, label, secret length, secret (≤ SHA-384)
const TABLE: usize = memory.data(<i32>ENTRY * MAX_ENTRIES);
let count: i32 = 0;
/** Entries that did not fit (counted, never an error). */
export let keylogDropped: i32 = 0;

function hexVal(c: u32): i32 {
  if (c - 48 < 10) return <i32>(c - 48);
  const l = c | 32;
  if (l - 97 < 6) return <i32>(l - 87);
  return -1;
}

/** Decodes `n` bytes of hex at `p` into `out`; false on a bad digit. */
function unhex(p: usize, n: i32, out: usize): bool {
  for (let i = 0; i < n; i++) {
    const hi = hexVal(<u32>load<u8>(p + <usize>(2 * i)));
    const lo = hexVal(<u32>load<u8>(p + <usize>(2 * i + 1)));
    if (hi < 0 || lo < 0) return false;
    store<u8>(out + <usize>i, <u8>((hi << 4) | lo));
  }
  return true;
}

function startsWith(p: usize, n: i32, lit: string): bool {
  if (n < lit.length) return false;
  for (let i = 0; i < lit.length; i++) {
    if (<u32>load<u8>(p + <usize>i) != <u32>lit.charCodeAt(i)) return false;
  }
  return true;
}

function addLine(p: usize, n: i32): void {
  let label = 0;
  let off = 0;
  if (startsWith(p, n, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ")) {
    label = LABEL_CLIENT_HS;
    off = 32;
  } else if (startsWith(p, n, "CLIENT_TRAFFIC_SECRET_0 ")) {
    label = LABEL_CLIENT_APP;
    off = 24;
  } else {
    return;
  }
  // random (64 hex) + space + secret (64 or 96 hex)
  const secretHex = n - off - 65;
  if (secretHex != 64 && secretHex != 96) return;
  if (load<u8>(p + <usize>(off + 64)) != 32) return;
  if (count == MAX_ENTRIES) {
    keylogDropped++;
    return;
  }
  const e = TABLE + <usize>count * ENTRY;
  if (!unhex(p + <usize>off, 32, e)) return;
  if (!unhex(p + <usize>(off + 65), secretHex >> 1, e + 34)) return;
  store<u8>(e + 32, <u8>label);
  store<u8>(e + 33, <u8>(secretHex >> 1));
  count++;
}

/** Adds every line of a key log text of `len` bytes at `p`. */
export function keylogAdd(p: usize, len: i32): void {
  let s = 0;
  for (let i = 0; i <= len; i++) {
    if (i == len || load<u8>(p + <usize>i) == 10) {
      let e = i;
      if (e > s && load<u8>(p + <usize>(e - 1)) == 13) e--;
      addLine(p + <usize>s, e - s);
      s = i + 1;
    }
  }
}

/** Number of secrets known. */
export function keylogCount(): i32 {
  return count;
}

/** True once any secret is known: flows skip all TLS 1.3 bookkeeping otherwise. */
export function keylogAny(): bool {
  return count > 0;
}

/** Length of the secret found by the last keylogFind. */
export let keylogSecretLen: i32 = 0;

/**
 * Finds the secret of `label` for the client random at `random`; returns a pointer to it
 * and sets keylogSecretLen, or 0 when absent.
 */
export function keylogFind(label: i32, random: usize): usize {
  for (let i = count - 1; i >= 0; i--) {
    const e = TABLE + <usize>i * ENTRY;
    if (<i32>load<u8>(e + 32) == label && load<u64>(e) == load<u64>(random) &&
        load<u64>(e, 8) == load<u64>(random, 8) && load<u64>(e, 16) == load<u64>(random, 16) &&
        load<u64>(e, 24) == load<u64>(random, 24)) {
      keylogSecretLen = <i32>load<u8>(e + 33);
      return e + 34;
    }
  }
  return 0;
}

/** Reads a pcapng Decryption Secrets Block body (secrets type, length, data). */
export function keylogFromDsb(body: usize, bodyLen: i32, swap: bool): void {
  if (bodyLen < 8) return;
  let type = load<u32>(body);
  let len = load<u32>(body + 4);
  if (swap) {
    type = bswap<u32>(type);
    len = bswap<u32>(len);
  }
  if (type != SECRETS_TLS_KEYLOG || len > <u32>(bodyLen - 8)) return;
  keylogAdd(body + 8, <i32>len);
}
