/**
 * JA4H equivalence: for plain-HTTP requests, the `ja4h` that mod_reqin_log computes inside
 * Apache must equal the one the platform's fingerprint engine (core-wasm, through
 * `ja4 fingerprint --format jsonl`) computes from a tcpdump capture of the same requests.
 * The join is the client's source port, exactly as the correlator joins.
 *
 * Needs tcpdump with the right to capture on `lo` (root or CAP_NET_RAW); skipped otherwise.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { rawRequest, startApache, startLineReader } from "./helpers/apache.ts";
import { startTcpdump } from "./helpers/tcpdump.ts";

const REPO = new URL("..", import.meta.url).pathname;
const canCapture = Deno.build.os === "linux" && Deno.uid() === 0;

if (!canCapture) {
  console.warn("apache_ja4h_test: skipped, capturing on lo with tcpdump needs root");
}

interface FingerprintRecord {
  src_port: number;
  dst_port: number;
  ja4h?: string[];
}

async function curlPort(args: string[]): Promise<number> {
  const out = await new Deno.Command("curl", {
    args: ["-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{local_port}", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`curl failed: ${new TextDecoder().decode(out.stderr)}`);
  return Number(new TextDecoder().decode(out.stdout));
}

Deno.test({
  name: "mod_reqin_log ja4h equals the engine's ja4h from a capture of the same requests",
  ignore: !canCapture,
  async fn() {
    const reader = await startLineReader();
    const apache = await startApache({ socketPath: reader.path, mpm: "event" });
    const pcapDir = await Deno.makeTempDir({ prefix: "ja4h-eq-" });
    try {
      const http = `http://127.0.0.1:${apache.httpPort}`;
      const rec = await startTcpdump("lo", `tcp port ${apache.httpPort}`, `${pcapDir}/run.pcap`);
      const ports: number[] = [];
      try {
        ports.push(await curlPort([`${http}/eq/plain`]));
        ports.push(
          await curlPort([
            "-H",
            "Cookie: session=abc123; theme=dark; _ga=GA1.2.3",
            "-H",
            "Referer: http://127.0.0.1/start",
            "-H",
            "Accept-Language: de-DE,de;q=0.9,en;q=0.8",
            "-H",
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            `${http}/eq/cookies?x=1`,
          ]),
        );
        ports.push(
          await curlPort([
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data",
            '{"a":1}',
            `${http}/eq/post`,
          ]),
        );
        ports.push(await curlPort(["--http1.0", "-I", `${http}/eq/head`]));
        ports.push(
          (await rawRequest(
            apache.httpPort,
            "GET /eq/raw HTTP/1.1\r\nHost: x\r\nSec-Fetch-Mode: cors\r\nsec-fetch-mode: no-cors\r\n" +
              "accept-language: EN\r\nX-Empty:\r\nConnection: close\r\n\r\n",
          )).localPort,
        );
        // Where FoxIO's references disagree, the module must still agree with the engine:
        // repeated Cookie headers, equal cookie names, a lower-case "cookie", a language
        // without a comma.
        ports.push(
          (await rawRequest(
            apache.httpPort,
            "GET /eq/dup-cookies HTTP/1.1\r\nHost: x\r\nCookie: b=2; a=1; a!b=4; a=0\r\n" +
              "Cookie: c=3\r\nAccept-Language: en;q=0.9\r\nConnection: close\r\n\r\n",
          )).localPort,
        );
        ports.push(
          (await rawRequest(
            apache.httpPort,
            "GET /eq/lower-cookie HTTP/1.1\r\nHost: x\r\ncookie: z=9\r\nreferer: /\r\n" +
              "Connection: close\r\n\r\n",
          )).localPort,
        );
      } finally {
        // Without --immediate-mode tcpdump hands packets over in blocks that retire after up
        // to 1 s; stopping sooner loses them (tests/helpers/tcpdump.ts waits only 200 ms).
        // A loaded machine needs more than the bare second.
        await new Promise((r) => setTimeout(r, 2500));
        await rec.stop();
      }
      const events = await reader.waitFor(7);

      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "main.ts", "fingerprint", "--format", "jsonl", `${pcapDir}/run.pcap`],
        cwd: REPO,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert(out.success, `ja4 fingerprint failed: ${new TextDecoder().decode(out.stderr)}`);
      const records: FingerprintRecord[] = text.trim().split("\n").map((l) => JSON.parse(l));

      let compared = 0;
      for (const port of ports) {
        const fromModule = events.filter((e) => e.src_port === port).map((e) => e.ja4h);
        const fromCapture = records.find((r) => r.src_port === port)?.ja4h ?? [];
        assert(fromModule.length > 0, `no module line for client port ${port}`);
        assertEquals(
          fromModule,
          fromCapture,
          `client port ${port}; capture records: ${JSON.stringify(records)}`,
        );
        compared += fromModule.length;
      }
      assertEquals(compared, 7);
    } finally {
      await apache.stop();
      await reader.close();
      await Deno.remove(pcapDir, { recursive: true });
    }
  },
});
