/**
 * Conformance with FoxIO's reference implementation: every field of every record in
 * ../shared/conformance/foxio/*.expected.json against `ja4 fingerprint`'s records.
 * Records are matched by connection (transport and both endpoints). 100% is required for
 * the fields in REQUIRED; the others (ja3s, ja4l, ja4x, …) are counted and printed.
 * Skips with a message when ../shared is absent.
 */
import { assert } from "../lib/testing.ts";
import { type ConnectionRecord, fingerprintStream, loadEngine } from "../core-wasm/mod.ts";

const DIR = new URL("../../shared/conformance/foxio/", import.meta.url);

/** Fields that must match for every expected record. */
export const REQUIRED = [
  "ja4",
  "ja4_r",
  "ja4_o",
  "ja4_ro",
  "ja3",
  "ja3_full",
  "ja4s",
  "ja4t",
  "ja4h",
  "tls_server_name",
] as const;

/** Fields of the reference output we do not produce (JA4L latency, JA4X certificates, …). */
const NOT_PRODUCED = new Set(["stream", "ja4l_c", "ja4l_s", "ja4x", "ja3s_full"]);

type Expected = Record<string, unknown>;

function key(
  r: { transport?: unknown; src?: unknown; src_port?: unknown; dst?: unknown; dst_port?: unknown },
) {
  return `${r.transport}|${r.src}|${r.src_port}|${r.dst}|${r.dst_port}`;
}

async function sharedPresent(): Promise<boolean> {
  try {
    await Deno.stat(DIR);
    return true;
  } catch {
    return false;
  }
}

interface Tally {
  match: number;
  total: number;
}

Deno.test({
  name: "conformance: FoxIO reference outputs, every field of every record",
  ignore: !(await sharedPresent()),
  async fn() {
    const engine = await loadEngine();
    const tally = new Map<string, Tally>();
    const failures: string[] = [];
    const files = [...Deno.readDirSync(DIR)]
      .map((e) => e.name)
      .filter((n) => n.endsWith(".expected.json"))
      .sort();
    for (const exp of files) {
      const capture = exp.replace(/\.expected\.json$/, "");
      const expected = JSON.parse(await Deno.readTextFile(new URL(exp, DIR))) as Expected[];
      const file = await Deno.open(new URL(capture, DIR));
      const { connections, error } = await fingerprintStream(engine, capture, file.readable);
      assert(!error, `${capture}: ${error?.message}`);
      const ours = new Map<string, ConnectionRecord>();
      for (const c of connections) ours.set(key(c), c);
      for (const e of expected) {
        const got = ours.get(key(e)) as Record<string, unknown> | undefined;
        for (const [field, value] of Object.entries(e)) {
          if (NOT_PRODUCED.has(field)) continue;
          const t = tally.get(field) ?? { match: 0, total: 0 };
          t.total++;
          const ok = got !== undefined && JSON.stringify(got[field]) === JSON.stringify(value);
          if (ok) t.match++;
          else {
            failures.push(
              `${capture} ${key(e)} ${field}: expected ${JSON.stringify(value)}, got ${
                JSON.stringify(got?.[field])
              }`,
            );
          }
          tally.set(field, t);
        }
      }
    }
    const rows = [...tally.entries()].sort();
    console.log("\nfield            match / total");
    for (const [field, t] of rows) {
      const req = (REQUIRED as readonly string[]).includes(field) ? " (required)" : "";
      console.log(`${field.padEnd(16)} ${String(t.match).padStart(5)} / ${t.total}${req}`);
    }
    const requiredFailures = failures.filter((f) =>
      (REQUIRED as readonly string[]).some((r) => f.includes(` ${r}: `))
    );
    if (failures.length) console.log(failures.slice(0, 40).join("\n"));
    assert(
      requiredFailures.length === 0,
      `${requiredFailures.length} required field mismatches:\n${
        requiredFailures.slice(0, 20).join("\n")
      }`,
    );
  },
});
