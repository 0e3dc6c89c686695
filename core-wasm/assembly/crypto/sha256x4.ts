// SHA-256 compression of four independent blocks at once, in wasm SIMD (i32x4 lanes).
//
// QUIC Initial keys take a chain of one-block HMACs per connection (RFC 9001 §5.2), and
// at each step of the chain several of them are independent: the inner and outer keying
// of a secret, "client in" next to "server in", "quic key" / "quic iv" / "quic hp" of both
// directions. Four such compressions in the lanes of one i32x4 computation cost about as
// much as two one at a time, so the key schedule of a connection takes 7 four-lane and 4
// scalar compressions instead of 24 scalar ones.
//
// Same function as sha256CompressAt (FIPS 180-4 §6.2.2), per lane; a lane may repeat
// another lane's arguments when fewer than four blocks are ready (its result is simply
// written twice).

// @ts-ignore: decorator
@inline function rotr(x: v128, n: i32): v128 {
  return v128.or(i32x4.shr_u(x, n), i32x4.shl(x, 32 - n));
}

// @ts-ignore: decorator
@inline function bigS0(x: v128): v128 {
  return v128.xor(v128.xor(rotr(x, 2), rotr(x, 13)), rotr(x, 22));
}

// @ts-ignore: decorator
@inline function bigS1(x: v128): v128 {
  return v128.xor(v128.xor(rotr(x, 6), rotr(x, 11)), rotr(x, 25));
}

// @ts-ignore: decorator
@inline function s0(x: v128): v128 {
  return v128.xor(v128.xor(rotr(x, 7), rotr(x, 18)), i32x4.shr_u(x, 3));
}

// @ts-ignore: decorator
@inline function s1(x: v128): v128 {
  return v128.xor(v128.xor(rotr(x, 17), rotr(x, 19)), i32x4.shr_u(x, 10));
}

