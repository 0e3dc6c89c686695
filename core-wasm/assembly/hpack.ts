// HPACK (RFC 7541) header block decoding for JA4H on HTTP/2: static table, a dynamic
// table per connection, integer and string literals, canonical Huffman decoding. Decoded
// fields are copied to a scratch list the caller walks; malformed input stops decoding
// (returns false), never traps.

/** RFC 7541 Appendix B: code length of each symbol 0..256 (256 = EOS). The code is
 * canonical (codes assigned in order of length, then symbol), so lengths define it. */
const HUFF_LEN: usize = memory.data<u8>([
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28,
  28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5,
  6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6,
  7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23,
  23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22,
  22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22,
  23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27,
  27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25,
  24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
]);
/** Canonical decoding tables: per length, first code, count, offset into SYMS. */
const FIRST: usize = memory.data(31 * 4);
const COUNT: usize = memory.data(31 * 4);
const OFFSET: usize = memory.data(31 * 4);
const SYMS: usize = memory.data(257 * 2);

function initHuffman(): void {
  let k = 0;
  let code: u32 = 0;
  for (let len = 1; len <= 30; len++) {
    store<u32>(FIRST + (<usize>len << 2), code);
    store<u32>(OFFSET + (<usize>len << 2), <u32>k);
    let n = 0;
    for (let s = 0; s < 257; s++) {
      if (<i32>load<u8>(HUFF_LEN + <usize>s) == len) {
        store<u16>(SYMS + (<usize>k << 1), <u16>s);
        k++;
        n++;
      }
    }
    store<u32>(COUNT + (<usize>len << 2), <u32>n);
    code = (code + <u32>n) << 1;
  }
}
initHuffman();

/** RFC 7541 Appendix A static table: "name\0value" per entry, index 1..61. */
const STATIC: StaticArray<string> = [
  ":authority", "", ":method", "GET", ":method", "POST", ":path", "/", ":path", "/index.html",
  ":scheme", "http", ":scheme", "https", ":status", "200", ":status", "204", ":status", "206",
  ":status", "304", ":status", "400", ":status", "404", ":status", "500", "accept-charset", "",
  "accept-encoding", "gzip, deflate", "accept-language", "", "accept-ranges", "", "accept", "",
  "access-control-allow-origin", "", "age", "", "allow", "", "authorization", "",
  "cache-control", "", "content-disposition", "", "content-encoding", "", "content-language", "",
  "content-length", "", "content-location", "", "content-range", "", "content-type", "",
  "cookie", "", "date", "", "etag", "", "expect", "", "expires", "", "from", "", "host", "",
  "if-match", "", "if-modified-since", "", "if-none-match", "", "if-range", "",
  "if-unmodified-since", "", "last-modified", "", "link", "", "location", "", "max-forwards", "",
  "proxy-authenticate", "", "proxy-authorization", "", "range", "", "referer", "", "refresh", "",
  "retry-after", "", "server", "", "set-cookie", "", "strict-transport-security", "",
  "transfer-encoding", "", "user-agent", "", "vary", "", "via", "", "www-authenticate", "",
];
const STATIC_COUNT: u32 = 61;

// Per-connection dynamic table, in a block of HPACK_STATE_BYTES the caller owns.
const T_MAX: usize = 0; // u32 current max size (octets, RFC 7541 §4.1 accounting)
const T_SIZE: usize = 4; // u32
const T_N: usize = 8; // u32 entries
const T_HEAD: usize = 12; // u32 next slot
const T_WPOS: usize = 16; // u32 arena write position
const T_SLOTS: usize = 32; // SLOTS × (u32 offset, u16 name len, u16 value len)
const SLOTS: u32 = 2048; // 65536 / 32: the most entries a 64 KiB table can hold
const ARENA_BYTES: u32 = 1 << 17; // twice the largest table: FIFO eviction never overlaps
const T_ARENA: usize = T_SLOTS + <usize>SLOTS * 8;
/** Largest dynamic table accepted (SETTINGS_HEADER_TABLE_SIZE servers announce ≤ 64 KiB). */
export const HPACK_MAX_TABLE: u32 = 65536;
export const HPACK_STATE_BYTES: i32 = <i32>(T_ARENA + <usize>ARENA_BYTES);

