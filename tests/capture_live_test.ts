/**
 * Live capture on `lo` with real clients (openssl s_client, curl, Node tls/https) against a
 * local TLS server, checked against tcpdump's recording of the same traffic:
 * - every ClientHello appears exactly once, with the fingerprints the offline path computes
 *   (`ja4 fingerprint` on the tcpdump file, and `ja4 capture --read` on it);
 * - JA4S arrives as one `update` per handshake;
 * - SIGTERM flushes every event.
 * Needs root (or CAP_NET_RAW) and tcpdump/tshark/openssl/curl/node; skips with a message otherwise.
 */
import { assert, assertEquals } from "../lib/testing.ts";
import type { TlsEvent } from "../lib/events.ts";
import { canCapture } from "../capture/privileges.ts";
import { readNdjson, startCaptureProcess } from "./helpers/capture_process.ts";
import { startTcpdump } from "./helpers/tcpdump.ts";
import {
  clientMatrix,
  clientsAvailable,
  runChromium,
  runClients,
  udpSink,
} from "./helpers/tls_clients.ts";
import { startTlsServer } from "./helpers/tls_server.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function missingTools(): Promise<string[]> {
  const missing = await clientsAvailable();
  for (const tool of ["tcpdump", "tshark"]) {
    try {
      await new Deno.Command(tool, { args: ["--version"], stdout: "null", stderr: "null" })
        .output();
    } catch {
      missing.push(tool);
    }
  }
  return missing;
}

const skipReason = !canCapture()
  ? "needs root or CAP_NET_RAW for live capture on lo"
  : (await missingTools()).map((t) => `${t} not installed`).join(", ");
if (skipReason) console.warn(`capture_live_test: skipped (${skipReason})`);

