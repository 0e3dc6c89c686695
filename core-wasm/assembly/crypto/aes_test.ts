/**
 * AES-128 and AES-128-GCM in wasm against the FIPS 197 vector and node:crypto on random
 * keys, nonces, AAD and lengths (every length around the 16-byte block edges), plus tag
 * rejection for every kind of tampering.
 */
import { createCipheriv } from "node:crypto";
import { assert, assertEquals } from "../../../lib/testing.ts";
import { compileAs, get, hex, put, randomBytes, seeded, unhex } from "./wasm_test_util.ts";

const wasm = await compileAs(new URL("./test_entry.ts", import.meta.url));
const CTX_BYTES: number = wasm.GCM_CTX_BYTES.value;

// Scratch layout: key, block, round keys / GCM context, nonce, tag, AAD, data, output.
const base = wasm.scratch();
const KEY = base;
const BLOCK = base + 16;
const CTX = base + 64;
const NONCE = CTX + 2 * CTX_BYTES + 16;
const TAG = NONCE + 16;
const AAD = TAG + 16;
const DATA = AAD + 1024;
const OUT = DATA + 4096;

function aesBlock(key: Uint8Array, block: Uint8Array): string {
  put(wasm, KEY, key);
  put(wasm, BLOCK, block);
  wasm.aes128ExpandKey(KEY, CTX);
  wasm.aes128EncryptBlock(CTX, BLOCK, OUT);
  return hex(get(wasm, OUT, 16));
}

Deno.test("aes128 encrypts the FIPS 197 Appendix C.1 example", () => {
  assertEquals(
    aesBlock(unhex("000102030405060708090a0b0c0d0e0f"), unhex("00112233445566778899aabbccddeeff")),
    "69c4e0d86a7b0430d8cdb78070b4c55a",
  );
});

Deno.test("aes128 matches node:crypto aes-128-ecb on random keys and blocks", () => {
  const next = seeded(0xae5);
  for (let i = 0; i < 500; i++) {
    const key = randomBytes(next, 16);
    const block = randomBytes(next, 16);
    const c = createCipheriv("aes-128-ecb", key, null).setAutoPadding(false);
    const want = hex(new Uint8Array(c.update(block)));
    assertEquals(aesBlock(key, block), want, `case ${i}`);
  }
});

Deno.test("aes128 block output may alias its input", () => {
  const key = unhex("000102030405060708090a0b0c0d0e0f");
  put(wasm, KEY, key);
  put(wasm, BLOCK, unhex("00112233445566778899aabbccddeeff"));
  wasm.aes128ExpandKey(KEY, CTX);
  wasm.aes128EncryptBlock(CTX, BLOCK, BLOCK);
  assertEquals(hex(get(wasm, BLOCK, 16)), "69c4e0d86a7b0430d8cdb78070b4c55a");
});

interface Sealed {
  key: Uint8Array;
  nonce: Uint8Array;
  aad: Uint8Array;
  plain: Uint8Array;
  ct: Uint8Array;
  tag: Uint8Array;
}

function seal(next: () => number, aadLen: number, len: number): Sealed {
  const key = randomBytes(next, 16);
  const nonce = randomBytes(next, 12);
  const aad = randomBytes(next, aadLen);
  const plain = randomBytes(next, len);
  const c = createCipheriv("aes-128-gcm", key, nonce);
  c.setAAD(aad);
  const ct = new Uint8Array(Buffer.concat([c.update(plain), c.final()]));
  return { key, nonce, aad, plain, ct, tag: new Uint8Array(c.getAuthTag()) };
}

/** Copies `s` into the scratch layout and keys the GCM context with its key. */
function load(s: Sealed): void {
  put(wasm, KEY, s.key);
  put(wasm, NONCE, s.nonce);
  put(wasm, AAD, s.aad);
  put(wasm, DATA, s.ct);
  put(wasm, TAG, s.tag);
  wasm.gcmInit(CTX, KEY);
}

/** Runs gcmDecrypt on `s` (in place when `inPlace`); returns the plaintext or null. */
function open(s: Sealed, inPlace = false): Uint8Array | null {
  load(s);
  const out = inPlace ? DATA : OUT;
  const ok = wasm.gcmDecrypt(CTX, NONCE, AAD, s.aad.length, DATA, s.ct.length, TAG, out);
  return ok ? get(wasm, out, s.ct.length) : null;
}

