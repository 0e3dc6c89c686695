/**
 * SHA-256, MD5, HMAC-SHA256 and HKDF in wasm, compared with node:crypto on random inputs
 * of many lengths (every length around the 55/56/64-byte padding edges, then larger ones),
 * plus the RFC 9001 Appendix A.1 key-derivation vectors.
 */
import { createHash, createHmac, hkdfSync } from "node:crypto";
import { assert, assertEquals } from "../../../lib/testing.ts";
import {
  compileAs,
  get,
  hex,
  put,
  randomBytes,
  SCRATCH_BYTES,
  seeded,
  unhex,
} from "./wasm_test_util.ts";

const wasm = await compileAs(new URL("./test_entry.ts", import.meta.url));
const enc = new TextEncoder();

/** Lengths covering every padding edge case, then block multiples ± 1 and a large input. */
function lengths(): number[] {
  const out: number[] = [];
  for (let n = 0; n <= 200; n++) out.push(n);
  for (const n of [255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025, 4095, 4096, 65_000]) {
    out.push(n);
  }
  return out;
}

function wasmDigest(fn: string, data: Uint8Array, outLen: number): string {
  const base = wasm.scratch();
  const out = base + SCRATCH_BYTES - 64;
  put(wasm, base, data);
  wasm[fn](base, data.length, out);
  return hex(get(wasm, out, outLen));
}