/** Decoded fields of the last hpackDecode: (name ptr, name len, value ptr, value len). */
export const FIELDS: usize = memory.data(512 * 16);
export let fieldCount: i32 = 0;
const MAX_FIELDS: i32 = 512;
/** Decoded bytes of the current block (names and values copied here). */
const OUT: usize = memory.data(65536);
let outUsed: i32 = 0;

export function hpackInit(t: usize): void {
  store<u32>(t, 4096, T_MAX); // RFC 7540 §6.5.2 default SETTINGS_HEADER_TABLE_SIZE
  store<u32>(t, 0, T_SIZE);
  store<u32>(t, 0, T_N);
  store<u32>(t, 0, T_HEAD);
  store<u32>(t, 0, T_WPOS);
}

function slot(t: usize, i: u32): usize {
  // i = 0 is the newest entry.
  const head = load<u32>(t, T_HEAD);
  return t + T_SLOTS + (<usize>((head - 1 - i) & (SLOTS - 1)) << 3);
}

function evictTo(t: usize, limit: u32): void {
  let size = load<u32>(t, T_SIZE);
  let n = load<u32>(t, T_N);
  while (size > limit && n > 0) {
    const s = slot(t, n - 1);
    size -= <u32>load<u16>(s, 4) + <u32>load<u16>(s, 6) + 32;
    n--;
  }
  store<u32>(t, size, T_SIZE);
  store<u32>(t, n, T_N);
}

function insert(t: usize, name: usize, nlen: i32, value: usize, vlen: i32): void {
  const need = <u32>(nlen + vlen) + 32;
  const max = load<u32>(t, T_MAX);
  if (need > max) {
    evictTo(t, 0); // RFC 7541 §4.4: an entry larger than the table empties it
    return;
  }
  evictTo(t, max - need);
  let w = load<u32>(t, T_WPOS);
  const bytes = <u32>(nlen + vlen);
  if (w + bytes > ARENA_BYTES) w = 0;
  const a = t + T_ARENA + <usize>w;
  memory.copy(a, name, nlen);
  memory.copy(a + <usize>nlen, value, vlen);
  const head = load<u32>(t, T_HEAD);
  const s = t + T_SLOTS + (<usize>(head & (SLOTS - 1)) << 3);
  store<u32>(s, w);
  store<u16>(s, <u16>nlen, 4);
  store<u16>(s, <u16>vlen, 6);
  store<u32>(t, head + 1, T_HEAD);
  store<u32>(t, w + bytes, T_WPOS);
  store<u32>(t, load<u32>(t, T_N) + 1, T_N);
  store<u32>(t, load<u32>(t, T_SIZE) + need, T_SIZE);
}

let pos: usize = 0;
let end: usize = 0;
let bad = false;

/** RFC 7541 §5.1 integer with an N-bit prefix. */
function readInt(prefixBits: u32): u32 {
  if (pos >= end) {
    bad = true;
    return 0;
  }
  const mask: u32 = (1 << prefixBits) - 1;
  let v = <u32>load<u8>(pos) & mask;
  pos++;
  if (v < mask) return v;
  let shift: u32 = 0;
  while (true) {
    if (pos >= end || shift > 28) {
      bad = true;
      return 0;
    }
    const b = <u32>load<u8>(pos);
    pos++;
    v += (b & 127) << shift;
    shift += 7;
    if ((b & 128) == 0) return v;
  }
}

/** Appends `n` bytes to the scratch output; returns their address (0 when full). */
function keep(p: usize, n: i32): usize {
  if (outUsed + n > 65536) {
    bad = true;
    return 0;
  }
  const d = OUT + <usize>outUsed;
  memory.copy(d, p, n);
  outUsed += n;
  return d;
}

let strPtr: usize = 0;
let strLen: i32 = 0;

