import { assert, assertEquals, assertRejects, assertThrows } from "./testing.ts";
import { type ConfigKey, envName, loadConfig, readConfigFile } from "./config.ts";
import { ConfigError } from "./errors.ts";

const KEYS: ConfigKey[] = [
  { key: "log.level", type: "enum", choices: ["debug", "info"], default: "info", description: "" },
  { key: "capture.snaplen", type: "int", min: 64, max: 262144, default: 65535, description: "" },
  { key: "capture.promisc", type: "bool", default: false, description: "" },
  { key: "capture.ports", type: "list", default: ["443"], description: "" },
  { key: "detector.ratio", type: "number", min: 0, max: 1, default: 0.5, description: "" },
  { key: "storage.password", type: "string", default: "", description: "", secret: true },
  {
    key: "capture.interface",
    type: "string",
    default: "any",
    description: "",
    validate: (v) => (String(v).includes(" ") ? "must not contain spaces" : undefined),
  },
];

Deno.test("envName maps dotted keys to JA4_ variables", () => {
  assertEquals(envName("capture.snaplen"), "JA4_CAPTURE_SNAPLEN");
  assertEquals(envName("shutdown.timeout_ms"), "JA4_SHUTDOWN_TIMEOUT_MS");
});

Deno.test("precedence: defaults < file < env < flags, with sources", () => {
  const only = loadConfig(KEYS);
  assertEquals(only.int("capture.snaplen"), 65535);
  assertEquals(only.source("capture.snaplen"), "default");

  const file = { path: "c.json", data: { capture: { snaplen: 1000, promisc: true } } };
  const env = { JA4_CAPTURE_SNAPLEN: "2000", PATH: "/bin", HOME: "/root" };
  const layered = loadConfig(KEYS, { file, env });
  assertEquals(layered.int("capture.snaplen"), 2000);
  assertEquals(layered.source("capture.snaplen"), "env");
  assertEquals(layered.bool("capture.promisc"), true);
  assertEquals(layered.source("capture.promisc"), "file");

  const flagged = loadConfig(KEYS, { file, env, flags: { "capture.snaplen": "3000" } });
  assertEquals(flagged.int("capture.snaplen"), 3000);
  assertEquals(flagged.source("capture.snaplen"), "flag");
  assertEquals(flagged.source("log.level"), "default");
});

Deno.test("file keys may be nested or flat; unknown keys are rejected", () => {
  const cfg = loadConfig(KEYS, {
    file: { path: "f.json", data: { "capture.ports": ["443", "8443"], log: { level: "debug" } } },
  });
  assertEquals(cfg.list("capture.ports"), ["443", "8443"]);
  assertEquals(cfg.string("log.level"), "debug");
  const err = assertThrows(
    () => loadConfig(KEYS, { file: { path: "f.json", data: { capture: { snaplenn: 1 } } } }),
    ConfigError,
  );
  assertEquals(
    err.message,
    "config file f.json: unknown key capture.snaplenn (see 'ja4 config print' for the keys)",
  );
  assertThrows(() => loadConfig(KEYS, { file: { path: "f.json", data: [1] } }), ConfigError);
});

Deno.test("unknown JA4_ variables are errors; other variables and JA4_CONFIG are ignored", () => {
  const err = assertThrows(
    () => loadConfig(KEYS, { env: { JA4_CAPTURE_SNAPLN: "1" } }),
    ConfigError,
  );
  assert(err.message.includes("JA4_CAPTURE_SNAPLN is not a known setting"), err.message);
  loadConfig(KEYS, { env: { JA4_CONFIG: "/etc/ja4.json", LANG: "C" } });
});

