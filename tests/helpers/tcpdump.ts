/**
 * tcpdump as an independent recorder for tests: start it on an interface with a filter, wait
 * until it really listens, run traffic, stop it and get a classic pcap file.
 *
 * @example
 * ```ts
 * const rec = await startTcpdump("lo", "tcp port 8443", `${dir}/run.pcap`);
 * // … traffic …
 * await rec.stop();
 * ```
 */

/** A running tcpdump. */
export interface TcpdumpRecorder {
  readonly file: string;
  /** Stops tcpdump (SIGINT, it flushes) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `tcpdump -i IFACE -U -w FILE FILTER` and resolves once it is listening. */
export async function startTcpdump(
  iface: string,
  filter: string,
  file: string,
): Promise<TcpdumpRecorder> {
  const child = new Deno.Command("tcpdump", {
    args: ["-i", iface, "-U", "-n", "-s", "0", "-w", file, filter],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 10_000;
  while (!seen.includes("listening on")) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error(`tcpdump did not start: ${seen}`);
    }
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`tcpdump exited: ${seen}`);
    }
    seen += value;
  }
  // Keep draining stderr so that tcpdump never blocks on a full pipe.
  const drain = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return {
    file,
    async stop() {
      // Give the kernel a moment to hand over the last packets before asking tcpdump to stop.
      await new Promise((r) => setTimeout(r, 200));
      child.kill("SIGINT");
      await child.status;
      await drain;
    },
  };
}