Deno.test("sha256 matches the FIPS 180-4 examples", () => {
  assertEquals(
    wasmDigest("sha256", enc.encode("abc"), 32),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assertEquals(
    wasmDigest("sha256", new Uint8Array(0), 32),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assertEquals(
    wasmDigest(
      "sha256",
      enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      32,
    ),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

Deno.test("sha256 matches node:crypto on random inputs of every length 0..200 and more", () => {
  const next = seeded(0x5a256);
  for (const n of lengths()) {
    const data = randomBytes(next, n);
    const want = createHash("sha256").update(data).digest("hex");
    assertEquals(wasmDigest("sha256", data, 32), want, `length ${n}`);
  }
});

Deno.test("sha256 output may alias its input", () => {
  const data = enc.encode("alias me please");
  const p = put(wasm, wasm.scratch(), data);
  wasm.sha256(p, data.length, p);
  assertEquals(hex(get(wasm, p, 32)), createHash("sha256").update(data).digest("hex"));
});

Deno.test("sha256Compress4: each lane equals the one-block compression, shared lanes too", () => {
  const next = seeded(0x4c4e5);
  const base = wasm.scratch();
  // Four states (32 bytes each) then four blocks (64 bytes each), random.
  const states = base;
  const blocks = base + 128;
  const want = base + 4096;
  for (let round = 0; round < 200; round++) {
    put(wasm, states, randomBytes(next, 128));
    put(wasm, blocks, randomBytes(next, 256));
    // Lane choice: all four distinct, or lanes repeating another's arguments.
    const lanes = round % 3 === 0 ? [0, 1, 2, 3] : round % 3 === 1 ? [0, 1, 0, 1] : [2, 2, 2, 2];
    const distinct = [...new Set(lanes)];
    for (const l of distinct) {
      put(wasm, want + 32 * l, get(wasm, states + 32 * l, 32));
      wasm.sha256CompressAt(want + 32 * l, blocks + 64 * l);
    }
    wasm.sha256Compress4(
      ...lanes.flatMap((l) => [states + 32 * l, blocks + 64 * l]),
    );
    for (const l of distinct) {
      assertEquals(
        hex(get(wasm, states + 32 * l, 32)),
        hex(get(wasm, want + 32 * l, 32)),
        `round ${round}, lane ${l}`,
      );
    }
  }
});

Deno.test("md5 matches the RFC 1321 test suite", () => {
  const suite: [string, string][] = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    [
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
      "57edf4a22be3c955ac49da2e2107b67a",
    ],
  ];
  for (const [input, want] of suite) {
    assertEquals(wasmDigest("md5", enc.encode(input), 16), want, JSON.stringify(input));
  }
});

Deno.test("md5 matches node:crypto on random inputs of every length 0..200 and more", () => {
  const next = seeded(0x3d5);
  for (const n of lengths()) {
    const data = randomBytes(next, n);
    const want = createHash("md5").update(data).digest("hex");
    assertEquals(wasmDigest("md5", data, 16), want, `length ${n}`);
  }
});

Deno.test("md5 of a JA3 string matches node:crypto", () => {
  const ja3 =
    "771,4865-4866-4867-49195-49199,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0";
  assertEquals(
    wasmDigest("md5", enc.encode(ja3), 16),
    createHash("md5").update(ja3).digest("hex"),
  );
});

Deno.test("hmac-sha256 matches node:crypto for keys shorter than, equal to and longer than a block", () => {
  const next = seeded(0x4ac);
  const base = wasm.scratch();
  for (const keyLen of [0, 1, 20, 32, 63, 64, 65, 100, 131]) {
    for (const msgLen of [0, 1, 55, 56, 64, 100, 300]) {
      const key = randomBytes(next, keyLen);
      const msg = randomBytes(next, msgLen);
      put(wasm, base, key);
      put(wasm, base + 1024, msg);
      wasm.hmacSha256(base, keyLen, base + 1024, msgLen, base + 4096);
      const want = createHmac("sha256", key).update(msg).digest("hex");
      assertEquals(hex(get(wasm, base + 4096, 32)), want, `key ${keyLen} msg ${msgLen}`);
    }
  }
});

Deno.test("hkdf extract + expand match node:crypto hkdfSync, including multi-block output", () => {
  const next = seeded(0x4bdf);
  const base = wasm.scratch();
  for (const outLen of [1, 12, 16, 32, 33, 64, 100, 255]) {
    const salt = randomBytes(next, 20);
    const ikm = randomBytes(next, 8 + (next() % 13));
    const info = randomBytes(next, next() % 40);
    put(wasm, base, salt);
    put(wasm, base + 256, ikm);
    put(wasm, base + 512, info);
    wasm.hkdfExtract(base, salt.length, base + 256, ikm.length, base + 1024);
    const ok = wasm.hkdfExpand(base + 1024, 32, base + 512, info.length, base + 2048, outLen);
    assertEquals(ok, 1);
    const want = new Uint8Array(hkdfSync("sha256", ikm, salt, info, outLen));
    assertEquals(hex(get(wasm, base + 2048, outLen)), hex(want), `L=${outLen}`);
  }
});

Deno.test("hkdfExpand refuses an output longer than 255 hash lengths", () => {
  const base = wasm.scratch();
  assertEquals(wasm.hkdfExpand(base, 32, base, 0, base + 1024, 255 * 32 + 1), 0);
});

/** HKDF-Expand-Label through the wasm; label without the "tls13 " prefix. */
function expandLabel(secret: Uint8Array, label: string, outLen: number): string {
  const base = wasm.scratch();
  put(wasm, base, secret);
  put(wasm, base + 64, enc.encode(label));
  const ok = wasm.hkdfExpandLabel(
    base,
    secret.length,
    base + 64,
    label.length,
    0,
    0,
    base + 512,
    outLen,
  );
  assertEquals(ok, 1, `expand-label ${label}`);
  return hex(get(wasm, base + 512, outLen));
}

Deno.test("RFC 9001 A.1: initial secrets and client/server keys for DCID 8394c8f03e515708", () => {
  const base = wasm.scratch();
  const salt = unhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
  const dcid = unhex("8394c8f03e515708");
  put(wasm, base, salt);
  put(wasm, base + 64, dcid);
  wasm.hkdfExtract(base, salt.length, base + 64, dcid.length, base + 128);
  const initial = get(wasm, base + 128, 32);
  assertEquals(hex(initial), "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44");

  const client = expandLabel(initial, "client in", 32);
  assertEquals(client, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
  const server = expandLabel(initial, "server in", 32);
  assertEquals(server, "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b");

  assertEquals(expandLabel(unhex(client), "quic key", 16), "1f369613dd76d5467730efcbe3b1a22d");
  assertEquals(expandLabel(unhex(client), "quic iv", 12), "fa044b2f42a3fd3b46fb255c");
  assertEquals(expandLabel(unhex(client), "quic hp", 16), "9f50449e04a0e810283a1e9933adedd2");
  assertEquals(expandLabel(unhex(server), "quic key", 16), "cf3a5331653c364c88f0f379b6067e37");
  assertEquals(expandLabel(unhex(server), "quic iv", 12), "0ac1493ca1905853b0bba03e");
  assertEquals(expandLabel(unhex(server), "quic hp", 16), "c206b8d9b9f0f37644430b490eeaa314");
});

Deno.test("one-block HMAC (32-byte key, message ≤ 55 bytes after the key block) equals node:crypto", () => {
  const next = seeded(0x1b10c);
  const base = wasm.scratch();
  const KEY = base, SAVED = base + 64, MSG = base + 256, BLOCK = base + 512, OUT = base + 1024;
  for (let msgLen = 0; msgLen <= 55; msgLen++) {
    const key = randomBytes(next, 32);
    const msg = randomBytes(next, msgLen);
    put(wasm, KEY, key);
    put(wasm, MSG, msg);
    wasm.hmacSha256Key32(KEY, SAVED);
    assertEquals(wasm.sha256LastBlock(MSG, msgLen, 64n, BLOCK), 1);
    wasm.hmacSha256Block(SAVED, BLOCK, OUT);
    const want = createHmac("sha256", key).update(msg).digest("hex");
    assertEquals(hex(get(wasm, OUT, 32)), want, `msg ${msgLen}`);
  }
  assertEquals(wasm.sha256LastBlock(MSG, 56, 64n, BLOCK), 0, "56 bytes do not fit one block");
  assertEquals(wasm.sha256LastBlock(MSG, -1, 64n, BLOCK), 0);
});

Deno.test("four-lane HMAC keying and one-block MACs equal node:crypto, lanes repeated too", () => {
  const next = seeded(0x4a11);
  const base = wasm.scratch();
  const K = base, SAVED = base + 128, MSG = base + 256, BLOCK = base + 512, OUT = base + 1024;
  for (let round = 0; round < 60; round++) {
    const keys = [randomBytes(next, 32), randomBytes(next, 32)];
    put(wasm, K, keys[0]);
    put(wasm, K + 32, keys[1]);
    const same = round % 4 === 0; // both lanes keyed with the same key
    wasm.hmacSha256Key32x2(K, SAVED, same ? K : K + 32, SAVED + 64);
    const msgs = [0, 1, 2, 3].map((i) => randomBytes(next, (round * 7 + i * 13) % 56));
    msgs.forEach((m, i) => {
      put(wasm, MSG + 64 * i, m);
      assertEquals(wasm.sha256LastBlock(MSG + 64 * i, m.length, 64n, BLOCK + 64 * i), 1);
    });
    // Lane i: key (i & 1), message i; on odd rounds lane 3 repeats lane 0.
    const lane = (i: number) => (round % 2 === 1 && i === 3 ? 0 : i);
    wasm.hmacSha256Block4(
      ...[0, 1, 2, 3].flatMap((i) => [
        SAVED + 64 * (lane(i) & 1),
        BLOCK + 64 * lane(i),
        OUT + 32 * lane(i),
      ]),
    );
    for (const i of new Set([0, 1, 2, 3].map(lane))) {
      const key = same ? keys[0] : keys[i & 1];
      const want = createHmac("sha256", key).update(msgs[i]).digest("hex");
      assertEquals(hex(get(wasm, OUT + 32 * i, 32)), want, `round ${round}, lane ${i}`);
    }
  }
});

Deno.test("hkdfExpandLabelBlock + one-block HMAC equal hkdfExpandLabel (RFC 9001 A.1 client key)", () => {
  const base = wasm.scratch();
  // Clear of the scratch that expandLabel (the streaming reference) uses below base + 1024.
  const SECRET = base + 2048, SAVED = base + 2112, LABEL = base + 2304, BLOCK = base + 2560;
  const OUT = base + 3072;
  const client = unhex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
  put(wasm, SECRET, client);
  wasm.hmacSha256Key32(SECRET, SAVED);
  for (
    const [label, len] of [["quic key", 16], ["quic iv", 12], ["quic hp", 16], [
      "client in",
      32,
    ]] as const
  ) {
    put(wasm, LABEL, enc.encode(label));
    assertEquals(wasm.hkdfExpandLabelBlock(LABEL, label.length, len, BLOCK), 1);
    wasm.hmacSha256Block(SAVED, BLOCK, OUT);
    assertEquals(hex(get(wasm, OUT, len)), expandLabel(client, label, len), label);
  }
  put(wasm, LABEL, enc.encode("quic key"));
  wasm.hkdfExpandLabelBlock(LABEL, 8, 16, BLOCK);
  wasm.hmacSha256Block(SAVED, BLOCK, OUT);
  assertEquals(hex(get(wasm, OUT, 16)), "1f369613dd76d5467730efcbe3b1a22d");
  assertEquals(wasm.hkdfExpandLabelBlock(LABEL, 45, 16, BLOCK), 0, "label too long for one block");
  assertEquals(wasm.hkdfExpandLabelBlock(LABEL, 8, 33, BLOCK), 0, "more than one output block");
  assertEquals(wasm.hkdfExpandLabelBlock(LABEL, 8, 0, BLOCK), 0);
});

Deno.test("hkdfExpandLabel rejects labels and contexts that do not fit the HkdfLabel structure", () => {
  const base = wasm.scratch();
  assertEquals(wasm.hkdfExpandLabel(base, 32, base, 250, 0, 0, base + 1024, 16), 0);
  assertEquals(wasm.hkdfExpandLabel(base, 32, base, 5, base, 256, base + 1024, 16), 0);
});

Deno.test("sha256Cached/md5Cached equal the plain digests across hits, misses and evictions", () => {
  const next = seeded(0x3e30);
  // 3000 distinct inputs (more than the 2048 entries, so sets overflow and evict) drawn
  // again and again; lengths include 0 and the 464-byte cache limit ± 1.
  const inputs = Array.from({ length: 3000 }, (_, i) => {
    const n = i < 3 ? [0, 464, 465][i] : next() % 400;
    return randomBytes(next, n);
  });
  for (let round = 0; round < 8000; round++) {
    const data = inputs[round < 3000 ? round : next() % inputs.length];
    assertEquals(
      wasmDigest("sha256Cached", data, 32),
      createHash("sha256").update(data).digest("hex"),
      `sha256Cached length ${data.length}`,
    );
    assertEquals(
      wasmDigest("md5Cached", data, 16),
      createHash("md5").update(data).digest("hex"),
      `md5Cached length ${data.length}`,
    );
  }
});

Deno.test("the memo keeps a working set of 600 inputs: after the first pass ≥ 99% hits", () => {
  // A direct-mapped table of the same size would miss on about half of these (any two live
  // inputs sharing a slot evict each other on every pass).
  const next = seeded(0x600);
  const inputs = Array.from({ length: 600 }, () => randomBytes(next, 60 + (next() % 240)));
  const first = inputs.map((d) => wasmDigest("sha256Cached", d, 32));
  const hits0 = wasm.memoHits();
  const misses0 = wasm.memoMisses();
  for (let pass = 0; pass < 3; pass++) {
    inputs.forEach((d, i) => assertEquals(wasmDigest("sha256Cached", d, 32), first[i]));
  }
  const hits = wasm.memoHits() - hits0;
  const misses = wasm.memoMisses() - misses0;
  assertEquals(hits + misses, 1800);
  assert(misses <= 1800 * 0.01, `${misses} misses in 1800 repeated lookups`);
});

Deno.test("sha256Cached tells apart inputs that differ only in their last byte", () => {
  const a = enc.encode(
    "1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035",
  );
  const b = a.slice();
  b[b.length - 1] ^= 1;
  for (const data of [a, b, a, b]) {
    assertEquals(
      wasmDigest("sha256Cached", data, 32),
      createHash("sha256").update(data).digest("hex"),
    );
  }
});

Deno.test("the memo tells apart inputs that differ in any single byte, for every length edge", () => {
  const next = seeded(0xb17e);
  for (const n of [1, 7, 8, 9, 15, 16, 17, 31, 33, 100]) {
    const base = randomBytes(next, n);
    // Prime the cache with the base input, then every one-byte variant must not hit it.
    wasmDigest("sha256Cached", base, 32);
    wasmDigest("md5Cached", base, 16);
    for (let i = 0; i < n; i++) {
      const v = base.slice();
      v[i] ^= 0x01;
      assertEquals(wasmDigest("sha256Cached", v, 32), createHash("sha256").update(v).digest("hex"));
      assertEquals(wasmDigest("md5Cached", v, 16), createHash("md5").update(v).digest("hex"));
    }
    assertEquals(
      wasmDigest("sha256Cached", base, 32),
      createHash("sha256").update(base).digest("hex"),
    );
  }
});
