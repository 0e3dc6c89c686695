// `ja4 detect` as a user meets it: configuration mistakes exit 2 with the key to fix, and a run
// on an empty (migrated) database exits 1 saying there is nothing to train on.
import { assert, assertEquals, assertMatch } from "../lib/testing.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function ja4(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("ja4 detect: config errors exit 2; --once on an empty database exits 1 with a hint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ja4-detect-cli-" });
  try {
    const env = { JA4_DATA_DIR: dir };
    const thresholds = await ja4(["detect", "--once"], {
      ...env,
      JA4_DETECTOR_THRESHOLD_MEDIUM: "0.7",
    });
    assertEquals(thresholds.code, 2, thresholds.stderr);
    assertMatch(thresholds.stderr, /medium < high < critical/);

    const exposed = await ja4(["detect", "--bind", "0.0.0.0", "--port", "0"], env);
    assertEquals(exposed.code, 2, exposed.stderr);
    assertMatch(exposed.stderr, /set detector\.token/);

    const migrate = await ja4(["migrate"], env);
    assertEquals(migrate.code, 0, migrate.stderr);
    const empty = await ja4(["detect", "--once"], env);
    assertEquals(empty.code, 1, empty.stderr);
    assert(empty.stderr.includes("nothing to train on"), empty.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