Deno.test("validation errors name the key, the value, the source and what is allowed", () => {
  const cases: [Parameters<typeof loadConfig>[1], string][] = [
    [
      { env: { JA4_LOG_LEVEL: "loud" } },
      "config log.level = 'loud' (from env JA4_LOG_LEVEL) is invalid: expected one of debug, info",
    ],
    [
      { flags: { "capture.snaplen": "10" } },
      "config capture.snaplen = '10' (from flag) is invalid: expected an integer from 64 to 262144",
    ],
    [
      { flags: { "capture.snaplen": "1.5" } },
      "config capture.snaplen = '1.5' (from flag) is invalid: expected an integer from 64 to 262144",
    ],
    [
      { file: { path: "/etc/ja4.json", data: { capture: { promisc: "maybe" } } } },
      "config capture.promisc = 'maybe' (from file /etc/ja4.json) is invalid: expected true or false",
    ],
    [
      { env: { JA4_DETECTOR_RATIO: "1.5" } },
      "config detector.ratio = '1.5' (from env JA4_DETECTOR_RATIO) is invalid: expected a number from 0 to 1",
    ],
    [
      { env: { JA4_CAPTURE_INTERFACE: "eth 0" } },
      "config capture.interface = 'eth 0' (from env JA4_CAPTURE_INTERFACE) is invalid: must not contain spaces",
    ],
  ];
  for (const [inputs, message] of cases) {
    const err = assertThrows(() => loadConfig(KEYS, inputs), ConfigError);
    assertEquals(err.message, message);
    assertEquals(err.code, "BAD_VALUE");
  }
});

Deno.test("types: bools, lists from text and JSON, numbers", () => {
  const cfg = loadConfig(KEYS, {
    env: {
      JA4_CAPTURE_PROMISC: "yes",
      JA4_CAPTURE_PORTS: " 443, 8443 ,,9443",
      JA4_DETECTOR_RATIO: "0.25",
    },
  });
  assertEquals(cfg.bool("capture.promisc"), true);
  assertEquals(cfg.list("capture.ports"), ["443", "8443", "9443"]);
  assertEquals(cfg.number("detector.ratio"), 0.25);
  const json = loadConfig(KEYS, { env: { JA4_CAPTURE_PORTS: '["1","2"]' } });
  assertEquals(json.list("capture.ports"), ["1", "2"]);
  const bad = assertThrows(
    () => loadConfig(KEYS, { env: { JA4_CAPTURE_PORTS: "[1," } }),
    ConfigError,
  );
  assert(bad.message.includes("not valid JSON"), bad.message);
  assertThrows(() => loadConfig(KEYS, { env: { JA4_CAPTURE_PORTS: "[1,2]" } }), ConfigError);
});

Deno.test("secrets are masked in entries; typed getters refuse the wrong type", () => {
  const cfg = loadConfig(KEYS, { env: { JA4_STORAGE_PASSWORD: "hunter2" } });
  const entry = cfg.entries().find((e) => e.key === "storage.password")!;
  assertEquals(entry.value, "******");
  assertEquals(cfg.string("storage.password"), "hunter2");
  assertThrows(() => cfg.int("log.level"), ConfigError, "is enum");
  assertThrows(() => cfg.string("nope.key"), ConfigError, "not declared");
});

Deno.test("declaring a key twice or with an invalid default fails at load", () => {
  assertThrows(() => loadConfig([KEYS[0], KEYS[0]]), ConfigError, "declared twice");
  assertThrows(
    () => loadConfig([{ key: "a.b", type: "int", min: 5, default: 1, description: "" }]),
    ConfigError,
    "(from default)",
  );
});

Deno.test("with() overrides are validated like flags", () => {
  const cfg = loadConfig(KEYS).with({ "capture.snaplen": 128 });
  assertEquals(cfg.int("capture.snaplen"), 128);
  assertThrows(() => loadConfig(KEYS).with({ "capture.snaplen": 1 }), ConfigError);
});

Deno.test("readConfigFile: missing and malformed files are clear errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assertRejects(
      () => readConfigFile(`${dir}/missing.json`),
      ConfigError,
      "cannot be read",
    );
    await Deno.writeTextFile(`${dir}/bad.json`, "{ nope");
    await assertRejects(() => readConfigFile(`${dir}/bad.json`), ConfigError, "not valid JSON");
    await Deno.writeTextFile(`${dir}/ok.json`, '{"log": {"level": "debug"}}');
    const file = await readConfigFile(`${dir}/ok.json`);
    assertEquals(loadConfig(KEYS, { file }).string("log.level"), "debug");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
