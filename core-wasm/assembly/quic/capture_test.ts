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
import { compileAs, exists, get, hex, put, unhex } from "../crypto/wasm_test_util.ts";

const CONFORMANCE = new URL("../../../../shared/conformance/foxio/", import.meta.url);
const FILES = ["quic-tls-handshake.pcapng", "tls-handshake.pcapng"];

async function hasTshark(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("tshark", {
      args: ["-v"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return success;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

const skip = !(await exists(CONFORMANCE))
  ? "../shared/conformance/foxio is absent"
  : !(await hasTshark())
  ? "tshark is not installed (apt-get install tshark)"
  : "";
if (skip) console.warn(`quic capture_test skipped: ${skip}`);

async function tshark(file: string, fields: string[], filter: string): Promise<string[][]> {
  const args = ["-n", "-r", new URL(file, CONFORMANCE).pathname, "-Y", filter, "-T", "fields"];
  for (const f of fields) args.push("-e", f);
  const out = await new Deno.Command("tshark", { args, stdout: "piped", stderr: "null" }).output();
  assert(out.success, `tshark failed on ${file}`);
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.length > 0).map((l) =>
    l.split("\t")
  );
}

interface Hello {
  frame: number;
  type: number;
  length: number;
  random: string;
}

Deno.test({
  name: "conformance QUIC captures: every hello tshark decrypts, the wasm reassembles identically",
  ignore: skip !== "",
  async fn() {
    const wasm = await compileAs(new URL("./test_entry.ts", import.meta.url));
    const stateBytes: number = wasm.QUIC_STATE_BYTES.value;
    const datagram = wasm.scratch();
    // One state block per flow, in memory grown for this test (4 MiB: 276 flows).
    const stateBase = wasm.memory.grow(64) * 65536;
    const maxFlows = Math.floor((64 * 65536) / stateBytes);
    let clientHellos = 0;
    let expectedQuic = 0;
    for (const file of FILES) {
      const expected = JSON.parse(
        await Deno.readTextFile(new URL(`${file}.expected.json`, CONFORMANCE)),
      );
      expectedQuic += expected.filter((r: { transport: string }) => r.transport === "udp").length;
      const rows = await tshark(file, [
        "frame.number",
        "ip.src",
        "ipv6.src",
        "udp.srcport",
        "ip.dst",
        "ipv6.dst",
        "udp.dstport",
        "udp.payload",
      ], "udp");
      const want: Hello[] = [];
      for (
        const [frame, types, lengths, randoms] of await tshark(file, [
          "frame.number",
          "tls.handshake.type",
          "tls.handshake.length",
          "tls.handshake.random",
        ], "quic && tls.handshake.random")
      ) {
        // One Initial carries one hello; tshark lists the fields of that message.
        want.push({
          frame: Number(frame),
          type: Number(types.split(",")[0]),
          length: Number(lengths.split(",")[0]),
          random: randoms.split(",")[0].replaceAll(":", ""),
        });
      }
      // Flows by unordered endpoint pair; the first sender is the client.
      const flows = new Map<string, { client: string; state: number }>();
      const got: Hello[] = [];
      for (const [frame, src4, src6, sport, dst4, dst6, dport, payload] of rows) {
        if (!payload) continue;
        const a = `${src4 || src6}:${sport}`;
        const b = `${dst4 || dst6}:${dport}`;
        const key = [a, b].sort().join("|");
        let flow = flows.get(key);
        if (!flow) {
          assert(flows.size < maxFlows, "more UDP flows than state blocks");
          flow = { client: a, state: stateBase + flows.size * stateBytes };
          flows.set(key, flow);
          wasm.quicStateInit(flow.state);
        }
        const bytes = unhex(payload.replaceAll(":", ""));
        put(wasm, datagram, bytes);
        const fromServer = a !== flow.client ? 1 : 0;
        const st = wasm.quicFeed(flow.state, datagram, bytes.length, fromServer);
        if (st === 1) {
          const msg = get(
            wasm,
            wasm.quicHelloPtr(flow.state, fromServer),
            wasm.quicHelloLen(flow.state, fromServer),
          );
          got.push({
            frame: Number(frame),
            type: msg[0],
            length: msg.length - 4,
            random: hex(msg.slice(6, 38)),
          });
          if (msg[0] === 1) clientHellos++;
        }
      }
      assert(want.length > 0, `tshark decoded no QUIC hello in ${file}`);
      assertEquals(got, want, file);
    }
    assertEquals(clientHellos, expectedQuic, "QUIC ClientHellos vs FoxIO QUIC records");
  },
});
