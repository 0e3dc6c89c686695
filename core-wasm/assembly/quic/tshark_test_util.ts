/**
 * Test-only: runs the wasm QUIC Initial decoder over the UDP datagrams of a capture file and
 * lists the hellos it completes, next to the hellos Wireshark itself decrypts from the same
 * file (tshark's own QUIC Initial decryption), so tests compare the two.
 *
 * @example
 * ```ts
 * const wasm = await compileAs(new URL("./test_entry.ts", import.meta.url));
 * assertEquals((await wasmHellos(wasm, file)).hellos, await tsharkHellos(file));
 * ```
 */
import { assert } from "../../../lib/testing.ts";
import { type AsTestExports, get, hex, put, unhex } from "../crypto/wasm_test_util.ts";

/** A hello as both sides report it: frame it completed in, type, length, random. */
export interface Hello {
  frame: number;
  type: number;
  length: number;
  random: string;
}

/** True when `cmd` runs (`cmd args` exits 0). */
export async function hasCommand(cmd: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" })
      .output();
    return success;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** `tshark -T fields` rows of `file` for the display filter `filter`. */
export async function tshark(file: string, fields: string[], filter: string): Promise<string[][]> {
  const args = ["-n", "-r", file, "-Y", filter, "-T", "fields"];
  for (const f of fields) args.push("-e", f);
  const out = await new Deno.Command("tshark", { args, stdout: "piped", stderr: "null" }).output();
  assert(out.success, `tshark failed on ${file}`);
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.length > 0).map((l) =>
    l.split("\t")
  );
}

/** The QUIC hellos tshark decrypts in `file`, in frame order. */
export async function tsharkHellos(file: string): Promise<Hello[]> {
  const rows = await tshark(file, [
    "frame.number",
    "tls.handshake.type",
    "tls.handshake.length",
    "tls.handshake.random",
  ], "quic && tls.handshake.random");
  // One Initial completes one hello; tshark lists that message's fields first.
  return rows.map(([frame, types, lengths, randoms]) => ({
    frame: Number(frame),
    type: Number(types.split(",")[0]),
    length: Number(lengths.split(",")[0]),
    random: randoms.split(",")[0].replaceAll(":", ""),
  }));
}

/** What the wasm made of a capture's UDP datagrams. */
export interface WasmRun {
  hellos: Hello[];
  /** quicFeed status of each datagram, in frame order. */
  statuses: number[];
  /** The complete handshake messages, in the order of `hellos`. */
  messages: Uint8Array[];
}

/**
 * Feeds every UDP datagram of `file` to the wasm QUIC decoder, one state block per flow
 * (flows by unordered endpoint pair; the first sender is the client).
 */
export async function wasmHellos(wasm: AsTestExports, file: string): Promise<WasmRun> {
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
  const stateBytes: number = wasm.QUIC_STATE_BYTES.value;
  const datagram = wasm.scratch();
  // One state block per flow, in memory grown for the run (4 MiB).
  const stateBase = wasm.memory.grow(64) * 65536;
  const maxFlows = Math.floor((64 * 65536) / stateBytes);
  const flows = new Map<string, { client: string; state: number }>();
  const run: WasmRun = { hellos: [], statuses: [], messages: [] };
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
    run.statuses.push(st);
    if (st === 1) {
      const msg = get(
        wasm,
        wasm.quicHelloPtr(flow.state, fromServer),
        wasm.quicHelloLen(flow.state, fromServer),
      );
      run.messages.push(msg);
      run.hellos.push({
        frame: Number(frame),
        type: msg[0],
        length: msg.length - 4,
        random: hex(msg.slice(6, 38)),
      });
    }
  }
  return run;
}
