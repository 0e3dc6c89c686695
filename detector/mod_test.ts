import { assertEquals, assertThrows } from "../lib/testing.ts";
import { UsageError } from "../lib/errors.ts";
import { detectCommand, parseRunTime } from "./mod.ts";

Deno.test("--at accepts ClickHouse and ISO UTC times, rejects the rest", () => {
  assertEquals(parseRunTime("2026-01-01 12:00:00").toISOString(), "2026-01-01T12:00:00.000Z");
  assertEquals(parseRunTime("2026-01-01T12:30").toISOString(), "2026-01-01T12:30:00.000Z");
  assertEquals(parseRunTime("2026-01-01T12:00:00+02:00").toISOString(), "2026-01-01T10:00:00.000Z");
  assertThrows(() => parseRunTime("yesterday"), UsageError, "is not a time");
  assertThrows(() => parseRunTime("2026-13-45 99:00:00"), UsageError, "is not a time");
});

Deno.test("detect command declares its flags with config keys", () => {
  const keys = Object.fromEntries(detectCommand.flags.map((f) => [f.name, f.configKey]));
  assertEquals(keys, {
    once: undefined,
    interval: "detector.interval_s",
    bind: "detector.bind",
    port: "detector.port",
    at: undefined,
    seed: "detector.seed",
  });
});
