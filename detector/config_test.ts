import { assertEquals, assertThrows } from "../lib/testing.ts";
import { loadConfig } from "../lib/config.ts";
import { ConfigError } from "../lib/errors.ts";
import { DETECTOR_CONFIG_KEYS, paramsFromConfig } from "./config.ts";
import { DEFAULT_PARAMS } from "./model.ts";
import { checkExposure } from "./service.ts";

Deno.test("config defaults are the model defaults", () => {
  assertEquals(paramsFromConfig(loadConfig(DETECTOR_CONFIG_KEYS)), DEFAULT_PARAMS);
});

Deno.test("thresholds that do not ascend are a ConfigError naming the keys", () => {
  const cfg = loadConfig(DETECTOR_CONFIG_KEYS, {
    env: { JA4_DETECTOR_THRESHOLD_HIGH: "0.5", JA4_DETECTOR_THRESHOLD_MEDIUM: "0.6" },
  });
  assertThrows(() => paramsFromConfig(cfg), ConfigError, "medium < high < critical");
});

Deno.test("an API exposed beyond loopback needs a token", () => {
  checkExposure("127.0.0.1", "");
  checkExposure("::1", "");
  checkExposure("0.0.0.0", "secret");
  assertThrows(() => checkExposure("0.0.0.0", ""), ConfigError, "set detector.token");
});
