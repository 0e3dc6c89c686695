import { assertEquals, assertThrows } from "../lib/testing.ts";
import { loadConfig } from "../lib/config.ts";
import { ConfigError } from "../lib/errors.ts";
import { CAPTURE_CONFIG_KEYS, defaultFilter } from "./config.ts";

Deno.test("defaultFilter: TLS ports with every TCP segment, QUIC ports on UDP", () => {
  assertEquals(
    defaultFilter(["443", "8443"], ["443"]),
    "(tcp and (port 443 or port 8443)) or (udp and (port 443))",
  );
  assertEquals(defaultFilter(["443"], []), "(tcp and (port 443))");
  assertEquals(defaultFilter([], ["4433"]), "(udp and (port 4433))");
});

Deno.test("capture config: defaults load and bad ports or CIDRs are rejected", () => {
  const cfg = loadConfig(CAPTURE_CONFIG_KEYS);
  assertEquals(cfg.list("capture.tls_ports"), ["443", "8443"]);
  assertEquals(cfg.string("capture.output"), "socket");
  assertThrows(
    () => loadConfig(CAPTURE_CONFIG_KEYS, { env: { JA4_CAPTURE_TLS_PORTS: "443,70000" } }),
    ConfigError,
    "'70000' is not a port number",
  );
  assertThrows(
    () => loadConfig(CAPTURE_CONFIG_KEYS, { flags: { "capture.deny": "10.0.0.1/8" } }),
    ConfigError,
    "host bits set",
  );
  const ok = loadConfig(CAPTURE_CONFIG_KEYS, { flags: { "capture.deny": "10.0.0.0/8,::1" } });
  assertEquals(ok.list("capture.deny"), ["10.0.0.0/8", "::1"]);
});
