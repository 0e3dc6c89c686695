import { assert, assertEquals } from "../lib/testing.ts";
import { loadConfig } from "../lib/config.ts";
import { LIB_CONFIG_KEYS } from "../lib/settings.ts";
import { STORAGE_CONFIG_KEYS } from "../lib/storage/config.ts";
import { CORRELATOR_CONFIG_KEYS } from "./config.ts";
import { directives, ja4EnvFile } from "../tests/helpers/systemd_unit.ts";

const here = new URL(".", import.meta.url).pathname;
const unitPath = `${here}ja4-correlator.service`;

Deno.test("ja4-correlator.service: unprivileged, no capabilities, hardened, named sockets", () => {
  const d = directives(Deno.readTextFileSync(unitPath));
  const one = (k: string) => d.get(k)?.[0];
  assert(one("User") && one("User") !== "root", "runs as a dedicated user");
  assertEquals(one("CapabilityBoundingSet"), "");
  assertEquals(one("NoNewPrivileges"), "yes");
  assertEquals(one("ProtectSystem"), "strict");
  assertEquals(one("StateDirectory"), "ja4");
  assertEquals(one("RuntimeDirectory"), "logcorr");
  assertEquals(one("RuntimeDirectoryPreserve"), "yes");
  assertEquals(one("Restart"), "always");
  assert(one("ExecStart")!.endsWith("main.ts correlate"));
  const env = d.get("Environment")!;
  assert(env.includes("JA4_CORRELATOR_HTTP_SOCKET=/run/logcorr/http.socket"));
  assert(env.includes("JA4_CORRELATOR_NETWORK_SOCKET=/run/logcorr/network.socket"));
  assert(env.includes("JA4_DATA_DIR=/var/lib/ja4"));
  // Every JA4_* setting in the unit is a real key.
  const vars = Object.fromEntries(
    env.filter((e) => e.startsWith("JA4_")).map((e) => e.split("=", 2) as [string, string]),
  );
  loadConfig([...LIB_CONFIG_KEYS, ...STORAGE_CONFIG_KEYS, ...CORRELATOR_CONFIG_KEYS], {
    env: vars,
  });
});

Deno.test("correlator.env.example: every variable is a valid setting", () => {
  const env = ja4EnvFile(Deno.readTextFileSync(`${here}correlator.env.example`));
  const cfg = loadConfig([...LIB_CONFIG_KEYS, ...STORAGE_CONFIG_KEYS, ...CORRELATOR_CONFIG_KEYS], {
    env,
  });
  assertEquals(cfg.list("correlator.sinks"), ["clickhouse"]);
  assertEquals(cfg.int("correlator.metrics_port"), 9464);
});

Deno.test({
  name: "ja4-correlator.service: systemd-analyze verify reports no error in the unit",
  ignore: (() => {
    try {
      return !Deno.statSync("/usr/bin/systemd-analyze").isFile;
    } catch {
      return true;
    }
  })(),
  async fn() {
    const out = await new Deno.Command("/usr/bin/systemd-analyze", {
      args: ["verify", unitPath],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    // Paths of an uninstalled platform (/opt, /etc/ja4) are missing here; syntax errors are not.
    const mine = text.split("\n").filter((l) =>
      l.includes("ja4-correlator.service") &&
      !/No such file|not executable|Failed to|EnvironmentFile/i.test(l)
    );
    assertEquals(mine, [], text);
  },
});
