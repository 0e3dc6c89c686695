/**
 * `deno task bench:capture`: the live sensor on loopback — sustained handshakes/s and packets/s
 * with 0 kernel drops, CPU per 1,000 handshakes, memory.
 *
 * Real handshakes cannot be made at 5,000/s on 2 cores (the TLS server and clients would eat
 * the CPU the sensor needs), so real ones are recorded once and replayed:
 * 1. record: real clients (openssl s_client variants, curl, Node tls) against a local TLS
 *    server, captured with the sensor's own libpcap binding; each connection's packets up to and
 *    including the server's first flight (SYN, SYN/ACK, ACK, ClientHello, ServerHello…) become a
 *    template flow;
 * 2. replay: sender processes (`--sender`) inject the templates into `lo` (AF_PACKET, sendmmsg),
 *    each copy on a fresh 4-tuple (clients in 198.18.0.0/15, server 198.19.0.1:443, so the
 *    kernel drops them after the taps and nobody answers), paced at a target handshake rate;
 * 3. measure: the sensor runs as `ja4 capture -i lo` with the default filter and writes its
 *    events to /dev/null (capture path alone) and then, in a second run, to a UNIX socket read
 *    by a line counter in another process (like the correlator); its CPU comes from
 *    /proc/PID/stat, its memory from /proc/PID/status, kernel drops from its own stats lines.
 * Rates step up until drops appear (or the sender saturates); the table shows every step.
 *
 * Flags: --rates 5000,10000,15000,20000,25000 (handshakes/s)  --seconds 5  --senders 3  --nice 5
 * --sinks null,socket
 * --sensor-nice 0 (negative: shield the sensor and the line counter from other load on a shared
 * machine; root only). Internal modes: --sender (replay), --counter PATH (the consumer).
 * Needs root (or CAP_NET_RAW). Writes bench/results/capture.json and .md. Targets: ≥ 5,000
 * handshakes/s and ≥ 100,000 packets/s with 0 kernel drops.
 */
import { parseArgs } from "node:util";
import { ensureWasm } from "../core-wasm/mod.ts";
import { openLive } from "../capture/pcap_ffi.ts";
import { PcapBatch } from "../capture/pcap_stream.ts";
import { canCapture } from "../capture/privileges.ts";
import { clientMatrix, runClients } from "../tests/helpers/tls_clients.ts";
import { startTlsServer } from "../tests/helpers/tls_server.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    sender: { type: "boolean", default: false },
    templates: { type: "string" },
    rate: { type: "string" },
    seconds: { type: "string", default: "5" },
    offset: { type: "string", default: "0" },
    rates: { type: "string", default: "5000,10000,15000,20000,25000" },
    sinks: { type: "string", default: "null,socket" },
    counter: { type: "string" },
    senders: { type: "string", default: "3" },
    nice: { type: "string", default: "5" },
    "sensor-nice": { type: "string", default: "0" },
  },
});

const TARGET_HANDSHAKES = 5_000;
const TARGET_PACKETS = 100_000;
const CLIENT_NET = [198, 18];
const SERVER_IP = [198, 19, 0, 1];
const SERVER_PORT = 443;

/** One frame of a template flow: Ethernet bytes and which side sent it. */
interface TemplateFrame {
  fromClient: boolean;
  /** Offset of the IPv4 header and of the TCP header in the frame. */
  ip: number;
  tcp: number;
  bytes: number[];
}

// ---------------------------------------------------------------- recording (pure helpers)

/** Splits a classic-pcap batch into frames (Ethernet, IPv4, TCP only). */
function framesOf(batch: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const v = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  for (let off = 0; off + 16 <= batch.length;) {
    const caplen = v.getUint32(off + 8, true);
    out.push(batch.slice(off + 16, off + 16 + caplen));
    off += 16 + caplen;
  }
  return out;
}

