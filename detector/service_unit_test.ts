import { assert, assertEquals } from "../lib/testing.ts";

const UNIT = new URL("./ja4-detector.service", import.meta.url);

/** Section → key → values (systemd allows repeated keys). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      section = head[1];
      out.set(section, new Map());
      continue;
    }
    const eq = line.indexOf("=");
    assert(eq > 0 && section !== "", `malformed unit line: ${line}`);
    const values = out.get(section)!;
    const key = line.slice(0, eq);
    values.set(key, [...(values.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

Deno.test("systemd unit runs 'main.ts detect' unprivileged, hardened, restarting", async () => {
  const unit = parseUnit(await Deno.readTextFile(UNIT));
  const svc = unit.get("Service")!;
  assert(svc.get("ExecStart")![0].endsWith("main.ts detect"), svc.get("ExecStart")![0]);
  assertEquals(svc.get("User"), ["ja4"]);
  assertEquals(svc.get("NoNewPrivileges"), ["yes"]);
  assertEquals(svc.get("CapabilityBoundingSet"), [""]);
  assertEquals(svc.get("ProtectSystem"), ["strict"]);
  assertEquals(svc.get("Restart"), ["always"]);
  assertEquals(svc.get("KillSignal"), ["SIGTERM"]);
  assertEquals(unit.get("Install")!.get("WantedBy"), ["multi-user.target"]);
  const docs = unit.get("Unit")!.get("Documentation")![0];
  assert(docs.endsWith("/detector/README.md"), docs);
  await Deno.stat(new URL("./README.md", import.meta.url)); // the documented file exists
});
