import { assert, assertEquals } from "../lib/testing.ts";
import { loadConfig } from "../lib/config.ts";
import { LIB_CONFIG_KEYS } from "../lib/settings.ts";
import { CAPTURE_CONFIG_KEYS } from "./config.ts";
import { directives, ja4EnvFile } from "../tests/helpers/systemd_unit.ts";

const here = new URL(".", import.meta.url).pathname;
const unitText = Deno.readTextFileSync(`${here}ja4-capture.service`);

Deno.test("ja4-capture.service: unprivileged, capabilities only, hardened, restarts", () => {
  const d = directives(unitText);
  const one = (k: string) => d.get(k)?.[0];
  assert(one("User") && one("User") !== "root", "runs as a dedicated user");
  assertEquals(one("AmbientCapabilities"), "CAP_NET_RAW CAP_NET_ADMIN");
  assertEquals(one("CapabilityBoundingSet"), "CAP_NET_RAW CAP_NET_ADMIN");
  assertEquals(one("NoNewPrivileges"), "yes");
  assertEquals(one("ProtectSystem"), "strict");
  assertEquals(one("PrivateTmp"), "yes");
  assertEquals(one("ProtectHome"), "yes");
  assertEquals(one("Restart"), "always");
  assertEquals(one("RuntimeDirectory"), "logcorr");
  assertEquals(one("EnvironmentFile"), "/etc/ja4/capture.env");
  // Without XDG_RUNTIME_DIR the default socket would land in the private /tmp: it is named.
  assert(d.get("Environment")!.includes("JA4_CAPTURE_SOCKET=/run/logcorr/network.socket"));
  assert(one("ExecStart")!.endsWith("main.ts capture"));
});

Deno.test("capture.env.example: every variable is a valid setting", () => {
  const env = ja4EnvFile(Deno.readTextFileSync(`${here}capture.env.example`));
  assert(Object.keys(env).length >= 3);
  const cfg = loadConfig([...LIB_CONFIG_KEYS, ...CAPTURE_CONFIG_KEYS], { env });
  assertEquals(cfg.string("capture.interface"), "eth0");
});

Deno.test({
  name: "ja4-capture.service: systemd-analyze verify accepts it",
  ignore: (() => {
    try {
      return !Deno.statSync("/usr/bin/systemd-analyze").isFile;
    } catch {
      return true;
    }
  })(),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // Point ExecStart at a binary that exists here; everything else is verified as shipped.
      const unit = unitText.replace(
        /^ExecStart=\S+/m,
        `ExecStart=${Deno.execPath()}`,
      );
      await Deno.writeTextFile(`${dir}/ja4-capture.service`, unit);
      const out = await new Deno.Command("systemd-analyze", {
        args: ["verify", `${dir}/ja4-capture.service`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
      // Unknown directives and bad values are reported as lines naming the unit file.
      const problems = text.split("\n").filter((l) => l.includes("ja4-capture.service"));
      assertEquals(problems, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
