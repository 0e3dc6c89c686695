/**
 * TLS hello fingerprints (JA4 + variants, JA3, JA4S, JA3S) on hand-built hellos, one test
 * per pitfall other implementations got wrong. Known fingerprints are pinned inline; where
 * a hash is derived, it is recomputed here with node:crypto from the pinned raw string.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../lib/testing.ts";
import { loadEngine } from "./mod.ts";
import { clientHello, type Ext, ext, serverHello } from "./test_util.ts";

const engine = await loadEngine();

function hash12(s: string): string {
  return s === "" ? "000000000000" : createHash("sha256").update(s).digest("hex").slice(0, 12);
}

async function ch(ciphers: number[], exts: Ext[] | null, version = 0x0303) {
  const r = await engine.fingerprintHandshake(clientHello({ version, ciphers, exts }));
  assert(r, "hello did not parse");
  return r;
}

// The FoxIO reference's own unit-test hello (rust/ja4/src/tls.rs test_client_stats_into_out).
const CHROME_CIPHERS = [
  0x1301,
  0x1302,
  0x1303,
  0xc02b,
  0xc02f,
  0xc02c,
  0xc030,
  0xcca9,
  0xcca8,
  0xc013,
  0xc014,
  0x009c,
  0x009d,
  0x002f,
  0x0035,
];
const CHROME_SIGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
function chromeExts(): Ext[] {
  const order = [
    0x001b,
    0x0000,
    0x0033,
    0x0010,
    0x4469,
    0x0017,
    0x002d,
    0x000d,
    0x0005,
    0x0023,
    0x0012,
    0x002b,
    0xff01,
    0x000b,
    0x000a,
    0x0015,
  ];
  return order.map((t) => {
    if (t === 0x0000) return ext.sni("example.com");
    if (t === 0x0010) return ext.alpn("h2", "http/1.1");
    if (t === 0x000d) return ext.sigAlgs(...CHROME_SIGS);
    if (t === 0x002b) return ext.supportedVersions(0x0304, 0x0303);
    return ext.empty(t);
  });
}

Deno.test("ja4: FoxIO's reference hello gives its pinned ja4, ja4_r, ja4_o, ja4_ro", async () => {
  const r = await ch(CHROME_CIPHERS, chromeExts());
  assertEquals(r.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
  assertEquals(
    r.ja4_r,
    "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601",
  );
  assertEquals(r.ja4_o, "t13d1516h2_acb858a92679_18f69afefd3d");
  assertEquals(
    r.ja4_ro,
    "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601",
  );
  assertEquals(r.tls_server_name, "example.com");
  assertEquals(r.alpn, "h2");
  assertEquals([r.tls_version, r.cipher_count, r.extension_count], [0x0304, 15, 16]);
});

Deno.test("ja4: GREASE is removed from ciphers, extensions, groups and signature algorithms; 0x0101 is kept", async () => {
  const r = await ch([0x0a0a, 0x1301, 0xfafa], [
    ext.empty(0x2a2a),
    ext.sigAlgs(0x3a3a, 0x0403, 0x0101),
    ext.groups(0x4a4a, 0x001d),
    ext.supportedVersions(0x5a5a, 0x0304),
  ]);
  assertEquals(r.ja4_r, "t13i010300_1301_000a,000d,002b_0403,0101");
  assertEquals(r.ja3_full, "771,4865,13-10-43,29,");
});

Deno.test("ja4: signature algorithms in wire order, only from signature_algorithms, none → no trailing _", async () => {
  const withDc = await ch([0x1301], [
    ext.delegatedCredentials(0x0807, 0x0808),
    ext.sigAlgs(0x0601, 0x0403),
  ]);
  assertEquals(withDc.ja4_r, "t12i010200_1301_000d,0022_0601,0403");
  const none = await ch([0x1301], [ext.delegatedCredentials(0x0807)]);
  assertEquals(none.ja4_r, "t12i010100_1301_0022");
  assertEquals(none.ja4, `t12i010100_${hash12("1301")}_${hash12("0022")}`);
});

Deno.test("ja4: SNI and ALPN count in part a, stay out of the part-c hash, stay in _o/_ro", async () => {
  const r = await ch([0x1301], [ext.sni("a.example"), ext.alpn("h2"), ext.empty(0x0017)]);
  assertEquals(r.ja4_r, "t12d0103h2_1301_0017");
  assertEquals(r.ja4, `t12d0103h2_${hash12("1301")}_${hash12("0017")}`);
  assertEquals(r.ja4_ro, "t12d0103h2_1301_0000,0010,0017");
  assertEquals(r.ja4_o, `t12d0103h2_${hash12("1301")}_${hash12("0000,0010,0017")}`);
});

Deno.test("ja4: ALPN characters — first/last, single character twice, hex fallback, 00, cipher 0x0010", async () => {
  const alpn = async (e: Ext[]) => (await ch([0x0010], e)).ja4?.slice(8, 10);
  assertEquals(await alpn([ext.alpn("http/1.1")]), "h1");
  assertEquals(await alpn([ext.alpn("h")]), "hh");
  // Non-alphanumeric ASCII: first hex digit of the first byte, last of the last byte.
  assertEquals(await alpn([ext.alpn("*x/")]), "2f");
  // Bytes ≥ 0x80 print as '9' (FoxIO's reference; conformance tls-non-ascii-alpn).
  assertEquals(await alpn([ext.alpn([0xba, 0xad])]), "99");
  // Mixed: a non-ASCII byte with an ASCII control byte → hex fallback, never a raw byte.
  assertEquals(await alpn([ext.alpn([0xba, 0x00])]), "b0");
  assertEquals(await alpn([ext.alpn("")]), "00");
  assertEquals(await alpn([]), "00");
  // 0x0010 as a cipher suite is just a cipher.
  const r = await ch([0x0010], [ext.sni("x")]);
  assertEquals(r.ja4?.slice(0, 10), "t12d010100");
});

Deno.test("ja4: version from the highest non-GREASE supported_versions, else the hello's", async () => {
  assertEquals(
    (await ch([0x1301], [ext.supportedVersions(0x7a7a, 0x0303, 0x0304)], 0x0303)).ja4?.slice(0, 3),
    "t13",
  );
  assertEquals((await ch([0x1301], [], 0x0302)).ja4?.slice(0, 3), "t11");
  assertEquals((await ch([0x1301], [], 0x0300)).ja4?.slice(0, 3), "ts3");
  assertEquals((await ch([0x1301], [], 0xfefd)).ja4?.slice(0, 3), "td2");
  assertEquals((await ch([0x1301], [], 0x1234)).ja4?.slice(0, 3), "t00");
});

Deno.test("ja4: counts are two digits capped at 99", async () => {
  const ciphers = Array.from({ length: 120 }, (_, i) => 0x0100 + i);
  const exts = Array.from({ length: 105 }, (_, i) => ext.empty(0x0100 + i));
  const r = await ch(ciphers, exts);
  assertEquals(r.ja4?.slice(0, 10), "t12i999900");
  assertEquals(r.cipher_count, 120);
});

Deno.test("ja4: no extensions and empty lists hash to 000000000000; the hello still gets a fingerprint", async () => {
  const r = await ch([0x002f], null);
  assertEquals(r.ja4, `t12i010000_${hash12("002f")}_000000000000`);
  assertEquals(r.ja4_r, "t12i010000_002f_");
  assertEquals(r.ja3_full, "771,47,,,");
  const empty = await ch([], []);
  assertEquals(empty.ja4, "t12i000000_000000000000_000000000000");
});

Deno.test("ja4: quic_transport_parameters makes the protocol character q", async () => {
  const r = await ch([0x1301], [ext.empty(0x0039), ext.supportedVersions(0x0304)]);
  assertEquals(r.ja4?.slice(0, 4), "q13i");
});

Deno.test("ja3: no trailing '-', GREASE out of every list including curves, TLS 1.3 keeps 771", async () => {
  const r = await ch([0x1a1a, 0x1301, 0x1302], [
    ext.empty(0xdada),
    ext.groups(0xeaea, 0x001d, 0x0017),
    ext.pointFormats(0),
    ext.supportedVersions(0x0304),
  ]);
  assertEquals(r.ja3_full, "771,4865-4866,10-11-43,29-23,0");
  assertEquals(r.ja3, createHash("md5").update("771,4865-4866,10-11-43,29-23,0").digest("hex"));
});

Deno.test("ja4s / ja3s: extensions in wire order, selected version, ALPN", async () => {
  const r = await engine.fingerprintHandshake(
    serverHello({ cipher: 0x1301, exts: [ext.empty(0x0033), ext.selectedVersion(0x0304)] }),
  );
  assert(r);
  assertEquals(r.ja4s, `t130200_1301_${hash12("0033,002b")}`);
  assertEquals(r.ja4s_r, "t130200_1301_0033,002b");
  assertEquals(r.ja3s_full, "771,4865,51-43");
  // FoxIO's pinned JA4S (rust/ja4/src/tls.rs test_server_stats_into_out).
  const foxio = await engine.fingerprintHandshake(
    serverHello({
      cipher: 0xc030,
      exts: [ext.empty(0x0005), ext.empty(0x0017), ext.empty(0xff01), ext.empty(0x0000)],
    }),
  );
  assertEquals(foxio?.ja4s, "t120400_c030_4e8089b08790");
  const alpn = await engine.fingerprintHandshake(
    serverHello({ cipher: 0xc02f, exts: [ext.alpn("h2")] }),
  );
  assertEquals(alpn?.ja4s?.slice(0, 7), "t1201h2");
});

Deno.test("tls: truncated or garbage hellos are rejected, never a crash", async () => {
  const good = clientHello({ ciphers: CHROME_CIPHERS, exts: chromeExts() });
  for (let cut = 4; cut < good.length; cut += 7) {
    const bad = good.slice(0, cut);
    // Keep the header length honest so the engine sees a short body, not a short buffer.
    bad[1] = 0;
    bad[2] = ((cut - 4) >> 8) & 255;
    bad[3] = (cut - 4) & 255;
    const r = await engine.fingerprintHandshake(bad);
    if (r) assert(r.ja4?.startsWith("t"), "a parsed prefix must still be a fingerprint");
  }
  // SSLv2-style bytes.
  assertEquals(
    await engine.fingerprintHandshake(new Uint8Array([1, 0, 0, 3, 0x80, 0x2e, 1])),
    null,
  );
});