/** Big-endian 32-bit words of a block → host order (a byte shuffle within each lane). */
// @ts-ignore: decorator
@inline function bswapWords(x: v128): v128 {
  return i8x16.shuffle(x, x, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
}

/**
 * 4×4 transpose of u32 words: row i of the input (`r0`..`r3`) becomes lane i of every
 * output. Written to T0..T3 (module scratch: AssemblyScript has no tuple returns).
 */
// @ts-ignore: decorator
@inline function transpose(r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
  v128.store(T, v128.shuffle<i64>(t0, t1, 0, 2), 0);
  v128.store(T, v128.shuffle<i64>(t0, t1, 1, 3), 16);
  v128.store(T, v128.shuffle<i64>(t2, t3, 0, 2), 32);
  v128.store(T, v128.shuffle<i64>(t2, t3, 1, 3), 48);
}

/** Words `off/4`..`off/4 + 3` of each lane's message block (big-endian) → T0..T3, transposed. */
// @ts-ignore: decorator
@inline function transposeMessage(b0: usize, b1: usize, b2: usize, b3: usize, off: usize): void {
  transpose(
    bswapWords(v128.load(b0 + off)), bswapWords(v128.load(b1 + off)),
    bswapWords(v128.load(b2 + off)), bswapWords(v128.load(b3 + off)),
  );
}

const T: usize = memory.data(64, 16);

/**
 * Compresses, for each lane i, the 64-byte block at `bi` into the chaining state at `si`
 * (32 bytes, host-order u32 words as sha256CompressAt uses), in place. States must not
 * overlap blocks; two lanes may share both arguments.
 */
export function sha256Compress4(
  s0p: usize, b0: usize, s1p: usize, b1: usize, s2p: usize, b2: usize, s3p: usize, b3: usize,
): void {
  transpose(v128.load(s0p), v128.load(s1p), v128.load(s2p), v128.load(s3p));
  const a0 = v128.load(T, 0);
  const b0v = v128.load(T, 16);
  const c0 = v128.load(T, 32);
  const d0 = v128.load(T, 48);
  transpose(v128.load(s0p, 16), v128.load(s1p, 16), v128.load(s2p, 16), v128.load(s3p, 16));
  const e0 = v128.load(T, 0);
  const f0 = v128.load(T, 16);
  const g0 = v128.load(T, 32);
  const h0 = v128.load(T, 48);

  transposeMessage(b0, b1, b2, b3, 0);
  let w0 = v128.load(T, 0);
  let w1 = v128.load(T, 16);
  let w2 = v128.load(T, 32);
  let w3 = v128.load(T, 48);
  transposeMessage(b0, b1, b2, b3, 16);
  let w4 = v128.load(T, 0);
  let w5 = v128.load(T, 16);
  let w6 = v128.load(T, 32);
  let w7 = v128.load(T, 48);
  transposeMessage(b0, b1, b2, b3, 32);
  let w8 = v128.load(T, 0);
  let w9 = v128.load(T, 16);
  let w10 = v128.load(T, 32);
  let w11 = v128.load(T, 48);
  transposeMessage(b0, b1, b2, b3, 48);
  let w12 = v128.load(T, 0);
  let w13 = v128.load(T, 16);
  let w14 = v128.load(T, 32);
  let w15 = v128.load(T, 48);
  let a = a0;
  let b = b0v;
  let c = c0;
  let d = d0;
  let e = e0;
  let f = f0;
  let g = g0;
  let h = h0;
  h = i32x4.add(i32x4.add(h, bigS1(e)), i32x4.add(v128.bitselect(f, g, e), i32x4.add(i32x4.splat(0x428a2f98), w0)));
  d = i32x4.add(d, h);
  h = i32x4.add(i32x4.add(h, bigS0(a)), v128.bitselect(b, a, v128.xor(a, c)));
  g = i32x4.add(i32x4.add(g, bigS1(d)), i32x4.add(v128.bitselect(e, f, d), i32x4.add(i32x4.splat(0x71374491), w1)));
  c = i32x4.add(c, g);
  g = i32x4.add(i32x4.add(g, bigS0(h)), v128.bitselect(a, h, v128.xor(h, b)));
  f = i32x4.add(i32x4.add(f, bigS1(c)), i32x4.add(v128.bitselect(d, e, c), i32x4.add(i32x4.splat(0xb5c0fbcf), w2)));
  b = i32x4.add(b, f);
  f = i32x4.add(i32x4.add(f, bigS0(g)), v128.bitselect(h, g, v128.xor(g, a)));
  e = i32x4.add(i32x4.add(e, bigS1(b)), i32x4.add(v128.bitselect(c, d, b), i32x4.add(i32x4.splat(0xe9b5dba5), w3)));
  a = i32x4.add(a, e);
  e = i32x4.add(i32x4.add(e, bigS0(f)), v128.bitselect(g, f, v128.xor(f, h)));
  d = i32x4.add(i32x4.add(d, bigS1(a)), i32x4.add(v128.bitselect(b, c, a), i32x4.add(i32x4.splat(0x3956c25b), w4)));
  h = i32x4.add(h, d);
  d = i32x4.add(i32x4.add(d, bigS0(e)), v128.bitselect(f, e, v128.xor(e, g)));
  c = i32x4.add(i32x4.add(c, bigS1(h)), i32x4.add(v128.bitselect(a, b, h), i32x4.add(i32x4.splat(0x59f111f1), w5)));
  g = i32x4.add(g, c);
  c = i32x4.add(i32x4.add(c, bigS0(d)), v128.bitselect(e, d, v128.xor(d, f)));
  b = i32x4.add(i32x4.add(b, bigS1(g)), i32x4.add(v128.bitselect(h, a, g), i32x4.add(i32x4.splat(0x923f82a4), w6)));
  f = i32x4.add(f, b);
  b = i32x4.add(i32x4.add(b, bigS0(c)), v128.bitselect(d, c, v128.xor(c, e)));
  a = i32x4.add(i32x4.add(a, bigS1(f)), i32x4.add(v128.bitselect(g, h, f), i32x4.add(i32x4.splat(0xab1c5ed5), w7)));
  e = i32x4.add(e, a);
  a = i32x4.add(i32x4.add(a, bigS0(b)), v128.bitselect(c, b, v128.xor(b, d)));
  h = i32x4.add(i32x4.add(h, bigS1(e)), i32x4.add(v128.bitselect(f, g, e), i32x4.add(i32x4.splat(0xd807aa98), w8)));
  d = i32x4.add(d, h);
  h = i32x4.add(i32x4.add(h, bigS0(a)), v128.bitselect(b, a, v128.xor(a, c)));
  g = i32x4.add(i32x4.add(g, bigS1(d)), i32x4.add(v128.bitselect(e, f, d), i32x4.add(i32x4.splat(0x12835b01), w9)));
  c = i32x4.add(c, g);
  g = i32x4.add(i32x4.add(g, bigS0(h)), v128.bitselect(a, h, v128.xor(h, b)));
  f = i32x4.add(i32x4.add(f, bigS1(c)), i32x4.add(v128.bitselect(d, e, c), i32x4.add(i32x4.splat(0x243185be), w10)));
  b = i32x4.add(b, f);
  f = i32x4.add(i32x4.add(f, bigS0(g)), v128.bitselect(h, g, v128.xor(g, a)));
  e = i32x4.add(i32x4.add(e, bigS1(b)), i32x4.add(v128.bitselect(c, d, b), i32x4.add(i32x4.splat(0x550c7dc3), w11)));
  a = i32x4.add(a, e);
  e = i32x4.add(i32x4.add(e, bigS0(f)), v128.bitselect(g, f, v128.xor(f, h)));
  d = i32x4.add(i32x4.add(d, bigS1(a)), i32x4.add(v128.bitselect(b, c, a), i32x4.add(i32x4.splat(0x72be5d74), w12)));
  h = i32x4.add(h, d);
  d = i32x4.add(i32x4.add(d, bigS0(e)), v128.bitselect(f, e, v128.xor(e, g)));
  c = i32x4.add(i32x4.add(c, bigS1(h)), i32x4.add(v128.bitselect(a, b, h), i32x4.add(i32x4.splat(0x80deb1fe), w13)));
  g = i32x4.add(g, c);
  c = i32x4.add(i32x4.add(c, bigS0(d)), v128.bitselect(e, d, v128.xor(d, f)));
  b = i32x4.add(i32x4.add(b, bigS1(g)), i32x4.add(v128.bitselect(h, a, g), i32x4.add(i32x4.splat(0x9bdc06a7), w14)));
  f = i32x4.add(f, b);
  b = i32x4.add(i32x4.add(b, bigS0(c)), v128.bitselect(d, c, v128.xor(c, e)));
  a = i32x4.add(i32x4.add(a, bigS1(f)), i32x4.add(v128.bitselect(g, h, f), i32x4.add(i32x4.splat(0xc19bf174), w15)));
  e = i32x4.add(e, a);
  a = i32x4.add(i32x4.add(a, bigS0(b)), v128.bitselect(c, b, v128.xor(b, d)));
  w0 = i32x4.add(i32x4.add(w0, s0(w1)), i32x4.add(w9, s1(w14)));
  h = i32x4.add(i32x4.add(h, bigS1(e)), i32x4.add(v128.bitselect(f, g, e), i32x4.add(i32x4.splat(0xe49b69c1), w0)));
  d = i32x4.add(d, h);
  h = i32x4.add(i32x4.add(h, bigS0(a)), v128.bitselect(b, a, v128.xor(a, c)));
  w1 = i32x4.add(i32x4.add(w1, s0(w2)), i32x4.add(w10, s1(w15)));
  g = i32x4.add(i32x4.add(g, bigS1(d)), i32x4.add(v128.bitselect(e, f, d), i32x4.add(i32x4.splat(0xefbe4786), w1)));
  c = i32x4.add(c, g);
  g = i32x4.add(i32x4.add(g, bigS0(h)), v128.bitselect(a, h, v128.xor(h, b)));
  w2 = i32x4.add(i32x4.add(w2, s0(w3)), i32x4.add(w11, s1(w0)));
  f = i32x4.add(i32x4.add(f, bigS1(c)), i32x4.add(v128.bitselect(d, e, c), i32x4.add(i32x4.splat(0x0fc19dc6), w2)));
  b = i32x4.add(b, f);
  f = i32x4.add(i32x4.add(f, bigS0(g)), v128.bitselect(h, g, v128.xor(g, a)));
  w3 = i32x4.add(i32x4.add(w3, s0(w4)), i32x4.add(w12, s1(w1)));
  e = i32x4.add(i32x4.add(e, bigS1(b)), i32x4.add(v128.bitselect(c, d, b), i32x4.add(i32x4.splat(0x240ca1cc), w3)));
  a = i32x4.add(a, e);
  e = i32x4.add(i32x4.add(e, bigS0(f)), v128.bitselect(g, f, v128.xor(f, h)));
  w4 = i32x4.add(i32x4.add(w4, s0(w5)), i32x4.add(w13, s1(w2)));
  d = i32x4.add(i32x4.add(d, bigS1(a)), i32x4.add(v128.bitselect(b, c, a), i32x4.add(i32x4.splat(0x2de92c6f), w4)));
  h = i32x4.add(h, d);
  d = i32x4.add(i32x4.add(d, bigS0(e)), v128.bitselect(f, e, v128.xor(e, g)));
  w5 = i32x4.add(i32x4.add(w5, s0(w6)), i32x4.add(w14, s1(w3)));
  c = i32x4.add(i32x4.add(c, bigS1(h)), i32x4.add(v128.bitselect(a, b, h), i32x4.add(i32x4.splat(0x4a7484aa), w5)));
  g = i32x4.add(g, c);
  c = i32x4.add(i32x4.add(c, bigS0(d)), v128.bitselect(e, d, v128.xor(d, f)));
  w6 = i32x4.add(i32x4.add(w6, s0(w7)), i32x4.add(w15, s1(w4)));
  b = i32x4.add(i32x4.add(b, bigS1(g)), i32x4.add(v128.bitselect(h, a, g), i32x4.add(i32x4.splat(0x5cb0a9dc), w6)));
  f = i32x4.add(f, b);
  b = i32x4.add(i32x4.add(b, bigS0(c)), v128.bitselect(d, c, v128.xor(c, e)));
  w7 = i32x4.add(i32x4.add(w7, s0(w8)), i32x4.add(w0, s1(w5)));
  a = i32x4.add(i32x4.add(a, bigS1(f)), i32x4.add(v128.bitselect(g, h, f), i32x4.add(i32x4.splat(0x76f988da), w7)));
  e = i32x4.add(e, a);
  a = i32x4.add(i32x4.add(a, bigS0(b)), v128.bitselect(c, b, v128.xor(b, d)));
  w8 = i32x4.add(i32x4.add(w8, s0(w9)), i32x4.add(w1, s1(w6)));
  h = i32x4.add(i32x4.add(h, bigS1(e)), i32x4.add(v128.bitselect(f, g, e), i32x4.add(i32x4.splat(0x983e5152), w8)));
  d = i32x4.add(d, h);
  h = i32x4.add(i32x4.add(h, bigS0(a)), v128.bitselect(b, a, v128.xor(a, c)));
  w9 = i32x4.add(i32x4.add(w9, s0(w10)), i32x4.add(w2, s1(w7)));
  g = i32x4.add(i32x4.add(g, bigS1(d)), i32x4.add(v128.bitselect(e, f, d), i32x4.add(i32x4.splat(0xa831c66d), w9)));
  c = i32x4.add(c, g);
  g = i32x4.add(i32x4.add(g, bigS0(h)), v128.bitselect(a, h, v128.xor(h, b)));
  w10 = i32x4.add(i32x4.add(w10, s0(w11)), i32x4.add(w3, s1(w8)));
  f = i32x4.add(i32x4.add(f, bigS1(c)), i32x4.add(v128.bitselect(d, e, c), i32x4.add(i32x4.splat(0xb00327c8), w10)));
  b = i32x4.add(b, f);
  f = i32x4.add(i32x4.add(f, bigS0(g)), v128.bitselect(h, g, v128.xor(g, a)));
  w11 = i32x4.add(i32x4.add(w11, s0(w12)), i32x4.add(w4, s1(w9)));
  e = i32x4.add(i32x4.add(e, bigS1(b)), i32x4.add(v128.bitselect(c, d, b), i32x4.add(i32x4.splat(0xbf597fc7), w11)));
  a = i32x4.add(a, e);
  e = i32x4.add(i32x4.add(e, bigS0(f)), v128.bitselect(g, f, v128.xor(f, h)));
  w12 = i32x4.add(i32x4.add(w12, s0(w13)), i32x4.add(w5, s1(w10)));
  d = i32x4.add(i32x4.add(d, bigS1(a)), i32x4.add(v128.bitselect(b, c, a), i32x4.add(i32x4.splat(0xc6e00bf3), w12)));
  h = i32x4.add(h, d);
  d = i32x4.add(i32x4.add(d, bigS0(e)), v128.bitselect(f, e, v128.xor(e, g)));
  w13 = i32x4.add(i32x4.add(w13, s0(w14)), i32x4.add(w6, s1(w11)));
  c = i32x4.add(i32x4.add(c, bigS1(h)), i32x4.add(v128.bitselect(a, b, h), i32x4.add(i32x4.splat(0xd5a79147), w13)));
  g = i32x4.add(g, c);
  c = i32x4.add(i32x4.add(c, bigS0(d)), v128.bitselect(e, d, v128.xor(d, f)));
  w14 = i32x4.add(i32x4.add(w14, s0(w15)), i32x4.add(w7, s1(w12)));
  b = i32x4.add(i32x4.add(b, bigS1(g)), i32x4.add(v128.bitselect(h, a, g), i32x4.add(i32x4.splat(0x06ca6351), w14)));
  f = i32x4.add(f, b);
  b = i32x4.add(i32x4.add(b, bigS0(c)), v128.bitselect(d, c, v128.xor(c, e)));
  w15 = i32x4.add(i32x4.add(w15, s0(w0)), i32x4.add(w8, s1(w13)));
  a = i32x4.add(i32x4.add(a, bigS1(f)), i32x4.add(v128.bitselect(g, h, f), i32x4.add(i32x4.splat(0x14292967), w15)));
  e = i32x4.add(e, a);
  a = i32x4.add(i32x4.add(a, bigS0(b)), v128.bitselect(c, b, v128.xor(b, d)));
  w0 = i32x4.add(i32x4.add(w0, s0(w1)), i32x4.add(w9, s1(w14)));
  h = i32x4.add(i32x4.add(h, bigS1(e)), i32x4.add(v128.bitselect(f, g, e), i32x4.add(i32x4.splat(0x27b70a85), w0)));
  d = i32x4.add(d, h);
  h = i32x4.add(i32x4.add(h, bigS0(a)), v128.bitselect(b, a, v128.xor(a, c)));
  w1 = i32x4.add(i32x4.add(w1, s0(w2)), i32x4.add(w10, s1(w15)));
  g = i32x4.add(i32x4.add(g, bigS1(d)), i32x4.add(v128.bitselect(e, f, d), i32x4.add(i32x4.splat(0x2e1b2138), w1)));
  c = i32x4.add(c, g);
  g = i32x4.add(i32x4.add(g, bigS0(h)), v128.bitselect(a, h, v128.xor(h, b)));
  w2 = i32x4.add(i32x4.add(w2, s0(w3)), i32x4.add(w11, s1(w0)));
  f = i32x4.add(i32x4.add(f, bigS1(c)), i32x4.add(v128.bitselect(d, e, c), i32x4.add(i32x4.splat(0x4d2c6dfc), w2)));
  b = i32x4.add(b, f);
  f = i32x4.add(i32x4.add(f, bigS0(g)), v128.bitselect(h, g, v128.xor(g, a)));
  w3 = i32x4.add(i32x4.add(w3, s0(w4)), i32x4.add(w12, s1(w1)));
  e = i32x4.add(i32x4.add(e, bigS1(b)), i32x4.add(v128.bitselect(c, d, b), i32x4.add(i32x4.splat(0x53380d13), w3)));
  a = i32x4.add(a, e);
  e = i32x4.add(i32x4.add(e, bigS0(f)), v128.bitselect(g, f, v128.xor(f, h)));
  w4 = i32x4.add(i32x4.add(w4, s0(w5)), i32x4.add(w13, s1(w2)));
  d = i32x4.add(i32x4.add(d, bigS1(a)), i32x4.add(v128.bitselect(b, c, a), i32x4.add(i32x4.splat(0x650a7354), w4)));
  h = i32x4.add(h, d);
  d = i32x4.add(i32x4.add(d, bigS0(e)), v128.bitselect(f, e, v128.xor(e, g)));
  w5 = i32x4.add(i32x4.add(w5, s0(w6)), i32x4.add(w14, s1(w3)));
  c = i32x4.add(i32x4.add(c, bigS1(h)), i32x4.add(v128.bitselect(a, b, h), i32x4.add(i32x4.splat(0x766a0abb), w5)));
  g = i32x4.add(g, c);
  c = i32x4.add(i32x4.add(c, bigS0(d)), v128.bitselect(e, d, v128.xor(d, f)));
  w6 = i32x4.add(i32x4.add(w6, s0(w7)), i32x4.add(w15, s1(w4)));
  b = i32x4.add(i32x4.add(b, bigS1(g)), i32x4.add(v128.bitselect(h, a, g), i32x4.add(i32x4.splat(0x81c2c92e), w6)));
  f = i32x4.add(f, b);
  b = i32x4.add(i32x4.add(b, bigS0(c)), v128.bitselect(d, c, v128.xor(c, e)));
  w7 = i32x4.add(i32x4.add(w7, s0(w8)), i32x4.add(w0, s1(w5)));
  a = i32x4.add(i32x4.add(a, bigS1(f)), i32x4.add(v128.bitselect(g, h, f), i32x4.add(i32x4.splat(0x92722c85), w7)));
  e = i32x4.add(e, a);
  a = i32x4.add(i32x4.add(a, bigS0(b)), v128.bitselect(c, b, v128.xor(b, d)));
  w8 = i32x4.add(i32x4.add(w8, s0(w9)), i32x4.add(w1, s1(w6)));
  h = i32x4.add(i32x4.add(h, bigS1(e)), i32x4.add(v128.bitselect(f, g, e), i32x4.add(i32x4.splat(0xa2bfe8a1), w8)));
  d = i32x4.add(d, h);
  h = i32x4.add(i32x4.add(h, bigS0(a)), v128.bitselect(b, a, v128.xor(a, c)));
  w9 = i32x4.add(i32x4.add(w9, s0(w10)), i32x4.add(w2, s1(w7)));
  g = i32x4.add(i32x4.add(g, bigS1(d)), i32x4.add(v128.bitselect(e, f, d), i32x4.add(i32x4.splat(0xa81a664b), w9)));
  c = i32x4.add(c, g);
  g = i32x4.add(i32x4.add(g, bigS0(h)), v128.bitselect(a, h, v128.xor(h, b)));
  w10 = i32x4.add(i32x4.add(w10, s0(w11)), i32x4.add(w3, s1(w8)));
  f = i32x4.add(i32x4.add(f, bigS1(c)), i32x4.add(v128.bitselect(d, e, c), i32x4.add(i32x4.splat(0xc24b8b70), w10)));
  b = i32x4.add(b, f);
  f = i32x4.add(i32x4.add(f, bigS0(g)), v128.bitselect(h, g, v128.xor(g, a)));
  w11 = i32x4.add(i32x4.add(w11, s0(w12)), i32x4.add(w4, s1(w9)));
  e = i32x4.add(i32x4.add(e, bigS1(b)), i32x4.add(v128.bitselect(c, d, b), i32x4.add(i32x4.splat(0xc76c51a3), w11)));
  a = i32x4.add(a, e);
  e = i32x4.add(i32x4.add(e, bigS0(f)), v128.bitselect(g, f, v128.xor(f, h)));
  w12 = i32x4.add(i32x4.add(w12, s0(w13)), i32x4.add(w5, s1(w10)));
  d = i32x4.add(i32x4.add(d, bigS1(a)), i32x4.add(v128.bitselect(b, c, a), i32x4.add(i32x4.splat(0xd192e819), w12)));
  h = i32x4.add(h, d);
  d = i32x4.add(i32x4.add(d, bigS0(e)), v128.bitselect(f, e, v128.xor(e, g)));
  w13 = i32x4.add(i32x4.add(w13, s0(w14)), i32x4.add(w6, s1(w11)));
  c = i32x4.add(i32x4.add(c, bigS1(h)), i32x4.add(v128.bitselect(a, b, h), i32x4.add(i32x4.splat(0xd6990624), w13)));
  g = i32x4.add(g, c);
  c = i32x4.add(i32x4.add(c, bigS0(d)), v128.bitselect(e, d, v128.xor(d, f)));
  w14 = i32x4.add(i32x4.add(w14, s0(w15)), i32x4.add(w7, s1(w12)));
  b = i32x4.add(i32x4.add(b, bigS1(g)), i32x4.add(v128.bitselect(h, a, g), i32x4.add(i32x4.splat(0xf40e3585), w14)));
  f = i32x4.add(f, b);
  b = i32x4.add(i32x4.add(b, bigS0(c)), v128.bitselect(d, c, v128.xor(c, e)));
  w15 = i32x4.add(i32x4.add(w15, s0(w0)), i32x4.add(w8, s1(w13)));
  a = i32x4.add(i32x4.add(a, bigS1(f)), i32x4.add(v128.bitselect(g, h, f), i32x4.add(i32x4.splat(0x106aa070), w15)));
  e = i32x4.add(e, a);
  a = i32x4.add(i32x4.add(a, bigS0(b)), v128.bitselect(c, b, v128.xor(b, d)));
  w0 = i32x4.add(i32x4.add(w0, s0(w1)), i32x4.add(w9, s1(w14)));
  h = i32x4.add(i32x4.add(h, bigS1(e)), i32x4.add(v128.bitselect(f, g, e), i32x4.add(i32x4.splat(0x19a4c116), w0)));
  d = i32x4.add(d, h);
  h = i32x4.add(i32x4.add(h, bigS0(a)), v128.bitselect(b, a, v128.xor(a, c)));
  w1 = i32x4.add(i32x4.add(w1, s0(w2)), i32x4.add(w10, s1(w15)));
  g = i32x4.add(i32x4.add(g, bigS1(d)), i32x4.add(v128.bitselect(e, f, d), i32x4.add(i32x4.splat(0x1e376c08), w1)));
  c = i32x4.add(c, g);
  g = i32x4.add(i32x4.add(g, bigS0(h)), v128.bitselect(a, h, v128.xor(h, b)));
  w2 = i32x4.add(i32x4.add(w2, s0(w3)), i32x4.add(w11, s1(w0)));
  f = i32x4.add(i32x4.add(f, bigS1(c)), i32x4.add(v128.bitselect(d, e, c), i32x4.add(i32x4.splat(0x2748774c), w2)));
  b = i32x4.add(b, f);
  f = i32x4.add(i32x4.add(f, bigS0(g)), v128.bitselect(h, g, v128.xor(g, a)));
  w3 = i32x4.add(i32x4.add(w3, s0(w4)), i32x4.add(w12, s1(w1)));
  e = i32x4.add(i32x4.add(e, bigS1(b)), i32x4.add(v128.bitselect(c, d, b), i32x4.add(i32x4.splat(0x34b0bcb5), w3)));
  a = i32x4.add(a, e);
  e = i32x4.add(i32x4.add(e, bigS0(f)), v128.bitselect(g, f, v128.xor(f, h)));
  w4 = i32x4.add(i32x4.add(w4, s0(w5)), i32x4.add(w13, s1(w2)));
  d = i32x4.add(i32x4.add(d, bigS1(a)), i32x4.add(v128.bitselect(b, c, a), i32x4.add(i32x4.splat(0x391c0cb3), w4)));
  h = i32x4.add(h, d);
  d = i32x4.add(i32x4.add(d, bigS0(e)), v128.bitselect(f, e, v128.xor(e, g)));
  w5 = i32x4.add(i32x4.add(w5, s0(w6)), i32x4.add(w14, s1(w3)));
  c = i32x4.add(i32x4.add(c, bigS1(h)), i32x4.add(v128.bitselect(a, b, h), i32x4.add(i32x4.splat(0x4ed8aa4a), w5)));
  g = i32x4.add(g, c);
  c = i32x4.add(i32x4.add(c, bigS0(d)), v128.bitselect(e, d, v128.xor(d, f)));
  w6 = i32x4.add(i32x4.add(w6, s0(w7)), i32x4.add(w15, s1(w4)));
  b = i32x4.add(i32x4.add(b, bigS1(g)), i32x4.add(v128.bitselect(h, a, g), i32x4.add(i32x4.splat(0x5b9cca4f), w6)));
  f = i32x4.add(f, b);
  b = i32x4.add(i32x4.add(b, bigS0(c)), v128.bitselect(d, c, v128.xor(c, e)));
  w7 = i32x4.add(i32x4.add(w7, s0(w8)), i32x4.add(w0, s1(w5)));
  a = i32x4.add(i32x4.add(a, bigS1(f)), i32x4.add(v128.bitselect(g, h, f), i32x4.add(i32x4.splat(0x682e6ff3), w7)));
  e = i32x4.add(e, a);
  a = i32x4.add(i32x4.add(a, bigS0(b)), v128.bitselect(c, b, v128.xor(b, d)));
  w8 = i32x4.add(i32x4.add(w8, s0(w9)), i32x4.add(w1, s1(w6)));
  h = i32x4.add(i32x4.add(h, bigS1(e)), i32x4.add(v128.bitselect(f, g, e), i32x4.add(i32x4.splat(0x748f82ee), w8)));
  d = i32x4.add(d, h);
  h = i32x4.add(i32x4.add(h, bigS0(a)), v128.bitselect(b, a, v128.xor(a, c)));
  w9 = i32x4.add(i32x4.add(w9, s0(w10)), i32x4.add(w2, s1(w7)));
  g = i32x4.add(i32x4.add(g, bigS1(d)), i32x4.add(v128.bitselect(e, f, d), i32x4.add(i32x4.splat(0x78a5636f), w9)));
  c = i32x4.add(c, g);
  g = i32x4.add(i32x4.add(g, bigS0(h)), v128.bitselect(a, h, v128.xor(h, b)));
  w10 = i32x4.add(i32x4.add(w10, s0(w11)), i32x4.add(w3, s1(w8)));
  f = i32x4.add(i32x4.add(f, bigS1(c)), i32x4.add(v128.bitselect(d, e, c), i32x4.add(i32x4.splat(0x84c87814), w10)));
  b = i32x4.add(b, f);
  f = i32x4.add(i32x4.add(f, bigS0(g)), v128.bitselect(h, g, v128.xor(g, a)));
  w11 = i32x4.add(i32x4.add(w11, s0(w12)), i32x4.add(w4, s1(w9)));
  e = i32x4.add(i32x4.add(e, bigS1(b)), i32x4.add(v128.bitselect(c, d, b), i32x4.add(i32x4.splat(0x8cc70208), w11)));
  a = i32x4.add(a, e);
  e = i32x4.add(i32x4.add(e, bigS0(f)), v128.bitselect(g, f, v128.xor(f, h)));
  w12 = i32x4.add(i32x4.add(w12, s0(w13)), i32x4.add(w5, s1(w10)));
  d = i32x4.add(i32x4.add(d, bigS1(a)), i32x4.add(v128.bitselect(b, c, a), i32x4.add(i32x4.splat(0x90befffa), w12)));
  h = i32x4.add(h, d);
  d = i32x4.add(i32x4.add(d, bigS0(e)), v128.bitselect(f, e, v128.xor(e, g)));
  w13 = i32x4.add(i32x4.add(w13, s0(w14)), i32x4.add(w6, s1(w11)));
  c = i32x4.add(i32x4.add(c, bigS1(h)), i32x4.add(v128.bitselect(a, b, h), i32x4.add(i32x4.splat(0xa4506ceb), w13)));
  g = i32x4.add(g, c);
  c = i32x4.add(i32x4.add(c, bigS0(d)), v128.bitselect(e, d, v128.xor(d, f)));
  w14 = i32x4.add(i32x4.add(w14, s0(w15)), i32x4.add(w7, s1(w12)));
  b = i32x4.add(i32x4.add(b, bigS1(g)), i32x4.add(v128.bitselect(h, a, g), i32x4.add(i32x4.splat(0xbef9a3f7), w14)));
  f = i32x4.add(f, b);
  b = i32x4.add(i32x4.add(b, bigS0(c)), v128.bitselect(d, c, v128.xor(c, e)));
  w15 = i32x4.add(i32x4.add(w15, s0(w0)), i32x4.add(w8, s1(w13)));
  a = i32x4.add(i32x4.add(a, bigS1(f)), i32x4.add(v128.bitselect(g, h, f), i32x4.add(i32x4.splat(0xc67178f2), w15)));
  e = i32x4.add(e, a);
  a = i32x4.add(i32x4.add(a, bigS0(b)), v128.bitselect(c, b, v128.xor(b, d)));
  a = i32x4.add(a, a0);
  b = i32x4.add(b, b0v);
  c = i32x4.add(c, c0);
  d = i32x4.add(d, d0);
  e = i32x4.add(e, e0);
  f = i32x4.add(f, f0);
  g = i32x4.add(g, g0);
  h = i32x4.add(h, h0);
  // Back to one state per lane (the transpose is its own inverse); lanes that share a
  // state write the same words.
  transpose(a, b, c, d);
  const l0 = v128.load(T, 0);
  const l1 = v128.load(T, 16);
  const l2 = v128.load(T, 32);
  const l3 = v128.load(T, 48);
  transpose(e, f, g, h);
  v128.store(s0p, l0);
  v128.store(s1p, l1);
  v128.store(s2p, l2);
  v128.store(s3p, l3);
  v128.store(s0p, v128.load(T, 0), 16);
  v128.store(s1p, v128.load(T, 16), 16);
  v128.store(s2p, v128.load(T, 32), 16);
  v128.store(s3p, v128.load(T, 48), 16);
}
