/**
 * Real QUIC captures from ../shared/conformance/foxio through the wasm Initial decoder,
 * cross-checked with Wireshark: tshark lists every UDP datagram and, from its own QUIC
 * decryption, each hello's handshake length and random. Every ClientHello and ServerHello
 * tshark decodes must come out of the wasm with the same length and random, and the
 * client hellos must number exactly the QUIC records of the FoxIO expected output.
 *
 * Skips with a message when ../shared or tshark is missing.
 */
import { assert, assertEquals } from "../../../lib/testing.ts";
import { compileAs, exists } from "../crypto/wasm_test_util.ts";
import { hasCommand, tsharkHellos, wasmHellos } from "./tshark_test_util.ts";

const CONFORMANCE = new URL("../../../../shared/conformance/foxio/", import.meta.url);
const FILES = ["quic-tls-handshake.pcapng", "tls-handshake.pcapng"];

const skip = !(await exists(CONFORMANCE))
  ? "../shared/conformance/foxio is absent"
  : !(await hasCommand("tshark", ["-v"]))
  ? "tshark is not installed (apt-get install tshark)"
  : "";
if (skip) console.warn(`quic capture_test skipped: ${skip}`);

Deno.test({
  name: "conformance QUIC captures: every hello tshark decrypts, the wasm reassembles identically",
  ignore: skip !== "",
  async fn() {
    const wasm = await compileAs(new URL("./test_entry.ts", import.meta.url));
    let clientHellos = 0;
    let expectedQuic = 0;
    for (const name of FILES) {
      const file = new URL(name, CONFORMANCE).pathname;
      const expected = JSON.parse(await Deno.readTextFile(`${file}.expected.json`));
      expectedQuic += expected.filter((r: { transport: string }) => r.transport === "udp").length;
      const want = await tsharkHellos(file);
      const { hellos } = await wasmHellos(wasm, file);
      assert(want.length > 0, `tshark decoded no QUIC hello in ${name}`);
      assertEquals(hellos, want, name);
      clientHellos += hellos.filter((h) => h.type === 1).length;
    }
    assertEquals(clientHellos, expectedQuic, "QUIC ClientHellos vs FoxIO QUIC records");
  },
});