async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Client ports of every ClientHello in a capture, per tshark (an independent count). */
async function tsharkHelloPorts(pcap: string, port: number): Promise<number[]> {
  const out = await new Deno.Command("tshark", {
    args: [
      "-n",
      "-r",
      pcap,
      // An ephemeral port may belong to another dissector: decode it as TLS.
      "-d",
      `tcp.port==${port},tls`,
      "-Y",
      "tls.handshake.type == 1",
      "-T",
      "fields",
      "-e",
      "tcp.srcport",
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim()).map(Number);
}

const FIELDS = [
  "ja4",
  "ja4_r",
  "ja4_o",
  "ja4_ro",
  "ja3",
  "ja3_full",
  "tls_server_name",
  "ja4t",
] as const;

Deno.test({
  name: "live capture on lo: every real handshake once, with the offline path's fingerprints",
  ignore: skipReason !== "",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ja4-live-" });
    const server = await startTlsServer();
    try {
      const filter = `tcp port ${server.port}`;
      const ref = await startTcpdump("lo", filter, `${dir}/ref.pcap`);
      const liveFile = `${dir}/live.ndjson`;
      const cap = await startCaptureProcess([
        "--interface",
        "lo",
        "--filter",
        filter,
        "--output",
        liveFile,
        "--stats-interval",
        "0",
      ]);
      const specs = clientMatrix(server.host, server.port);
      const results = await runClients(specs);
      await ref.stop();
      // Stop at once: the graceful shutdown must take the last packets and flush every event.
      const stopped = await cap.stop();
      assertEquals(stopped.code, 0, stopped.stderr);

      const live = await readNdjson<TlsEvent>(liveFile);
      const hellos = live.filter((e) => !e.update);
      const updates = live.filter((e) => e.update);

      // Independent count: tshark's ClientHellos in tcpdump's recording of the same traffic.
      const tsharkPorts = await tsharkHelloPorts(`${dir}/ref.pcap`, server.port);
      const connections = specs.reduce((n, s) => n + s.connections, 0);
      assert(
        tsharkPorts.length >= connections,
        `tshark saw ${tsharkPorts.length} hellos for ${connections} connections; clients: ${
          JSON.stringify(results.map((r) => [r.name, r.code, r.stderr.slice(0, 200)]))
        }`,
      );
      assertEquals(
        hellos.map((e) => e.src_port).sort(),
        tsharkPorts.sort(),
        "one live event per ClientHello on the wire",
      );
      // Exactly once: no two hello events for the same hello (port + time).
      const keys = new Set(hellos.map((e) => `${e.src_port}/${e.ts_us}`));
      assertEquals(keys.size, hellos.length);
      // The HelloRetryRequest client's connection carried two hellos, both reported.
      const hrr = results.findIndex((r) => r.name === "openssl-hrr");
      assert(hrr >= 0);

      // Offline path 1: `ja4 fingerprint` (one record per connection, first hello).
      const fp = await runMain(["fingerprint", "--format", "jsonl", `${dir}/ref.pcap`]);
      assertEquals(fp.code, 0, fp.stderr);
      const offline = fp.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assertEquals(offline.length, connections);
      for (const rec of offline) {
        const first = hellos.filter((e) => e.src_port === rec.src_port)
          .sort((a, b) => a.ts_us - b.ts_us)[0];
        assert(first, `no live event for connection from port ${rec.src_port}`);
        for (const f of FIELDS) {
          assertEquals(first[f] ?? "", rec[f] ?? "", `${f} of port ${rec.src_port}`);
        }
        const upd = updates.filter((u) => u.src_port === rec.src_port && u.ts_us === first.ts_us);
        if (rec.ja4s) {
          assertEquals(upd.length, 1, `one JA4S update for port ${rec.src_port}`);
          assertEquals(upd[0].ja4s, rec.ja4s);
        }
      }

      // Offline path 2: the same file through the sensor (`--read`) gives the same events.
      const replay = await runMain([
        "capture",
        "--read",
        `${dir}/ref.pcap`,
        "--output",
        "-",
        "--stats-interval",
        "0",
      ]);
      assertEquals(replay.code, 0, replay.stderr);
      const replayed = replay.stdout.trim().split("\n").map((l) => JSON.parse(l) as TlsEvent);
      const canon = (evs: TlsEvent[]) => evs.map((e) => JSON.stringify({ ...e, ts_us: 0 })).sort();
      assertEquals(canon(replayed), canon(live));
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "live capture on lo over IPv6: ::1 handshakes with IPv6 addresses and the offline JA4",
  ignore: skipReason !== "",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ja4-live6-" });
    const server = await startTlsServer({ hostname: "::1" });
    try {
      const filter = `ip6 and tcp port ${server.port}`;
      const ref = await startTcpdump("lo", filter, `${dir}/ref6.pcap`);
      const liveFile = `${dir}/live6.ndjson`;
      const cap = await startCaptureProcess([
        "--interface",
        "lo",
        "--filter",
        filter,
        "--output",
        liveFile,
        "--stats-interval",
        "0",
      ]);
      const results = await runClients([
        {
          name: "openssl-v6",
          cmd: "openssl",
          args: ["s_client", "-connect", `[::1]:${server.port}`, "-servername", "v6.example"],
          stdin: "",
          connections: 1,
        },
        {
          name: "curl-v6",
          cmd: "curl",
          args: ["-sk", "-o", "/dev/null", "--max-time", "5", `https://[::1]:${server.port}/`],
          connections: 1,
        },
      ]);
      await ref.stop();
      const stopped = await cap.stop();
      assertEquals(stopped.code, 0, stopped.stderr);
      const hellos = (await readNdjson<TlsEvent>(liveFile)).filter((e) => !e.update);
      assertEquals(hellos.length, 2, JSON.stringify(results));
      for (const e of hellos) assertEquals([e.src_ip, e.dst_ip], ["::1", "::1"]);
      const fp = await runMain(["fingerprint", "--format", "jsonl", `${dir}/ref6.pcap`]);
      assertEquals(fp.code, 0, fp.stderr);
      const offline = fp.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assertEquals(
        hellos.map((e) => `${e.src_port} ${e.ja4} ${e.tls_server_name ?? ""}`).sort(),
        offline.map((r) => `${r.src_port} ${r.ja4} ${r.tls_server_name ?? ""}`).sort(),
      );
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "live capture of QUIC: Chromium's Initial packets give q… JA4 events equal to offline",
  ignore: skipReason !== "" || Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // A UDP sink on 127.0.0.1:443 that never answers: Chromium keeps sending its Initial
    // packets (the whole ClientHello, split across CRYPTO frames and packets) instead of
    // giving up on an ICMP port-unreachable after the first one.
    const sink = await udpSink(443);
    const dir = await Deno.makeTempDir({ prefix: "ja4-quic-" });
    try {
      const filter = "udp port 443";
      const ref = await startTcpdump("lo", filter, `${dir}/quic.pcap`);
      const liveFile = `${dir}/quic.ndjson`;
      const cap = await startCaptureProcess([
        "--interface",
        "lo",
        "--filter",
        filter,
        "--output",
        liveFile,
        "--stats-interval",
        "0",
      ]);
      const run = await runChromium("https://ja4.test/", {
        extraArgs: ["--enable-quic", "--origin-to-force-quic-on=ja4.test:443"],
        handshakeOnly: true,
        timeoutMs: 4000,
      });
      await ref.stop();
      const stopped = await cap.stop();
      if (!run.ok) {
        console.warn(`QUIC live test: Chromium did not start (${run.reason}); nothing to check`);
        return;
      }
      assertEquals(stopped.code, 0, stopped.stderr);
      const live = (await readNdjson<TlsEvent>(liveFile)).filter((e) => !e.update);
      assert(live.length >= 1, `no QUIC hello captured live: ${stopped.stderr}`);
      for (const e of live) {
        assertEquals(e.transport, "quic");
        assert(e.ja4.startsWith("q13"), e.ja4);
        assertEquals(e.tls_server_name, "ja4.test");
      }
      const fp = await runMain(["fingerprint", "--format", "jsonl", `${dir}/quic.pcap`]);
      assertEquals(fp.code, 0, fp.stderr);
      const offline = fp.stdout.trim().split("\n").filter((l) => l).map((l) => JSON.parse(l));
      assertEquals(
        [...new Set(live.map((e) => `${e.src_port} ${e.ja4} ${e.ja4_r}`))].sort(),
        offline.map((r) => `${r.src_port} ${r.ja4} ${r.ja4_r}`).sort(),
      );
    } finally {
      await sink.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
