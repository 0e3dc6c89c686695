/**
 * JA4H inside TLS 1.3 when the capture embeds its key log (pcapng Decryption Secrets
 * Block): client records are encrypted here with node:crypto (AES-128-GCM, keys from
 * HKDF-Expand-Label per RFC 8446 §7.1-7.3) and the engine must fingerprint the HTTP/1.1
 * requests inside. HTTP/2 inside TLS is covered by the conformance capture
 * http2-with-cookies.
 */
import { createCipheriv, createHmac } from "node:crypto";
import { assertEquals } from "../lib/testing.ts";
import { loadEngine } from "./mod.ts";
import {
  clientHello,
  ether,
  ext,
  ipv4,
  pcapng,
  PSH_ACK,
  serverHello,
  SYN,
  tcp,
  tlsRecord,
} from "./test_util.ts";

/** HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, one SHA-256 block of output. */
function expandLabel(secret: Uint8Array, label: string, len: number): Uint8Array {
  const full = new TextEncoder().encode(`tls13 ${label}`);
  const info = new Uint8Array([0, len, full.length, ...full, 0, 1]); // + counter 0x01
  return new Uint8Array(createHmac("sha256", secret).update(info).digest()).slice(0, len);
}

/** A TLS 1.3 application_data record carrying `data` (inner type 23), sequence `seq`. */
function sealed(secret: Uint8Array, seq: number, data: Uint8Array): Uint8Array {
  const key = expandLabel(secret, "key", 16);
  const iv = expandLabel(secret, "iv", 12);
  const nonce = iv.slice();
  for (let i = 0; i < 8; i++) nonce[11 - i] ^= Math.floor(seq / 2 ** (8 * i)) & 255;
  const inner = new Uint8Array([...data, 23]);
  const header = new Uint8Array([23, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 255]);
  const c = createCipheriv("aes-128-gcm", key, nonce);
  c.setAAD(header);
  const body = new Uint8Array([...c.update(inner), ...c.final(), ...c.getAuthTag()]);
  return new Uint8Array([...header, ...body]);
}

const C = [192, 0, 2, 10], S = [192, 0, 2, 20];
const frame = (
  fromClient: boolean,
  seq: number,
  flags: number,
  payload: Uint8Array | number[] = [],
) =>
  ether(
    0x0800,
    ipv4(
      fromClient ? C : S,
      fromClient ? S : C,
      6,
      tcp({
        sport: fromClient ? 50000 : 443,
        dport: fromClient ? 443 : 50000,
        seq,
        flags,
        payload,
      }),
    ),
  );

Deno.test("tls13: key-logged HTTP/1.1 requests inside TLS 1.3 get JA4H", async () => {
  const secret = new Uint8Array(32).map((_, i) => i * 7 + 1);
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  // test_util's hellos use a random of 32 × 0x07.
  const keylog = `CLIENT_TRAFFIC_SECRET_0 ${hex(new Uint8Array(32).fill(7))} ${hex(secret)}\n`;
  const ch = tlsRecord(clientHello({ ciphers: [0x1301], exts: [ext.supportedVersions(0x0304)] }));
  const sh = tlsRecord(
    serverHello({ cipher: 0x1301, exts: [ext.selectedVersion(0x0304), ext.empty(0x0033)] }),
  );
  const enc = new TextEncoder();
  const r1 = sealed(
    secret,
    0,
    enc.encode("GET /a HTTP/1.1\r\nHost: x\r\nCookie: b=2; a=1\r\n\r\n"),
  );
  // A second request split over two records, after a 3-byte body announced by the first.
  const second = enc.encode("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  const r2 = sealed(secret, 1, second.subarray(0, 20));
  const r3 = sealed(secret, 2, second.subarray(20));
  let seq = 1;
  const frames = [
    frame(true, 0, SYN),
    frame(true, seq, PSH_ACK, ch),
    frame(false, 1, PSH_ACK, sh),
  ];
  seq += ch.length;
  for (const r of [r1, r2, r3]) {
    frames.push(frame(true, seq, PSH_ACK, r));
    seq += r.length;
  }
  const engine = await loadEngine();
  const s = await engine.createSession();
  const recs = s.push(pcapng([{ link: 1 }], frames.map((f) => ({ iface: 0, frame: f })), keylog));
  const http = recs.filter((r) => r.kind === "http_request").map((r) => r.ja4h_r);
  assertEquals(http, ["ge11cn010000_Host_a,b_a=1,b=2", "po11nn020000_Host,Content-Length__"]);
  assertEquals(s.stats().tls_decrypt_failed, 0);
  // Without the key log nothing is decrypted, and nothing breaks.
  const t = await engine.createSession();
  const plain = t.push(pcapng([{ link: 1 }], frames.map((f) => ({ iface: 0, frame: f }))));
  assertEquals(plain.filter((r) => r.kind === "http_request").length, 0);
});

Deno.test("tls13: random and mutated plaintext inside key-logged TLS never traps (seeded)", async () => {
  let seed = 20261121;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const bytes = (n: number) => new Uint8Array(n).map(() => Math.floor(rnd() * 256));
  const secret = new Uint8Array(32).map((_, i) => 255 - i);
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const keylog = `CLIENT_TRAFFIC_SECRET_0 ${hex(new Uint8Array(32).fill(7))} ${hex(secret)}\n`;
  const ch = tlsRecord(clientHello({ ciphers: [0x1301], exts: [ext.supportedVersions(0x0304)] }));
  const sh = tlsRecord(serverHello({ cipher: 0x1301, exts: [ext.selectedVersion(0x0304)] }));
  const preface = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  const engine = await loadEngine();
  for (let round = 0; round < 60; round++) {
    const payloads: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) {
      const body = bytes(1 + Math.floor(rnd() * 3000));
      if (round % 3 === 0 && i === 0) payloads.push(new Uint8Array([...preface, ...body]));
      else if (round % 3 === 1) {
        // HTTP/2 frames with random HEADERS blocks (HPACK garbage, CONTINUATION, padding).
        const len = body.length;
        const type = [1, 9, 0, 4][i % 4];
        const flags = Math.floor(rnd() * 256);
        payloads.push(
          new Uint8Array([
            len >> 16,
            (len >> 8) & 255,
            len & 255,
            type,
            flags,
            0,
            0,
            0,
            1,
            ...body,
          ]),
        );
      } else payloads.push(body);
    }
    if (round % 3 === 1) payloads[0] = new Uint8Array([...preface, ...payloads[0]]);
    let seq = 1;
    const frames = [
      frame(true, 0, SYN),
      frame(true, seq, PSH_ACK, ch),
      frame(false, 1, PSH_ACK, sh),
    ];
    seq += ch.length;
    payloads.forEach((p, i) => {
      const r = sealed(secret, i, p);
      frames.push(frame(true, seq, PSH_ACK, r));
      seq += r.length;
    });
    const s = await engine.createSession({ maxFlows: 64, reassemblySlabs: 8 });
    const memory = s.stats().memory_bytes;
    for (
      const r of s.push(pcapng([{ link: 1 }], frames.map((f) => ({ iface: 0, frame: f })), keylog))
    ) {
      if (r.ja4h !== undefined) {
        assertEquals(
          /^[a-z0-9]{12}_[0-9a-f]{12}_[0-9a-f]{12}_[0-9a-f]{12}$/.test(r.ja4h),
          true,
          r.ja4h,
        );
      }
    }
    assertEquals(s.stats().memory_bytes, memory);
  }
});
