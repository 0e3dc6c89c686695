/**
 * `ja4 start`: the platform's main job on this host, on embedded chDB by default. It starts,
 * in order, every service that exists (storage endpoint, correlator, detector, dashboard),
 * prints what runs where, and on Ctrl-C/SIGTERM stops them in reverse order, flushing each.
 */
import type { Command, CommandContext } from "./lib/cli.ts";
import type { RunningService, ServiceStarter } from "./lib/service.ts";

/** The platform's services in start order; stop order is the reverse. */
const SERVICES: { name: string; load: () => Promise<ServiceStarter> }[] = [
  // First: owns the embedded chDB data directory, migrates, serves the others on 127.0.0.1.
  { name: "storage", load: async () => (await import("./lib/storage/mod.ts")).storageService },
  // Reads both sockets; writes through the storage owner's handle (same process), so it
  // starts after storage and stops before it.
  { name: "correlator", load: async () => (await import("./correlator/mod.ts")).correlatorService },
  // Capture stays after the correlator so that it stops first and flushes into a live socket.
  { name: "capture", load: async () => (await import("./capture/mod.ts")).captureService },
  // Reads the feature views through storage; keep it after storage and the correlator.
  { name: "detector", load: async () => (await import("./detector/mod.ts")).detectorService },
];

async function startAll(ctx: CommandContext): Promise<RunningService[]> {
  const running: RunningService[] = [];
  for (const svc of SERVICES) {
    const starter = await svc.load();
    const result = await starter(ctx);
    if ("skipped" in result) {
      ctx.log.warn("service skipped", { service: svc.name, reason: result.skipped });
      continue;
    }
    running.push(result);
    ctx.shutdown.onShutdown(`stop ${result.name}`, () => result.stop());
  }
  return running;
}

export const startCommand: Command = {
  name: "start",
  summary: "run the platform on this host (embedded chDB; no server to install)",
  usage: "ja4 start [--data-dir DIR]",
  flags: [
    {
      name: "data-dir",
      type: "string",
      value: "DIR",
      configKey: "data_dir",
      help: "embedded chDB data directory",
    },
  ],
  async run(ctx) {
    const running = await startAll(ctx);
    console.log(`ja4 platform running (data dir ${ctx.config.string("data_dir")}):`);
    if (running.length === 0) console.log("  (no services available yet)");
    for (const svc of running) {
      console.log(`  ${svc.name.padEnd(12)} ${svc.where.join(", ")}`);
    }
    console.log("Press Ctrl-C to stop.");
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    // Shutdown hooks (registered above) stop the services and exit the process.
    await new Promise(() => {});
    return 0;
  },
};
