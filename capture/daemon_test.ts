import { assertEquals } from "../lib/testing.ts";
import { snapshot } from "./daemon.ts";

const builder = {
  hellos: 5,
  updates: 4,
  syns: 5,
  filtered: 1,
  orphan_server_hellos: 0,
  evicted: 0,
  flows: 5,
};
const output = { sent: 9, dropped: 2, queued: 3, connected: true, connects: 1 };

Deno.test("snapshot: live counters come from the loop and pcap_stats", () => {
  const s = snapshot(
    { packets: 100, bytes: 9000, rounds: 3 },
    { received: 120, dropped: 7, ifDropped: 1 },
    builder,
    output,
    { packets: 100 },
  );
  assertEquals(
    [s.packets, s.kernel_received, s.kernel_drops, s.if_drops, s.handshakes, s.updates],
    [100, 120, 7, 1, 5, 4],
  );
  assertEquals([s.our_drops, s.queue, s.sent, s.connected, s.flows], [2, 3, 9, true, 5]);
});

Deno.test("snapshot: file replay takes packets from the engine and has no kernel counters", () => {
  const s = snapshot({ packets: 0, bytes: 5000, rounds: 1 }, undefined, builder, output, {
    packets: 42,
  });
  assertEquals([s.packets, s.kernel_received, s.kernel_drops], [42, 0, 0]);
});