Deno.test("gcm context size is round keys plus H", () => {
  assertEquals(CTX_BYTES, 176 + 16);
});

Deno.test("contexts of different keys interleave correctly (the shared GHASH table follows H)", () => {
  const next = seeded(0x2c7);
  const a = seal(next, 20, 300);
  const b = seal(next, 20, 300);
  const CTX_B = CTX + CTX_BYTES;
  const open2 = (s: Sealed, ctx: number) => {
    put(wasm, NONCE, s.nonce);
    put(wasm, AAD, s.aad);
    put(wasm, DATA, s.ct);
    put(wasm, TAG, s.tag);
    return wasm.gcmDecrypt(ctx, NONCE, AAD, s.aad.length, DATA, s.ct.length, TAG, OUT);
  };
  put(wasm, KEY, a.key);
  wasm.gcmInit(CTX, KEY);
  put(wasm, KEY, b.key);
  wasm.gcmInit(CTX_B, KEY);
  for (const [s, ctx] of [[a, CTX], [b, CTX_B], [a, CTX], [a, CTX], [b, CTX_B]] as const) {
    assertEquals(open2(s, ctx), 1);
    assertEquals(hex(get(wasm, OUT, s.ct.length)), hex(s.plain));
  }
  assertEquals(open2(a, CTX_B), 0, "a packet under the other key's context must fail");
});

Deno.test("gcmDecrypt opens node:crypto aes-128-gcm output for every AAD/data length edge", () => {
  const next = seeded(0x6c3);
  const aadLens = [0, 1, 15, 16, 17, 20, 31, 32, 33, 47];
  for (let len = 0; len <= 70; len++) {
    const s = seal(next, aadLens[len % aadLens.length], len);
    const got = open(s);
    assert(got !== null, `tag rejected for len ${len}`);
    assertEquals(hex(got), hex(s.plain), `len ${len}`);
  }
});

Deno.test("gcmDecrypt around the two-blocks-per-step GHASH threshold (512 B) and odd tails", () => {
  const next = seeded(0x51a);
  for (const len of [495, 496, 497, 511, 512, 513, 527, 528, 529, 543, 544, 545, 1201]) {
    const s = seal(next, next() % 48, len);
    assertEquals(hex(open(s) ?? new Uint8Array()), hex(s.plain), `len ${len}`);
  }
});

Deno.test("long packets of interleaved keys: the H^2 table follows H too", () => {
  const next = seeded(0x9e1);
  const a = seal(next, 20, 1200);
  const b = seal(next, 20, 1200);
  const CTX_B = CTX + CTX_BYTES;
  put(wasm, KEY, a.key);
  wasm.gcmInit(CTX, KEY);
  put(wasm, KEY, b.key);
  wasm.gcmInit(CTX_B, KEY);
  for (const [s, ctx] of [[a, CTX], [b, CTX_B], [b, CTX_B], [a, CTX], [b, CTX_B]] as const) {
    put(wasm, NONCE, s.nonce);
    put(wasm, AAD, s.aad);
    put(wasm, DATA, s.ct);
    put(wasm, TAG, s.tag);
    assertEquals(wasm.gcmDecrypt(ctx, NONCE, AAD, 20, DATA, s.ct.length, TAG, OUT), 1);
    assertEquals(hex(get(wasm, OUT, s.ct.length)), hex(s.plain));
  }
  // A short packet rebuilds only TABLE; the next long one must not reuse a stale H^2.
  const c = seal(next, 20, 40);
  const d = seal(next, 20, 1200);
  for (const s of [c, d]) {
    assertEquals(hex(open(s) ?? new Uint8Array()), hex(s.plain));
  }
});

Deno.test("gcmDecrypt opens QUIC-sized packets, also in place", () => {
  const next = seeded(0x9001);
  for (const len of [1162, 1182, 1200, 1232, 1350, 1452, 2048, 4000]) {
    const s = seal(next, 20 + (next() % 40), len);
    assertEquals(hex(open(s) ?? new Uint8Array()), hex(s.plain), `len ${len}`);
    assertEquals(hex(open(s, true) ?? new Uint8Array()), hex(s.plain), `in place, len ${len}`);
  }
});

