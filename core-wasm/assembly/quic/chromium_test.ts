/**
 * A live, post-quantum QUIC ClientHello: headless Chromium (playwright-core, fresh profile)
 * is forced to speak QUIC to a UDP port on 127.0.0.1 where a socket only listens (it never
 * answers), so Chromium sends its Initial packets and their retransmissions; tcpdump
 * records them. Chromium's X25519MLKEM768 key share makes its ClientHello ~2 KB: it spans
 * two Initial packets. The wasm decoder must report it exactly when its second packet
 * arrives, identical (length, random) to tshark's own decryption, with the SNI the page
 * used; and the engine must fingerprint it as a `q` JA4.
 *
 * Skips with a message when Chromium, tcpdump or tshark is missing, or without root
 * (tcpdump needs it).
 */
import dgram from "node:dgram";
import { assert, assertEquals, assertMatch } from "../../../lib/testing.ts";
import { startTcpdump } from "../../../tests/helpers/tcpdump.ts";
import { CHROMIUM_PATH, chromiumInstalled, withChromium } from "../../../tests/helpers/chromium.ts";
import { loadEngine } from "../../mod.ts";
import { compileAs } from "../crypto/wasm_test_util.ts";
import { hasCommand, tsharkHellos, wasmHellos } from "./tshark_test_util.ts";

const HOST = "ja4.test";

const skip = !(await chromiumInstalled())
  ? `${CHROMIUM_PATH} is not installed`
  : !(await hasCommand("tcpdump", ["--version"]))
  ? "tcpdump is not installed"
  : !(await hasCommand("tshark", ["-v"]))
  ? "tshark is not installed"
  : Deno.uid() !== 0
  ? "tcpdump on lo needs root"
  : "";
if (skip) console.warn(`quic chromium_test skipped: ${skip}`);

/** A UDP socket on 127.0.0.1 that counts what it receives and never answers. */
async function silentUdp(): Promise<{ port: number; received(): number; close(): void }> {
  const sock = dgram.createSocket("udp4");
  let n = 0;
  sock.on("message", () => n++);
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", () => resolve()));
  return { port: sock.address().port, received: () => n, close: () => sock.close() };
}

Deno.test({
  name: "Chromium's post-quantum QUIC ClientHello over two Initials: reassembled and fingerprinted",
  ignore: skip !== "",
  // playwright keeps pipes to the browser until close(); closed explicitly below.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ja4-quic-chromium-" });
    const udp = await silentUdp();
    try {
      const rec = await startTcpdump("lo", `udp port ${udp.port}`, `${dir}/quic.pcap`);
      try {
        await withChromium([
          "--enable-quic",
          `--origin-to-force-quic-on=${HOST}:${udp.port}`,
          `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
        ], async (context) => {
          const page = await context.newPage();
          // Nothing answers: the navigation fails once Chromium has sent (and re-sent) its
          // Initials, which is all this test needs.
          const outcome = await page.goto(`https://${HOST}:${udp.port}/`, { timeout: 4000 })
            .then(() => "loaded", (err: Error) => err.message);
          assert(outcome !== "loaded", "something answered on the silent UDP port");
        });
      } finally {
        await rec.stop();
      }
      assert(udp.received() >= 2, `only ${udp.received()} datagrams reached the socket`);
      const file = `${dir}/quic.pcap`;

      const want = await tsharkHellos(file);
      const run = await wasmHellos(
        await compileAs(new URL("./test_entry.ts", import.meta.url)),
        file,
      );
      assert(want.length >= 1, "tshark decrypted no ClientHello");
      assertEquals(run.hellos, want);
      const hello = run.messages[0];
      assertEquals(hello[0], 1);
      // The post-quantum hello does not fit one Initial: the first datagram is pending.
      assert(hello.length > 1200, `ClientHello of ${hello.length} bytes fits one packet`);
      assertEquals(run.statuses.slice(0, 2), [0, 1]);
      assert(new TextDecoder().decode(hello).includes(HOST), "SNI missing from the hello");

      const engine = await loadEngine();
      const session = await engine.createSession();
      const records = session.push(await Deno.readFile(file));
      session.finish();
      const quic = records.filter((r) => r.kind === "client_hello" && r.transport === "quic");
      assertEquals(quic.length, 1);
      assertEquals(quic[0].tls_server_name, HOST);
      assertMatch(quic[0].ja4 ?? "", /^q13d\d{4}h3_[0-9a-f]{12}_[0-9a-f]{12}$/);
    } finally {
      udp.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
