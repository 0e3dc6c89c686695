/**
 * Malformed traffic on the monitored ports must not stop capture: random bytes over TCP to the
 * TLS port, broken TLS records and hellos, random and QUIC-looking UDP datagrams to port 443.
 * Real clients afterwards must still be fingerprinted, and the sensor must stop cleanly.
 * Needs root (or CAP_NET_RAW); skips with a message otherwise.
 */
import dgram from "node:dgram";
import { assert, assertEquals } from "../lib/testing.ts";
import { createRng } from "../lib/random.ts";
import type { TlsEvent } from "../lib/events.ts";
import { canCapture } from "../capture/privileges.ts";
import { readNdjson, startCaptureProcess, waitFor } from "./helpers/capture_process.ts";
import { clientMatrix, clientsAvailable, runClients } from "./helpers/tls_clients.ts";
import { startTlsServer } from "./helpers/tls_server.ts";

const missing = await clientsAvailable();
const skipReason = !canCapture()
  ? "needs root or CAP_NET_RAW for live capture on lo"
  : missing.map((t) => `${t} not installed`).join(", ");
if (skipReason) console.warn(`capture_malformed_test: skipped (${skipReason})`);

function randomBytes(next: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
}

/** Payloads that look like TLS just enough to reach the hello parser. */
function brokenTls(next: () => number): Uint8Array[] {
  const hello = (recordLen: number, hsLen: number, body: Uint8Array) =>
    Uint8Array.from([
      0x16,
      0x03,
      0x01,
      recordLen >> 8,
      recordLen & 0xff,
      0x01,
      (hsLen >> 16) & 0xff,
      (hsLen >> 8) & 0xff,
      hsLen & 0xff,
      ...body,
    ]);
  return [
    hello(0x4000, 0x3ffc, randomBytes(next, 300)), // claims 16 KiB, sends 300 bytes, then FIN
    hello(50, 0xffffff, randomBytes(next, 46)), // handshake longer than its record
    hello(4, 0, new Uint8Array()), // empty hello
    hello(200, 196, Uint8Array.from([0x03, 0x03, ...randomBytes(next, 194)])), // random body
    Uint8Array.from([0x80, 0x2e, 0x01, 0x00, 0x02, ...randomBytes(next, 44)]), // SSLv2-style
  ];
}

async function sendTcp(port: number, payload: Uint8Array): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(payload);
  } catch {
    // The TLS server may reset the connection on garbage: that is part of the test.
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "malformed traffic on the TLS and QUIC ports does not stop capture",
  ignore: skipReason !== "",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ja4-garbage-" });
    const server = await startTlsServer();
    const next = createRng(0x7a4).next; // seeded: a failure can be replayed
    try {
      const out = `${dir}/events.ndjson`;
      // The default filter, built from the port lists, is part of what is exercised here.
      const cap = await startCaptureProcess(["--interface", "lo", "--output", out], {
        JA4_CAPTURE_TLS_PORTS: String(server.port),
        JA4_CAPTURE_QUIC_PORTS: "443",
        JA4_CAPTURE_STATS_INTERVAL: "0",
      });
      for (let i = 0; i < 10; i++) {
        await sendTcp(server.port, randomBytes(next, 1 + (i * 997) % 6000));
      }
      for (const p of brokenTls(next)) await sendTcp(server.port, p);
      // node:dgram: Deno's own UDP API is still behind --unstable-net.
      const udp = dgram.createSocket("udp4");
      const send = (b: Uint8Array) =>
        new Promise<void>((resolve, reject) =>
          udp.send(b, 443, "127.0.0.1", (err) => (err ? reject(err) : resolve()))
        );
      try {
        for (let i = 0; i < 40; i++) await send(randomBytes(next, 1 + (i * 131) % 1400));
        // QUIC v1 Initial look-alikes: long header, version 1, random connection IDs and body.
        for (let i = 0; i < 20; i++) {
          const body = randomBytes(next, 1200);
          body.set([0xc3, 0, 0, 0, 1, 8], 0);
          await send(body);
        }
      } finally {
        udp.close();
      }

      // Real clients after the garbage must still be seen.
      const specs = clientMatrix(server.host, server.port).filter((s) =>
        ["openssl-tls1_3", "curl-http1.1", "node-tls-h2"].includes(s.name)
      );
      await runClients(specs);
      await waitFor(
        async () => (await readNdjson<TlsEvent>(out)).filter((e) => !e.update).length >= 3,
        "the real clients' handshakes after the garbage",
      );
      const stopped = await cap.stop();
      assertEquals(stopped.code, 0, stopped.stderr);
      const hellos = (await readNdjson<TlsEvent>(out)).filter((e) => !e.update);
      // Garbage never becomes an event with a fingerprint of its own beyond real hellos, except
      // for hellos that parse (the random-body one may); every event carries a JA4.
      assert(hellos.every((e) => /^[tq][0-9s]/.test(e.ja4)), JSON.stringify(hellos));
      const sni = hellos.map((e) => e.tls_server_name).filter(Boolean);
      assert(sni.includes("tls13.example"), `openssl hello missing: ${sni}`);
      assert(sni.includes("node.example"), `node hello missing: ${sni}`);
      const stats = stopped.stderr.split("\n").find((l) => l.includes('"capture stopped"'));
      assert(stats, stopped.stderr);
      const parsed = JSON.parse(stats);
      // Every garbage packet went through the engine (UDP 443 included) without stopping it.
      assert(parsed.packets >= 60 + 15, `packets: ${parsed.packets}`);
      assertEquals(parsed.kernel_drops, 0);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