Deno.test("gcmDecrypt rejects a flipped bit in tag, ciphertext, AAD, nonce or key", () => {
  const next = seeded(0xbad);
  for (let i = 0; i < 40; i++) {
    const s = seal(next, 1 + (next() % 40), 1 + (next() % 300));
    const flip = (b: Uint8Array) => {
      const c = b.slice();
      c[next() % c.length] ^= 1 << (next() % 8);
      return c;
    };
    assertEquals(open({ ...s, tag: flip(s.tag) }), null, "tag");
    assertEquals(open({ ...s, ct: flip(s.ct) }), null, "ciphertext");
    assertEquals(open({ ...s, aad: flip(s.aad) }), null, "aad");
    assertEquals(open({ ...s, nonce: flip(s.nonce) }), null, "nonce");
    assertEquals(open({ ...s, key: flip(s.key) }), null, "key");
  }
});

Deno.test("gcmDecrypt writes nothing when the tag fails", () => {
  const next = seeded(0x5afe);
  const s = seal(next, 16, 64);
  new Uint8Array(wasm.memory.buffer, OUT, 64).fill(0xee);
  const bad = s.tag.slice();
  bad[0] ^= 0x80;
  assertEquals(open({ ...s, tag: bad }), null);
  assertEquals(hex(get(wasm, OUT, 64)), "ee".repeat(64));
});

Deno.test("gcmCtr equals node:crypto aes-128-ctr across runs of 256 counters, from any aligned start", () => {
  // Counter mode caches the first two rounds per run of 256 counters (the counter's last
  // byte); these ranges start and end on either side of every run boundary they cross.
  const next = seeded(0xc7a);
  const BIG_IN = base + 32768;
  const BIG_OUT = base + 65536;
  const len = 16 * 700 + 9;
  const key = randomBytes(next, 16);
  const nonce = randomBytes(next, 12);
  const plain = randomBytes(next, len);
  const iv = new Uint8Array([...nonce, 0, 0, 0, 2]); // GCM data starts at counter 2
  const c = createCipheriv("aes-128-ctr", key, iv);
  const ct = new Uint8Array(Buffer.concat([c.update(plain), c.final()]));
  put(wasm, KEY, key);
  put(wasm, NONCE, nonce);
  put(wasm, BIG_IN, ct);
  wasm.gcmInit(CTX, KEY);
  const ranges = [[0, len], [16 * 253, 16 * 260 + 5], [16 * 254, 16 * 513], [16 * 255, 16 * 256]];
  for (const [from, to] of ranges) {
    new Uint8Array(wasm.memory.buffer, BIG_OUT, len).fill(0);
    wasm.gcmCtr(CTX, NONCE, BIG_IN, from, to, BIG_OUT);
    assertEquals(
      hex(get(wasm, BIG_OUT + from, to - from)),
      hex(plain.slice(from, to)),
      `${from}..${to}`,
    );
  }
});

Deno.test("gcmVerify then gcmCtr in 16-aligned pieces decrypts exactly like one pass", () => {
  const next = seeded(0x1a2);
  for (let i = 0; i < 30; i++) {
    const s = seal(next, 20 + (next() % 30), 1 + (next() % 1500));
    load(s);
    assertEquals(wasm.gcmVerify(CTX, NONCE, AAD, s.aad.length, DATA, s.ct.length, TAG), 1);
    // Decrypt in place, front to back, in random 16-aligned steps.
    let done = 0;
    while (done < s.ct.length) {
      const to = Math.min(s.ct.length, done + 16 * (1 + (next() % 8)));
      wasm.gcmCtr(CTX, NONCE, DATA, done, to, DATA);
      done = to;
    }
    assertEquals(hex(get(wasm, DATA, s.ct.length)), hex(s.plain), `case ${i}`);
  }
});

Deno.test("gcmCtr ignores a start that is not 16-aligned or an empty range", () => {
  new Uint8Array(wasm.memory.buffer, OUT, 48).fill(0x11);
  wasm.gcmCtr(CTX, NONCE, OUT, 5, 40, OUT);
  wasm.gcmCtr(CTX, NONCE, OUT, 32, 32, OUT);
  assertEquals(hex(get(wasm, OUT, 48)), "11".repeat(48));
});
