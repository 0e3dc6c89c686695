/**
 * `ja4 capture` as a command: replaying conformance captures (`--read`) gives events whose
 * fingerprints are FoxIO's; bad inputs and missing privileges are clear errors with exit 1.
 * Conformance files come from ../shared (skipped with a message when it is absent).
 */
import { assert, assertEquals, assertMatch } from "../lib/testing.ts";
import type { TlsEvent } from "../lib/events.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const FOXIO = new URL("../../shared/conformance/foxio/", import.meta.url).pathname;
const hasShared = (() => {
  try {
    return Deno.statSync(FOXIO).isDirectory;
  } catch {
    return false;
  }
})();
if (!hasShared) console.warn(`capture_cli_test: conformance parts skipped (${FOXIO} is absent)`);

async function capture(
  args: string[],
  env: Record<string, string> = {},
  wrap: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = wrap.length ? wrap[0] : Deno.execPath();
  const pre = wrap.length ? [...wrap.slice(1), Deno.execPath()] : [];
  const out = await new Deno.Command(cmd, {
    args: [...pre, "run", "-A", "--no-prompt", MAIN, "capture", ...args],
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const parseLines = (text: string) =>
  text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as TlsEvent);

for (const file of ["tls-handshake.pcapng", "tls12.pcap", "quic-tls-handshake.pcapng"]) {
  Deno.test({
    name: `capture --read ${file}: every connection's JA4 family, JA3 and JA4S as FoxIO's`,
    ignore: !hasShared,
    async fn() {
      const run = await capture(["--read", FOXIO + file, "--output", "-", "--stats-interval", "0"]);
      assertEquals(run.code, 0, run.stderr);
      const events = parseLines(run.stdout);
      const expected = JSON.parse(
        await Deno.readTextFile(`${FOXIO}${file}.expected.json`),
      ) as Record<string, string | number>[];
      const withJa4 = expected.filter((r) => r.ja4);
      assert(withJa4.length > 0);
      for (const rec of withJa4) {
        const hellos = events.filter((e) =>
          !e.update && e.src_ip === rec.src && e.src_port === rec.src_port &&
          e.dst_port === rec.dst_port
        );
        assert(hellos.length >= 1, `no event for ${rec.src}:${rec.src_port}`);
        // FoxIO reports a connection's first ClientHello.
        const first = hellos.sort((a, b) => a.ts_us - b.ts_us)[0];
        // Every field the reference gives (its QUIC records carry no raw or JA3 forms).
        for (const f of ["ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full"] as const) {
          if (rec[f] !== undefined) {
            assertEquals(first[f], rec[f], `${f} of ${rec.src}:${rec.src_port}`);
          }
        }
        assertEquals(first.tls_server_name ?? "", rec.tls_server_name ?? "");
        if (rec.ja4s) {
          const update = events.find((e) =>
            e.update && e.src_port === first.src_port && e.ts_us === first.ts_us
          );
          assertEquals(update?.ja4s, rec.ja4s, `ja4s of ${rec.src}:${rec.src_port}`);
        }
        if (rec.ja4t) assertEquals(first.ja4t, rec.ja4t);
      }
    },
  });
}

Deno.test({
  name: "capture --read --realtime paces records by their capture time and ends at EOF",
  ignore: !hasShared,
  async fn() {
    // tls12.pcap is short; at recorded pace the run still completes with the same events.
    const fast = await capture([
      "--read",
      FOXIO + "tls12.pcap",
      "-o",
      "-",
      "--stats-interval",
      "0",
    ]);
    const paced = await capture([
      "--read",
      FOXIO + "tls12.pcap",
      "--realtime",
      "-o",
      "-",
      "--stats-interval",
      "0",
    ]);
    assertEquals(paced.code, 0, paced.stderr);
    assertEquals(parseLines(paced.stdout), parseLines(fast.stdout));
  },
});

Deno.test("capture --read of a file that is not a capture: exit 1, a message with the offset", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "this is not a capture file\n".repeat(10));
    const run = await capture(["--read", `${dir}/notes.txt`, "-o", "-", "--stats-interval", "0"]);
    assertEquals(run.code, 1);
    assertMatch(run.stderr, /offset/);
    assertEquals(run.stdout, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("capture without an interface or --read: exit 1 with what to pass", async () => {
  const run = await capture(["-o", "-"]);
  assertEquals(run.code, 1);
  assertMatch(run.stderr, /--interface IF/);
});

Deno.test({
  name: "capture as an unprivileged user: exit 1, says root or CAP_NET_RAW",
  ignore: Deno.uid() !== 0 || !(() => {
    try {
      return Deno.statSync("/usr/bin/setpriv").isFile;
    } catch {
      return false;
    }
  })(),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.chmod(dir, 0o777);
      const run = await capture(
        ["--interface", "lo", "-o", "-"],
        { DENO_DIR: dir, HOME: dir },
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"],
      );
      assertEquals(run.code, 1, run.stderr);
      assertMatch(run.stderr, /needs root or CAP_NET_RAW/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