/** Groups loopback frames into template flows (one per client connection, up to ServerHello). */
function templatesFrom(frames: Uint8Array[], serverPort: number): TemplateFrame[][] {
  const flows = new Map<number, { frames: TemplateFrame[]; done: boolean }>();
  for (const f of frames) {
    if (f.length < 54 || f[12] !== 0x08 || f[13] !== 0x00 || f[14 + 9] !== 6) continue;
    const ip = 14;
    const tcp = ip + (f[ip] & 0x0f) * 4;
    const sport = (f[tcp] << 8) | f[tcp + 1];
    const dport = (f[tcp + 2] << 8) | f[tcp + 3];
    const fromClient = dport === serverPort;
    const clientPort = fromClient ? sport : dport;
    const flags = f[tcp + 13];
    const syn = (flags & 0x02) !== 0 && (flags & 0x10) === 0;
    let flow = flows.get(clientPort);
    if (syn) {
      flow = { frames: [], done: false };
      flows.set(clientPort, flow);
    }
    if (!flow || flow.done) continue;
    flow.frames.push({ fromClient, ip, tcp, bytes: [...f] });
    const payload = f.length - (tcp + (f[tcp + 12] >> 4) * 4);
    if (!fromClient && payload > 0) flow.done = true; // the server's first flight: ServerHello
  }
  return [...flows.values()].filter((f) => f.done).map((f) => f.frames);
}

