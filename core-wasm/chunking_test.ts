/**
 * Carry-over across chunks on real captures: every conformance capture pushed in small,
 * odd-sized chunks gives exactly the records of a single push. Skips when ../shared is
 * absent.
 */
import { assertEquals } from "../lib/testing.ts";
import { type EngineRecord, loadEngine } from "./mod.ts";

const DIR = new URL("../../shared/conformance/foxio/", import.meta.url);
const present = await Deno.stat(DIR).then(() => true, () => false);

async function records(bytes: Uint8Array, chunk: number): Promise<EngineRecord[]> {
  const s = await (await loadEngine()).createSession({ maxFlows: 4096, reassemblySlabs: 64 });
  const out: EngineRecord[] = [];
  for (let o = 0; o < bytes.length; o += chunk) out.push(...s.push(bytes.subarray(o, o + chunk)));
  out.push(...s.finish());
  return out;
}

Deno.test({
  name: "chunking: every conformance capture split anywhere gives the same records",
  ignore: !present,
  async fn() {
    const files = [...Deno.readDirSync(DIR)]
      .map((e) => e.name)
      .filter((n) => !n.endsWith(".json"))
      .sort();
    for (const name of files) {
      const bytes = await Deno.readFile(new URL(name, DIR));
      const whole = await records(bytes, bytes.length);
      // Small files: tiny chunks hit every boundary inside headers; large ones: odd sizes.
      const sizes = bytes.length < 32768 ? [1, 13, 4093] : [997, 65537];
      for (const size of sizes) {
        assertEquals(await records(bytes, size), whole, `${name} in ${size}-byte chunks`);
      }
    }
  },
});

Deno.test({
  name: "sharding: N sessions over the same capture report every flow exactly once",
  ignore: !present,
  async fn() {
    const engine = await loadEngine();
    const strip = (rs: EngineRecord[]) =>
      rs.map(({ flow: _flow, ...r }) => JSON.stringify(r)).sort();
    for (const name of ["tls-handshake.pcapng", "http1.pcapng", "CVE-2018-6794.pcap"]) {
      const bytes = await Deno.readFile(new URL(name, DIR));
      const all = strip(await records(bytes, bytes.length));
      for (const count of [2, 3]) {
        const parts: EngineRecord[] = [];
        for (let index = 0; index < count; index++) {
          const s = await engine.createSession({ shard: { index, count } });
          parts.push(...s.push(bytes), ...s.finish());
        }
        assertEquals(strip(parts), all, `${name} in ${count} shards`);
      }
    }
  },
});