/** RFC 7541 §5.2 string literal → (strPtr, strLen) in the scratch output. */
function readString(): void {
  if (pos >= end) {
    bad = true;
    return;
  }
  const huff = (load<u8>(pos) & 0x80) != 0;
  const n = readInt(7);
  if (bad || <usize>n > end - pos) {
    bad = true;
    return;
  }
  if (!huff) {
    strPtr = keep(pos, <i32>n);
    strLen = <i32>n;
    pos += <usize>n;
    return;
  }
  const start = OUT + <usize>outUsed;
  let o = outUsed;
  let code: u32 = 0;
  let len = 0;
  for (let i: usize = 0; i < <usize>n; i++) {
    const byte = <u32>load<u8>(pos + i);
    for (let b = 7; b >= 0; b--) {
      code = (code << 1) | ((byte >> <u32>b) & 1);
      len++;
      if (len > 30) {
        bad = true;
        return;
      }
      const idx = code - load<u32>(FIRST + (<usize>len << 2));
      if (idx < load<u32>(COUNT + (<usize>len << 2))) {
        const sym = <u32>load<u16>(SYMS + (<usize>(load<u32>(OFFSET + (<usize>len << 2)) + idx) << 1));
        if (sym == 256 || o >= 65536) {
          bad = true; // EOS inside a string is an error (§5.2)
          return;
        }
        store<u8>(OUT + <usize>o, <u8>sym);
        o++;
        code = 0;
        len = 0;
      }
    }
  }
  pos += <usize>n;
  strPtr = start;
  strLen = o - outUsed;
  outUsed = o;
}

let namePtr: usize = 0;
let nameLen: i32 = 0;
let valuePtr: usize = 0;
let valueLen: i32 = 0;

/** Resolves a table index (1-based) into name (and value when `withValue`). */
function lookup(t: usize, index: u32, withValue: bool): bool {
  if (index == 0) return false;
  if (index <= STATIC_COUNT) {
    // Static names and values are under 32 bytes each: check room for both first.
    if (outUsed + 64 > 65536) {
      bad = true;
      return false;
    }
    const nm = STATIC[(index - 1) * 2];
    // Static strings are UTF-16 in AssemblyScript: copy as ASCII into the scratch.
    namePtr = OUT + <usize>outUsed;
    for (let i = 0; i < nm.length; i++) store<u8>(namePtr + <usize>i, <u8>nm.charCodeAt(i));
    nameLen = nm.length;
    outUsed += nameLen;
    if (withValue) {
      const v = STATIC[(index - 1) * 2 + 1];
      valuePtr = OUT + <usize>outUsed;
      for (let i = 0; i < v.length; i++) store<u8>(valuePtr + <usize>i, <u8>v.charCodeAt(i));
      valueLen = v.length;
      outUsed += valueLen;
    }
    return true;
  }
  const i = index - STATIC_COUNT - 1;
  if (i >= load<u32>(t, T_N)) return false;
  const s = slot(t, i);
  const a = t + T_ARENA + <usize>load<u32>(s);
  const nl = <i32>load<u16>(s, 4);
  namePtr = keep(a, nl);
  nameLen = nl;
  if (withValue) {
    const vl = <i32>load<u16>(s, 6);
    valuePtr = keep(a + <usize>nl, vl);
    valueLen = vl;
  }
  return !bad;
}

function emit(): void {
  if (fieldCount >= MAX_FIELDS) return;
  const f = FIELDS + (<usize>fieldCount << 4);
  store<u32>(f, <u32>namePtr);
  store<u32>(f, <u32>nameLen, 4);
  store<u32>(f, <u32>valuePtr, 8);
  store<u32>(f, <u32>valueLen, 12);
  fieldCount++;
}

/**
 * Decodes the header block at `p` (`len` bytes) with dynamic table `t`; fills FIELDS.
 * Returns false when the block is malformed (the fields decoded so far stay).
 */
export function hpackDecode(t: usize, p: usize, len: i32): bool {
  pos = p;
  end = p + <usize>len;
  bad = false;
  fieldCount = 0;
  outUsed = 0;
  while (pos < end && !bad) {
    const b = <u32>load<u8>(pos);
    if ((b & 0x80) != 0) {
      const idx = readInt(7);
      if (bad || !lookup(t, idx, true)) return false;
      emit();
    } else if ((b & 0xe0) == 0x20) {
      const size = readInt(5);
      if (bad || size > HPACK_MAX_TABLE) return false;
      store<u32>(t, size, T_MAX);
      evictTo(t, size);
    } else {
      const indexing = (b & 0xc0) == 0x40;
      const idx = readInt(indexing ? 6 : 4);
      if (bad) return false;
      if (idx != 0) {
        if (!lookup(t, idx, false)) return false;
      } else {
        readString();
        if (bad) return false;
        namePtr = strPtr;
        nameLen = strLen;
      }
      readString();
      if (bad) return false;
      valuePtr = strPtr;
      valueLen = strLen;
      if (indexing) insert(t, namePtr, nameLen, valuePtr, valueLen);
      emit();
    }
  }
  return !bad;
}
