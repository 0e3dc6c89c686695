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
  /**
   * Stops tcpdump (SIGINT, it flushes) and waits for it to exit; returns its stderr. Throws when
   * tcpdump reports kernel drops: the recording would not be a complete reference.
   */
  stop(): Promise<string>;
}

/** Starts `tcpdump -i IFACE -U -w FILE FILTER` and resolves once it is listening. */
export async function startTcpdump(
  iface: string,
  filter: string,
  file: string,
): Promise<TcpdumpRecorder> {
  const child = new Deno.Command("tcpdump", {
    // --immediate-mode: without it packets wait in a ring block (1 s) and a stop loses them.
    // -B 131072 (KiB): tcpdump's default 2 MiB ring drops packets on a busy machine, and a
    // reference recording must be complete.
    args: [
      "-i",
      iface,
      "--immediate-mode",
      "-B",
      "131072",
      "-U",
      "-n",
      "-s",
      "0",
      "-w",
      file,
      filter,
    ],
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
  // Keep reading stderr so that tcpdump never blocks on a full pipe (and for its counters).
  const drain = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      seen += value;
    }
  })();
  return {
    file,
    async stop() {
      // tcpdump drops what is still in its ring when interrupted: wait until the file has
      // stopped growing (on a busy machine tcpdump may lag well behind the traffic).
      let size = -1;
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 300));
        const now = (await Deno.stat(file)).size;
        if (now === size) break;
        size = now;
      }
      child.kill("SIGINT");
      await child.status;
      await drain;
      const drops = /(\d+) packets? dropped by kernel/.exec(seen);
      if (drops && drops[1] !== "0") {
        throw new Error(
          `tcpdump dropped ${drops[1]} packets: the reference recording is incomplete`,
        );
      }
      return seen;
    },
  };
}
