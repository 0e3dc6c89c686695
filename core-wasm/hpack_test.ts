/**
 * HPACK decoding (used for JA4H over HTTP/2) against RFC 7541 Appendix C: request
 * sequences with and without Huffman coding, sharing one dynamic table.
 */
import { assertEquals } from "../lib/testing.ts";
import { compileAs, unhex } from "./assembly/crypto/wasm_test_util.ts";

const wasm = await compileAs(new URL("./assembly/hpack_test_entry.ts", import.meta.url));

function decode(hex: string): [string, string][] | null {
  const bytes = unhex(hex.replaceAll(" ", ""));
  new Uint8Array(wasm.memory.buffer, wasm.scratch(), bytes.length).set(bytes);
  const n = wasm.decode(bytes.length);
  if (n < 0) return null;
  const dv = new DataView(wasm.memory.buffer);
  const text = (p: number, l: number) =>
    new TextDecoder().decode(new Uint8Array(wasm.memory.buffer, p, l));
  const out: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const f = wasm.fields() + i * 16;
    out.push([
      text(dv.getUint32(f, true), dv.getUint32(f + 4, true)),
      text(dv.getUint32(f + 8, true), dv.getUint32(f + 12, true)),
    ]);
  }
  return out;
}

const FIRST: [string, string][] = [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", "/"],
  [":authority", "www.example.com"],
];

Deno.test("hpack: RFC 7541 C.3 requests without Huffman share the dynamic table", () => {
  wasm.reset();
  assertEquals(decode("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"), FIRST);
  assertEquals(decode("8286 84be 5808 6e6f 2d63 6163 6865"), [
    ...FIRST,
    ["cache-control", "no-cache"],
  ]);
  assertEquals(
    decode("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"),
    [
      [":method", "GET"],
      [":scheme", "https"],
      [":path", "/index.html"],
      [":authority", "www.example.com"],
      ["custom-key", "custom-value"],
    ],
  );
});

Deno.test("hpack: RFC 7541 C.4 requests with Huffman coding", () => {
  wasm.reset();
  assertEquals(decode("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"), FIRST);
  assertEquals(decode("8286 84be 5886 a8eb 1064 9cbf"), [...FIRST, ["cache-control", "no-cache"]]);
  assertEquals(decode("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"), [
    [":method", "GET"],
    [":scheme", "https"],
    [":path", "/index.html"],
    [":authority", "www.example.com"],
    ["custom-key", "custom-value"],
  ]);
});

Deno.test("hpack: malformed blocks are rejected, never a trap", () => {
  wasm.reset();
  assertEquals(decode("ff"), null); // index integer cut short
  assertEquals(decode("be"), null); // dynamic index into an empty table
  assertEquals(decode("41 ff ff ff ff 0f"), null); // string length beyond the block
  assertEquals(decode("3f e1 ff ff 0f"), null); // table size update beyond 64 KiB
  // EOS (30 ones) inside a Huffman string.
  assertEquals(decode("40 84 ff ff ff ff 01 61"), null);
  // 70,000 indexed static fields: more decoded text than the scratch holds → rejected.
  assertEquals(decode("82".repeat(70000)), null);
});
