// AES-128 encryption (FIPS 197), allocation-free, table-driven.
//
// QUIC Initial protection only ever needs the forward cipher: header protection is one
// AES-ECB block (RFC 9001 §5.4.3) and AES-GCM decryption runs AES in counter mode. So
// there is no inverse cipher here.
//
// Uses the classic 32-bit "T-table" formulation (SubBytes + ShiftRows + MixColumns folded
// into four 1 KiB tables). Table lookups are not constant-time; that is acceptable here
// because every key this engine handles is derived from public packet bytes (the client's
// Destination Connection ID), so there is no secret to leak.
//
// Words are little-endian loads of the state columns: byte r of a column is bits 8r..8r+7.

/** S-box (FIPS 197 §5.1.1), built once by `ensureTables`. */
const SBOX: usize = memory.data(256);
/** T0[x] = column (2·S[x], S[x], S[x], 3·S[x]); T1..T3 are T0 rotated by 8, 16, 24 bits. */
const T0: usize = memory.data(1024);
const T1: usize = memory.data(1024);
const T2: usize = memory.data(1024);
const T3: usize = memory.data(1024);
let tablesReady = false;

/** Size in bytes of an expanded AES-128 key (11 round keys). */
export const AES128_ROUND_KEYS_BYTES: i32 = 176;

function xtime(x: u32): u32 {
  return ((x << 1) ^ ((x >> 7) * 0x1b)) & 0xff;
}

/** Builds the S-box from GF(2^8) inverses and the affine map, then the T-tables. */
function ensureTables(): void {
  if (tablesReady) return;
  // Walk the multiplicative group with generator 3: p = 3^k, q = 3^-k = p^-1.
  let p: u32 = 1;
  let q: u32 = 1;
  do {
    p = p ^ xtime(p);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const x = q ^ (((q << 1) | (q >> 7)) & 0xff) ^ (((q << 2) | (q >> 6)) & 0xff) ^
      (((q << 3) | (q >> 5)) & 0xff) ^ (((q << 4) | (q >> 4)) & 0xff);
    store<u8>(SBOX + <usize>p, <u8>(x ^ 0x63));
  } while (p != 1);
  store<u8>(SBOX, 0x63); // 0 has no inverse; FIPS 197 maps it to 0x63.
  for (let i: usize = 0; i < 256; i++) {
    const s = <u32>load<u8>(SBOX + i);
    const s2 = xtime(s);
    const t = s2 | (s << 8) | (s << 16) | ((s2 ^ s) << 24);
    store<u32>(T0 + (i << 2), t);
    store<u32>(T1 + (i << 2), rotl<u32>(t, 8));
    store<u32>(T2 + (i << 2), rotl<u32>(t, 16));
    store<u32>(T3 + (i << 2), rotl<u32>(t, 24));
  }
  tablesReady = true;
}

function subWord(w: u32): u32 {
  return <u32>load<u8>(SBOX + <usize>(w & 0xff)) |
    (<u32>load<u8>(SBOX + <usize>((w >> 8) & 0xff)) << 8) |
    (<u32>load<u8>(SBOX + <usize>((w >> 16) & 0xff)) << 16) |
    (<u32>load<u8>(SBOX + <usize>(w >> 24)) << 24);
}

/** Expands the 16-byte key at `key` into 176 bytes of round keys at `rk` (FIPS 197 §5.2). */
export function aes128ExpandKey(key: usize, rk: usize): void {
  ensureTables();
  memory.copy(rk, key, 16);
  let rcon: u32 = 1;
  for (let i: usize = 4; i < 44; i++) {
    let t = load<u32>(rk + ((i - 1) << 2));
    if ((i & 3) == 0) {
      // RotWord moves byte 1 to byte 0: a right rotation of the little-endian word.
      t = subWord(rotr<u32>(t, 8)) ^ rcon;
      rcon = xtime(rcon);
    }
    store<u32>(rk + (i << 2), load<u32>(rk + ((i - 4) << 2)) ^ t);
  }
}

@inline function tl(table: usize, x: u32): u32 {
  return load<u32>(table + (<usize>(x & 0xff) << 2));
}

@inline function sb(x: u32): u32 {
  return <u32>load<u8>(SBOX + <usize>(x & 0xff));
}

/**
 * Rounds `first`..9 and the final round on the column words c0..c3, then the last round
 * key, into the 16 bytes at `out`. Shared by the one-block cipher and counter mode.
 */
@inline function roundsFrom(rk: usize, first: i32, s0: u32, s1: u32, s2: u32, s3: u32, out: usize): void {
  let c0 = s0;
  let c1 = s1;
  let c2 = s2;
  let c3 = s3;
  let k = rk + (<usize>first << 4);
  for (let round = first; round < 10; round++) {
    const n0 = tl(T0, c0) ^ tl(T1, c1 >> 8) ^ tl(T2, c2 >> 16) ^ tl(T3, c3 >> 24) ^ load<u32>(k, 0);
    const n1 = tl(T0, c1) ^ tl(T1, c2 >> 8) ^ tl(T2, c3 >> 16) ^ tl(T3, c0 >> 24) ^ load<u32>(k, 4);
    const n2 = tl(T0, c2) ^ tl(T1, c3 >> 8) ^ tl(T2, c0 >> 16) ^ tl(T3, c1 >> 24) ^ load<u32>(k, 8);
    const n3 = tl(T0, c3) ^ tl(T1, c0 >> 8) ^ tl(T2, c1 >> 16) ^ tl(T3, c2 >> 24) ^ load<u32>(k, 12);
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k += 16;
  }
  // Last round: SubBytes + ShiftRows, no MixColumns.
  const o0 = sb(c0) | (sb(c1 >> 8) << 8) | (sb(c2 >> 16) << 16) | (sb(c3 >> 24) << 24);
  const o1 = sb(c1) | (sb(c2 >> 8) << 8) | (sb(c3 >> 16) << 16) | (sb(c0 >> 24) << 24);
  const o2 = sb(c2) | (sb(c3 >> 8) << 8) | (sb(c0 >> 16) << 16) | (sb(c1 >> 24) << 24);
  const o3 = sb(c3) | (sb(c0 >> 8) << 8) | (sb(c1 >> 16) << 16) | (sb(c2 >> 24) << 24);
  store<u32>(out, o0 ^ load<u32>(k, 0), 0);
  store<u32>(out, o1 ^ load<u32>(k, 4), 4);
  store<u32>(out, o2 ^ load<u32>(k, 8), 8);
  store<u32>(out, o3 ^ load<u32>(k, 12), 12);
}