async function recordTemplates(): Promise<TemplateFrame[][]> {
  const server = await startTlsServer();
  const cap = openLive({
    device: "lo",
    filter: `tcp port ${server.port}`,
    immediate: true,
    bufferSize: 8 << 20,
  });
  const batch = new PcapBatch();
  let running = true;
  const pump = (async () => {
    while (running) {
      cap.dispatch(batch, 10_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    cap.dispatch(batch, 10_000);
  })();
  try {
    const specs = clientMatrix(server.host, server.port).filter((s) =>
      !s.name.includes("hrr") && !s.name.includes("h2-only")
    );
    await runClients(specs);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    running = false;
    await pump;
    cap.close();
    await server.stop();
  }
  return templatesFrom(framesOf(batch.bytes()), server.port);
}

// ---------------------------------------------------------------- sender process

/** A template frame ready to send: its bytes, patched in place per copy. */
interface WireFrame {
  bytes: Uint8Array<ArrayBuffer>;
  /** Offsets of the client and server addresses and ports in `bytes`. */
  cIp: number;
  sIp: number;
  cPort: number;
  sPort: number;
}

function toWire(t: TemplateFrame): WireFrame {
  const bytes = Uint8Array.from(t.bytes);
  const [cIp, sIp] = t.fromClient ? [t.ip + 12, t.ip + 16] : [t.ip + 16, t.ip + 12];
  const [cPort, sPort] = t.fromClient ? [t.tcp, t.tcp + 2] : [t.tcp + 2, t.tcp];
  bytes.set(SERVER_IP, sIp);
  bytes[sPort] = SERVER_PORT >> 8;
  bytes[sPort + 1] = SERVER_PORT & 255;
  return { bytes, cIp, sIp, cPort, sPort };
}

/** Writes the client side of copy `k` (198.18.0.0/15, ports 10000–59999) into a frame. */
function rewrite(f: WireFrame, k: number): void {
  const host = Math.floor(k / 50_000);
  const port = 10_000 + (k % 50_000);
  const b = f.bytes;
  b[f.cIp] = CLIENT_NET[0];
  b[f.cIp + 1] = CLIENT_NET[1] + ((host >> 16) & 1);
  b[f.cIp + 2] = (host >> 8) & 255;
  b[f.cIp + 3] = host & 255;
  b[f.cPort] = port >> 8;
  b[f.cPort + 1] = port & 255;
}

/**
 * Raw frames out of an interface in batches: an AF_PACKET socket and sendmmsg(2) through libc
 * FFI, 64 frames per system call (about 40% cheaper per packet than one pcap_inject each).
 * struct mmsghdr is 64 bytes on x86_64 (msghdr 56 + msg_len 4 + padding); iovec is 16.
 */
class BatchSender {
  static readonly BATCH = 64;
  readonly #libc = Deno.dlopen("libc.so.6", {
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
    if_nametoindex: { parameters: ["buffer"], result: "u32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  readonly #fd: number;
  readonly #slots: Uint8Array[] = [];
  readonly #iov = new BigUint64Array(BatchSender.BATCH * 2);
  readonly #msgs = new Uint8Array(BatchSender.BATCH * 64);
  #count = 0;

  constructor(iface: string) {
    const c = this.#libc.symbols;
    const AF_PACKET = 17;
    const SOCK_RAW = 3;
    this.#fd = c.socket(AF_PACKET, SOCK_RAW, 0); // protocol 0: this socket only sends
    if (this.#fd < 0) throw new Error("socket(AF_PACKET) failed: needs root or CAP_NET_RAW");
    const ifindex = c.if_nametoindex(new TextEncoder().encode(iface + "\0"));
    const sll = new Uint8Array(20); // struct sockaddr_ll
    const v = new DataView(sll.buffer);
    v.setUint16(0, AF_PACKET, true);
    v.setUint16(2, 0x0800, false); // ETH_P_IP, network order
    v.setInt32(4, ifindex, true);
    if (c.bind(this.#fd, sll, sll.length) !== 0) throw new Error(`bind to ${iface} failed`);
    const mv = new DataView(this.#msgs.buffer);
    const iovBase = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#iov)));
    for (let i = 0; i < BatchSender.BATCH; i++) {
      // Slots are large, so V8 keeps them off-heap at a fixed address for the FFI pointers.
      const slot = new Uint8Array(65_600);
      this.#slots.push(slot);
      this.#iov[i * 2] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(slot)));
      mv.setBigUint64(i * 64 + 16, iovBase + BigInt(i * 16), true); // msg_iov
      mv.setBigUint64(i * 64 + 24, 1n, true); // msg_iovlen
    }
  }

  /** Queues a copy of `frame`; sends the batch when it is full. */
  add(frame: Uint8Array): void {
    this.#slots[this.#count].set(frame);
    this.#iov[this.#count * 2 + 1] = BigInt(frame.length);
    if (++this.#count === BatchSender.BATCH) this.flush();
  }

  flush(): void {
    let done = 0;
    while (done < this.#count) {
      const view = this.#msgs.subarray(done * 64, this.#count * 64);
      const n = this.#libc.symbols.sendmmsg(this.#fd, view, this.#count - done, 0);
      if (n <= 0) throw new Error("sendmmsg failed");
      done += n;
    }
    this.#count = 0;
  }

  close(): void {
    this.flush();
    this.#libc.symbols.close(this.#fd);
    this.#libc.close();
  }
}

async function runSender(): Promise<void> {
  const recorded = JSON.parse(await Deno.readTextFile(args.values.templates!)) as TemplateFrame[][];
  const templates = recorded.map((flow) => flow.map(toWire));
  const rate = Number(args.values.rate);
  const seconds = Number(args.values.seconds);
  let k = Number(args.values.offset);
  const total = Math.round(rate * seconds);
  const out = new BatchSender("lo");
  const start = performance.now();
  let sent = 0;
  let packets = 0;
  while (sent < total) {
    // Pace per millisecond: send what is due, then yield the core briefly.
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    while (sent < due) {
      const flow = templates[sent % templates.length];
      for (const frame of flow) {
        rewrite(frame, k);
        out.add(frame.bytes);
        packets++;
      }
      sent++;
      k++;
    }
    out.flush();
    if (sent < total) await new Promise((r) => setTimeout(r, 1));
  }
  const elapsed = (performance.now() - start) / 1000;
  out.close();
  console.log(JSON.stringify({ handshakes: sent, packets, seconds: elapsed }));
}

// ---------------------------------------------------------------- orchestrator

/** The end of an update line (the sensor appends these fields to the hello's line). */
const UPDATE_TAIL = new TextEncoder().encode(',"update":true}');

/**
 * `--counter PATH`: listens on a UNIX socket, classifies each line as hello or update by the
 * bytes before its newline (no decoding), and prints the counts as a JSON line every 100 ms.
 * A process of its own, so that the consumer's CPU share does not depend on the orchestrator.
 */
async function runCounter(path: string): Promise<void> {
  const listener = Deno.listen({ transport: "unix", path });
  const n = UPDATE_TAIL.length;
  let hellos = 0;
  let updates = 0;
  const out = new TextEncoder();
  setInterval(() => {
    Deno.stdout.writeSync(out.encode(JSON.stringify({ hellos, updates }) + "\n"));
  }, 100);
  for await (const conn of listener) {
    const buf = new Uint8Array(1 << 20);
    // The last bytes of the previous read, for a tail split across reads.
    let carry = new Uint8Array(0);
    try {
      while (true) {
        const got = await conn.read(buf.subarray(n));
        if (got === null) break;
        buf.set(carry, n - carry.length);
        const start = n - carry.length;
        const end = n + got;
        for (let i = buf.indexOf(10, n); i !== -1 && i < end; i = buf.indexOf(10, i + 1)) {
          let update = i - n >= start;
          for (let j = 0; update && j < n; j++) update = buf[i - n + j] === UPDATE_TAIL[j];
          if (update) updates++;
          else hellos++;
        }
        carry = buf.slice(Math.max(start, end - n), end);
      }
    } catch {
      // The sensor went away: wait for its next connection.
    }
  }
}

/** The kernel ring the sensor runs with (JA4_CAPTURE_BUFFER_SIZE passes through to it). */
function ringText(): string {
  const env = Deno.env.get("JA4_CAPTURE_BUFFER_SIZE");
  return env
    ? `${Math.round(Number(env) / 2 ** 20)} MiB ring (JA4_CAPTURE_BUFFER_SIZE)`
    : "default 128 MiB ring";
}

/** The 1-minute load average, to show how busy the shared machine was. */
function loadavg(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
}

function procCpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
  return ticks * 10; // USER_HZ = 100 on Linux
}

function procMemMb(pid: number): { rss: number; hwm: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

interface Step {
  /** Where the sensor's events went: /dev/null (capture path only) or the socket consumer. */
  sink: "null" | "socket";
  offered_handshakes_per_s: number;
  sent_handshakes: number;
  sent_packets: number;
  send_seconds: number;
  sent_handshakes_per_s: number;
  sent_packets_per_s: number;
  events_received: number;
  handshakes_captured: number;
  kernel_drops: number;
  sensor_cpu_pct: number;
  cpu_ms_per_1000_handshakes: number;
  cpu_us_per_packet: number;
  /** Deepest output queue seen in the step's stats lines (events waiting for the consumer). */
  max_queue: number;
  rss_mb: number;
}

async function main(): Promise<void> {
  if (!canCapture()) {
    console.error("bench:capture needs root or CAP_NET_RAW (live capture and injection on lo)");
    Deno.exit(1);
  }
  // Build the .wasm here if it is stale, so that the sensor's CPU and memory are capture only.
  await ensureWasm();
  const loadStart = loadavg();
  const dir = await Deno.makeTempDir({ prefix: "ja4-bench-capture-" });
  const templates = await recordTemplates();
  if (templates.length === 0) throw new Error("no template flows were recorded");
  const templatesPath = `${dir}/templates.json`;
  await Deno.writeTextFile(templatesPath, JSON.stringify(templates));
  const packetsPerHandshake = templates.reduce((n, t) => n + t.length, 0) / templates.length;
  console.log(
    `recorded ${templates.length} template flows, ${packetsPerHandshake.toFixed(1)} packets per ` +
      `handshake (SYN … ServerHello)`,
  );

  const seconds = Number(args.values.seconds);
  let offset = 0;
  const sinks = args.values.sinks.split(",") as ("null" | "socket")[];

  /** One sensor run over the rate steps, with its events to `sink`. */
  const runPhase = async (sink: "null" | "socket") => {
    // The consumer, standing in for the correlator: a separate process that counts lines on raw
    // bytes (no decoding), so that it needs far less CPU than the sensor and never backs it up.
    let hellos = 0;
    let updates = 0;
    const socket = `${dir}/network-${sink}.socket`;
    const counter = sink !== "socket" ? undefined : new Deno.Command("nice", {
      args: [
        "-n",
        args.values["sensor-nice"],
        Deno.execPath(),
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        "--counter",
        socket,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const counting = (async () => {
      if (!counter) return;
      let rest = "";
      for await (const chunk of counter.stdout.pipeThrough(new TextDecoderStream())) {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop()!;
        const last = lines.at(-1);
        if (last) ({ hellos, updates } = JSON.parse(last));
      }
    })();
    while (counter && !(await Deno.lstat(socket).then(() => true, () => false))) {
      await new Promise((r) => setTimeout(r, 50));
    }

    // --sensor-nice below 0 shields the sensor from the rest of a shared machine's load, as a host
    // that runs it alone would; the default (0) measures it as it is.
    const sensor = new Deno.Command("nice", {
      args: [
        "-n",
        args.values["sensor-nice"],
        Deno.execPath(),
        "run",
        "-A",
        new URL("../main.ts", import.meta.url).pathname,
        "capture",
        "--interface",
        "lo",
        ...(sink === "socket" ? ["--socket", socket] : ["--output", "/dev/null"]),
        "--stats-interval",
        "1",
        "--log-format",
        "json",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let sensorLog = "";
    const pump = (async () => {
      for await (const chunk of sensor.stderr.pipeThrough(new TextDecoderStream())) {
        sensorLog += chunk;
      }
    })();
    const allStats = () =>
      sensorLog.split("\n").filter((l) => l.includes('"capture stats"')).map((l) => JSON.parse(l));
    const lastStats = () => allStats().at(-1);
    // Handshakes delivered: counted by the consumer, or (events to /dev/null) by the sensor itself.
    const delivered = () =>
      sink === "socket"
        ? { hellos, updates }
        : { hellos: lastStats()?.handshakes ?? 0, updates: lastStats()?.updates ?? 0 };
    while (!sensorLog.includes('"capture started"')) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // Let the engine load and the first stats line come out.
    while (!lastStats()) await new Promise((r) => setTimeout(r, 100));

    const steps: Step[] = [];
    for (const rate of args.values.rates.split(",").map(Number)) {
      const before = {
        ...delivered(),
        cpu: procCpuMs(sensor.pid),
        drops: lastStats().kernel_drops,
        statLines: allStats().length,
      };
      // Several sender processes: each frame sent runs the whole loopback receive path
      // (taps, BPF, IP input) in the sender's context, so one sender tops out below the rates the
      // sensor can take.
      const senders = Number(args.values.senders);
      const share = Math.round(rate / senders);
      const outputs = await Promise.all(
        Array.from({ length: senders }, (_, i) =>
          // nice: the senders stand in for the network card, which takes no CPU from the
          // sensor on a real host; here they share 2 cores with it and must not starve it.
          new Deno.Command("nice", {
            args: [
              "-n",
              args.values.nice,
              Deno.execPath(),
              "run",
              "-A",
              new URL(import.meta.url).pathname,
              "--sender",
              "--templates",
              templatesPath,
              "--rate",
              String(share),
              "--seconds",
              String(seconds),
              "--offset",
              String(offset + i * share * seconds),
            ],
            stdout: "piped",
            stderr: "inherit",
          }).output()),
      );
      const reports = outputs.map((o) =>
        JSON.parse(new TextDecoder().decode(o.stdout).trim().split("\n").pop()!) as {
          handshakes: number;
          packets: number;
          seconds: number;
        }
      );
      const sent = {
        handshakes: reports.reduce((n, r) => n + r.handshakes, 0),
        packets: reports.reduce((n, r) => n + r.packets, 0),
        seconds: Math.max(...reports.map((r) => r.seconds)),
      };
      offset += senders * share * seconds;
      // Wait until every handshake arrived, or nothing moved for 2 s (drops).
      let last = -1;
      for (let quiet = 0; quiet < 20 && delivered().hellos - before.hellos < sent.handshakes;) {
        await new Promise((r) => setTimeout(r, 100));
        quiet = delivered().hellos === last ? quiet + 1 : 0;
        last = delivered().hellos;
      }
      await new Promise((r) => setTimeout(r, 1_200)); // one more stats line after the step
      const cpuMs = procCpuMs(sensor.pid) - before.cpu;
      const captured = delivered().hellos - before.hellos;
      const step: Step = {
        offered_handshakes_per_s: rate,
        sent_handshakes: sent.handshakes,
        sent_packets: sent.packets,
        send_seconds: Number(sent.seconds.toFixed(3)),
        sent_handshakes_per_s: Math.round(sent.handshakes / sent.seconds),
        sent_packets_per_s: Math.round(sent.packets / sent.seconds),
        sink,
        events_received: captured + (delivered().updates - before.updates),
        handshakes_captured: captured,
        kernel_drops: lastStats().kernel_drops - before.drops,
        sensor_cpu_pct: Math.round((cpuMs / 1000 / sent.seconds) * 100),
        cpu_ms_per_1000_handshakes: Number((cpuMs / (Math.max(captured, 1) / 1000)).toFixed(1)),
        cpu_us_per_packet: Number(((cpuMs * 1000) / Math.max(sent.packets, 1)).toFixed(2)),
        max_queue: Math.max(0, ...allStats().slice(before.statLines).map((x) => x.queue)),
        rss_mb: Math.round(procMemMb(sensor.pid).rss),
      };
      steps.push(step);
      console.log(JSON.stringify(step));
      if (step.kernel_drops > 0 || captured < sent.handshakes) break;
    }
    const mem = procMemMb(sensor.pid);
    sensor.kill("SIGTERM");
    await sensor.status;
    await pump;
    counter?.kill("SIGTERM");
    await counter?.status;
    await counting;
    return { steps, mem };
  };

  const steps: Step[] = [];
  let peakRss = 0;
  for (const sink of sinks) {
    const phase = await runPhase(sink);
    steps.push(...phase.steps);
    peakRss = Math.max(peakRss, phase.mem.hwm);
  }
  await Deno.remove(dir, { recursive: true });

  const fmt = (n: number) => n.toLocaleString("en-US");
  const SINK_NAMES = { null: "/dev/null (capture path)", socket: "socket consumer (end to end)" };
  const bestOf = (sink: "null" | "socket") =>
    steps.filter((s) =>
      s.sink === sink && s.kernel_drops === 0 && s.handshakes_captured >= s.sent_handshakes
    ).reduce<Step | undefined>(
      (b, s) => (!b || s.sent_packets_per_s > b.sent_packets_per_s ? s : b),
      undefined,
    );
  const table = [
    "| events to | offered hs/s | sent hs/s | sent pkts/s | handshakes captured | kernel drops | sensor CPU % | CPU ms / 1,000 hs | CPU µs / packet | max queue | RSS MB |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...steps.map((s) =>
      `| ${SINK_NAMES[s.sink]} | ${fmt(s.offered_handshakes_per_s)} | ${
        fmt(s.sent_handshakes_per_s)
      } | ${fmt(s.sent_packets_per_s)} | ${fmt(s.handshakes_captured)} / ${
        fmt(s.sent_handshakes)
      } | ${s.kernel_drops} | ${s.sensor_cpu_pct} | ${s.cpu_ms_per_1000_handshakes} | ${s.cpu_us_per_packet} | ${s.max_queue} | ${s.rss_mb} |`
    ),
  ];
  const verdicts: Record<string, { handshakes: boolean; packets: boolean }> = {};
  const summary: string[] = [];
  for (const sink of sinks) {
    const best = bestOf(sink);
    const hs = (best?.sent_handshakes_per_s ?? 0) >= TARGET_HANDSHAKES;
    const pk = (best?.sent_packets_per_s ?? 0) >= TARGET_PACKETS;
    verdicts[sink] = { handshakes: hs, packets: pk };
    summary.push(
      `Events to ${SINK_NAMES[sink]}: best step with 0 kernel drops and every handshake ` +
        `delivered: ${
          best
            ? `${fmt(best.sent_handshakes_per_s)} handshakes/s, ${
              fmt(best.sent_packets_per_s)
            } packets/s`
            : "none"
        }; target ≥ ${fmt(TARGET_HANDSHAKES)} handshakes/s ${hs ? "met" : "NOT met"}, ` +
        `target ≥ ${fmt(TARGET_PACKETS)} packets/s ${pk ? "met" : "NOT met"}.`,
    );
  }
  summary.push(`Sensor peak RSS ${Math.round(peakRss)} MB (VmHWM).`);
  const best = bestOf(sinks.at(-1)!) ?? bestOf(sinks[0]);
  if (best) {
    // A projection, not a measurement: what one core would sustain at the measured CPU cost.
    const perCoreHs = Math.round(1e6 / best.cpu_ms_per_1000_handshakes);
    summary.push(
      `Projection from the sensor's measured CPU cost at its best ${best.sink} step (not ` +
        `measured): one full core ≈ ${fmt(perCoreHs)} handshakes/s ≈ ${
          fmt(Math.round(1e6 / Math.max(best.cpu_us_per_packet, 0.01)))
        } packets/s. When the sent rate is below the offered one, the senders (not the sensor) ` +
        "were the limit on this shared machine.",
    );
  }
  const md = [
    "# bench:capture",
    "",
    `Run ${
      new Date().toISOString()
    } on ${Deno.build.os}/${Deno.build.arch}, deno ${Deno.version.deno}, ` +
    `${navigator.hardwareConcurrency} cores (shared with other builds: noisy).`,
    "",
    `Replay of ${templates.length} real handshakes (openssl, curl, Node; ${
      packetsPerHandshake.toFixed(1)
    } packets each, SYN … ServerHello) injected into lo on fresh 4-tuples by ${args.values.senders} ` +
    `sender processes (AF_PACKET sendmmsg, nice ${args.values.nice}); the sensor (nice ${
      args.values["sensor-nice"]
    }, ` +
    `\`ja4 capture -i lo\`, default filter, ${ringText()}) writes its events either to ` +
    "/dev/null (the capture path alone: libpcap, engine, events; handshakes counted by the " +
    "sensor) or to a UNIX socket read by a line counter in another process (end to end; " +
    `handshakes counted by the consumer). Each step lasts ${seconds} s. CPU is the sensor process's ` +
    `(user+system). Load average at start ${loadStart}, at end ${loadavg()} (other engineers' ` +
    "builds and tests share the 2 cores).",
    "",
    ...table,
    "",
    ...summary,
    "",
  ].join("\n");
  console.log("\n" + md);
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(
    new URL("./results/capture.json", import.meta.url),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        templates: templates.length,
        senders: Number(args.values.senders),
        sender_nice: Number(args.values.nice),
        sensor_nice: Number(args.values["sensor-nice"]),
        ring: ringText(),
        load_average: { start: Number(loadStart), end: Number(loadavg()) },
        packets_per_handshake: Number(packetsPerHandshake.toFixed(2)),
        seconds_per_step: seconds,
        steps,
        best: Object.fromEntries(sinks.map((k) => [k, bestOf(k) ?? null])),
        peak_rss_mb: Math.round(peakRss),
        targets: { handshakes_per_s: TARGET_HANDSHAKES, packets_per_s: TARGET_PACKETS },
        met: verdicts,
      },
      null,
      2,
    ) + "\n",
  );
  await Deno.writeTextFile(new URL("./results/capture.md", import.meta.url), md);
}

if (args.values.sender) await runSender();
else if (args.values.counter) await runCounter(args.values.counter);
else await main();
