import { assert, assertEquals } from "../lib/testing.ts";
import { parseUnit } from "../tests/helpers/systemd_unit.ts";

const UNIT = new URL("./ja4-detector.service", import.meta.url);

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