/**
 * Encrypts the 16-byte block at `input` with the round keys at `rk` (from
 * `aes128ExpandKey`) into `out`; `out` may alias `input`.
 */
export function aes128EncryptBlock(rk: usize, input: usize, out: usize): void {
  roundsFrom(
    rk, 1,
    load<u32>(input, 0) ^ load<u32>(rk, 0),
    load<u32>(input, 4) ^ load<u32>(rk, 4),
    load<u32>(input, 8) ^ load<u32>(rk, 8),
    load<u32>(input, 12) ^ load<u32>(rk, 12),
    out,
  );
}

const KEYSTREAM: usize = memory.data(16);

/**
 * Counter mode with a 32-bit big-endian counter (GCM's): XORs E(K, iv || counter + i) into
 * the i-th 16-byte block of the `len` bytes at `src`, writing `dst` (which may alias
 * `src`); the last block may be partial. `iv` is 12 bytes.
 *
 * Only the counter's last byte changes from one block to the next (for 256 blocks at a
 * time), and after ShiftRows that byte reaches a single column of round 1 and one byte of
 * each column of round 2. So the other 27 of the first two rounds' 32 table lookups are
 * computed once per run of 256 counters (Bernstein–Schwabe counter-mode caching), and each
 * block costs 5 lookups for those rounds. Same output as one `aes128EncryptBlock` per block.
 */
export function aes128Ctr32(rk: usize, iv: usize, counter: u32, src: usize, dst: usize, len: i32): void {
  let ctr = counter;
  let high: u32 = ~(ctr >> 8); // forces the first precomputation
  let p0: u32 = 0;
  let q0: u32 = 0;
  let q1: u32 = 0;
  let q2: u32 = 0;
  let q3: u32 = 0;
  const kLast = load<u8>(rk, 15);
  let done = 0;
  while (done < len) {
    if ((ctr >> 8) != high) {
      high = ctr >> 8;
      // Round 0 and the counter-independent parts of rounds 1 and 2 (see above).
      const c0 = load<u32>(iv, 0) ^ load<u32>(rk, 0);
      const c1 = load<u32>(iv, 4) ^ load<u32>(rk, 4);
      const c2 = load<u32>(iv, 8) ^ load<u32>(rk, 8);
      const c3 = bswap<u32>(ctr) ^ load<u32>(rk, 12); // its top byte varies: unused below
      p0 = tl(T0, c0) ^ tl(T1, c1 >> 8) ^ tl(T2, c2 >> 16) ^ load<u32>(rk, 16);
      const n1 = tl(T0, c1) ^ tl(T1, c2 >> 8) ^ tl(T2, c3 >> 16) ^ tl(T3, c0 >> 24) ^ load<u32>(rk, 20);
      const n2 = tl(T0, c2) ^ tl(T1, c3 >> 8) ^ tl(T2, c0 >> 16) ^ tl(T3, c1 >> 24) ^ load<u32>(rk, 24);
      const n3 = tl(T0, c3) ^ tl(T1, c0 >> 8) ^ tl(T2, c1 >> 16) ^ tl(T3, c2 >> 24) ^ load<u32>(rk, 28);
      q0 = tl(T1, n1 >> 8) ^ tl(T2, n2 >> 16) ^ tl(T3, n3 >> 24) ^ load<u32>(rk, 32);
      q1 = tl(T0, n1) ^ tl(T1, n2 >> 8) ^ tl(T2, n3 >> 16) ^ load<u32>(rk, 36);
      q2 = tl(T0, n2) ^ tl(T1, n3 >> 8) ^ tl(T3, n1 >> 24) ^ load<u32>(rk, 40);
      q3 = tl(T0, n3) ^ tl(T2, n1 >> 16) ^ tl(T3, n2 >> 24) ^ load<u32>(rk, 44);
    }
    const n0 = p0 ^ tl(T3, (ctr & 0xff) ^ kLast);
    roundsFrom(
      rk, 3,
      q0 ^ tl(T0, n0),
      q1 ^ tl(T3, n0 >> 24),
      q2 ^ tl(T2, n0 >> 16),
      q3 ^ tl(T1, n0 >> 8),
      KEYSTREAM,
    );
    const s = src + <usize>done;
    const d = dst + <usize>done;
    if (len - done >= 16) {
      store<u64>(d, load<u64>(s, 0) ^ load<u64>(KEYSTREAM, 0), 0);
      store<u64>(d, load<u64>(s, 8) ^ load<u64>(KEYSTREAM, 8), 8);
      done += 16;
    } else {
      for (let i: usize = 0; done < len; i++) {
        store<u8>(d + i, load<u8>(s + i) ^ load<u8>(KEYSTREAM + i));
        done++;
      }
    }
    ctr++;
  }
}
