// The `ja4` command line as a user meets it: help, errors with exit code 2, config print,
// and `ja4 start` stopping cleanly on Ctrl-C.
import { assert, assertEquals, assertMatch } from "../lib/testing.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const COMMANDS = [
  "start",
  "config",
  "fingerprint",
  "capture",
  "correlate",
  "detect",
  "migrate",
  "sql",
];

async function ja4(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("ja4 --help lists every command; --version prints the version", async () => {
  const help = await ja4(["--help"]);
  assertEquals(help.code, 0);
  for (const cmd of COMMANDS) {
    assertMatch(help.stdout, new RegExp(`^  ${cmd} `, "m"));
  }
  const version = await ja4(["--version"]);
  assertEquals(version.code, 0);
  assertMatch(version.stdout, /^ja4 \d+\.\d+\.\d+ \(deno /);
});

Deno.test("unknown command or flag: exactly one line on stderr, exit code 2", async () => {
  const nope = await ja4(["nope"]);
  assertEquals(nope.code, 2);
  assertEquals(nope.stdout, "");
  assertEquals(nope.stderr, "ja4: unknown command 'nope' (see 'ja4 --help')\n");
  const flag = await ja4(["config", "print", "--frobnicate"]);
  assertEquals(flag.code, 2);
  assertEquals(
    flag.stderr,
    "ja4 config: Unknown option '--frobnicate' (see 'ja4 config --help')\n",
  );
  const sub = await ja4(["config", "show"]);
  assertEquals(sub.code, 2);
  assertEquals(sub.stderr.trim().split("\n").length, 1);
});

Deno.test("every command has --help", async () => {
  for (const cmd of COMMANDS) {
    const r = await ja4([cmd, "--help"]);
    assertEquals(r.code, 0, `${cmd} --help: ${r.stderr}`);
    assertMatch(r.stdout, /Usage: ja4 /);
    assertMatch(r.stdout, /--log-level LEVEL/);
  }
});

Deno.test("config print shows values and their sources across file, env and flags", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/ja4.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ log: { format: "json", level: "warn" }, data_dir: "/srv/a" }),
    );
    const r = await ja4(["config", "print", "--config", file, "--log-level", "debug"], {
      JA4_DATA_DIR: "/srv/b",
    });
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout, /^log\.level\s+"debug"\s+flag\s+JA4_LOG_LEVEL/m);
    assertMatch(r.stdout, /^log\.format\s+"json"\s+file\s+JA4_LOG_FORMAT/m);
    assertMatch(r.stdout, /^data_dir\s+"\/srv\/b"\s+env\s+JA4_DATA_DIR/m);
    assertMatch(r.stdout, /^shutdown\.timeout_ms\s+10000\s+default/m);
    const json = await ja4(["config", "print", "--json"], { JA4_CONFIG: file });
    assertEquals(JSON.parse(json.stdout)["log.format"], "json");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad config value is one actionable line and exit code 2", async () => {
  const r = await ja4(["config", "print"], { JA4_SHUTDOWN_TIMEOUT_MS: "soon" });
  assertEquals(r.code, 2);
  assertEquals(
    r.stderr,
    "ja4 config: config shutdown.timeout_ms = 'soon' (from env JA4_SHUTDOWN_TIMEOUT_MS) is invalid: expected an integer from 100 to 600000\n",
  );
  const missing = await ja4(["config", "print", "--config", "/nonexistent/ja4.json"]);
  assertEquals(missing.code, 2);
  assertMatch(missing.stderr, /config file \/nonexistent\/ja4.json cannot be read/);
});

Deno.test("ja4 start runs, says what runs where, and stops cleanly on SIGINT", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "start", "--data-dir", `${dir}/data`],
      env: { NO_COLOR: "1", JA4_LOG_FORMAT: "json" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let banner = "";
    while (!banner.includes("Press Ctrl-C to stop.")) {
      const { value, done } = await reader.read();
      if (done) break;
      banner += value;
    }
    assertMatch(banner, /ja4 platform running/);
    child.kill("SIGINT");
    const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
    await reader.cancel();
    assertEquals(status.code, 0, stderr);
    assert(stderr.includes('"msg":"stopped"'), stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
