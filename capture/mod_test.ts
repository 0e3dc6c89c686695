import { assertEquals } from "../lib/testing.ts";
import { loadConfig } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { LIB_CONFIG_KEYS } from "../lib/settings.ts";
import type { CommandContext } from "../lib/cli.ts";
import { CAPTURE_CONFIG_KEYS } from "./config.ts";
import { captureCommand, captureService } from "./mod.ts";

function context(env: Record<string, string>): CommandContext {
  const controller = new AbortController();
  return {
    config: loadConfig([...LIB_CONFIG_KEYS, ...CAPTURE_CONFIG_KEYS], { env }),
    flags: {},
    args: [],
    log: createLogger({ level: "error", write: () => {} }),
    signal: controller.signal,
    shutdown: {
      signal: controller.signal,
      onShutdown() {},
      trigger: () => Promise.resolve(),
      dispose() {},
    },
  };
}

Deno.test("captureService: skipped with the reason when no interface is configured", async () => {
  assertEquals(await captureService(context({})), {
    skipped: "no capture.interface configured (JA4_CAPTURE_INTERFACE)",
  });
});

Deno.test("captureCommand: every flag with a config key names a declared capture key", () => {
  const keys = new Set(CAPTURE_CONFIG_KEYS.map((k) => k.key));
  for (const f of captureCommand.flags) {
    if (f.configKey) assertEquals(keys.has(f.configKey), true, f.configKey);
  }
});
