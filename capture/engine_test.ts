import { assertEquals } from "../lib/testing.ts";
import type { EngineRecord } from "../core-wasm/mod.ts";
import { createHandshakeEngine, fromEngineRecord } from "./engine.ts";
import { CaptureError } from "./errors.ts";

const base: EngineRecord = {
  kind: "client_hello",
  flow: 1,
  ts_us: 1_700_000_000_000_001,
  transport: "tcp",
  src: "192.0.2.1",
  src_port: 50000,
  dst: "198.51.100.2",
  dst_port: 443,
  ip_ttl: 64,
};

Deno.test("fromEngineRecord: addresses, fingerprints and TCP values carried over", () => {
  const rec = fromEngineRecord({
    ...base,
    ja4: "t13d1516h2_8daaf6152771_e5627efa2ab1",
    ja3: "1c258ebef8eee2dfa3df6d8d07285af9",
    tls_server_name: "example.com",
    alpn: "h2",
    cipher_count: 15,
    extension_count: 16,
  });
  assertEquals(rec.kind, "client_hello");
  assertEquals([rec.src_ip, rec.src_port, rec.dst_ip, rec.dst_port], [
    "192.0.2.1",
    50000,
    "198.51.100.2",
    443,
  ]);
  assertEquals(rec.tls_server_name, "example.com");
  assertEquals([rec.alpn, rec.cipher_count, rec.extension_count, rec.ip_ttl], ["h2", 15, 16, 64]);
  const syn = fromEngineRecord({
    ...base,
    kind: "syn",
    ja4t: "65495_2-4-8-1-3_65495_7",
    tcp_window: 65495,
  });
  assertEquals([syn.kind, syn.ja4t, syn.tcp_window], ["syn", "65495_2-4-8-1-3_65495_7", 65495]);
  assertEquals(fromEngineRecord({ ...base, kind: "http_request" }).kind, "other");
});

Deno.test("createHandshakeEngine: a stream that is not a capture is a CaptureError", async () => {
  const engine = await createHandshakeEngine({ maxFlows: 1024, reassemblySlabs: 16 });
  let err: unknown;
  try {
    engine.push(new TextEncoder().encode("definitely not a pcap file, just text"));
    engine.finish();
  } catch (e) {
    err = e;
  }
  assertEquals(err instanceof CaptureError, true);
  assertEquals((err as CaptureError).code, "BAD_CAPTURE");
});
