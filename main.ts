/**
 * `ja4`: the one command-line entry of the platform. Routes `ja4 <command> [flags]` to the
 * command a component exports; commands are loaded lazily so `ja4 --help` stays instant.
 *
 * Exit codes: 0 success, 1 failure at run time, 2 bad usage (unknown command or flag).
 */
import { type Command, commandHelp, parseFlags } from "./lib/cli.ts";
import { type ConfigKey, loadConfig, readConfigFile } from "./lib/config.ts";
import { errorMessage, Ja4Error, UsageError } from "./lib/errors.ts";
import { createLogger, type LogFormat, type LogLevel } from "./lib/log.ts";
import { createShutdown } from "./lib/shutdown.ts";
import { LIB_CONFIG_KEYS } from "./lib/settings.ts";
import { STORAGE_CONFIG_KEYS } from "./lib/storage/config.ts";
import { CAPTURE_CONFIG_KEYS } from "./capture/config.ts";
import { CORRELATOR_CONFIG_KEYS } from "./correlator/config.ts";
import { DETECTOR_CONFIG_KEYS } from "./detector/config.ts";

export const VERSION = "0.1.0";

/** Every configuration key of the platform, from every component. */
export const ALL_CONFIG_KEYS: readonly ConfigKey[] = [
  ...LIB_CONFIG_KEYS,
  ...STORAGE_CONFIG_KEYS,
  ...CAPTURE_CONFIG_KEYS,
  ...CORRELATOR_CONFIG_KEYS,
  ...DETECTOR_CONFIG_KEYS,
];

interface CommandEntry {
  summary: string;
  load: () => Promise<Command>;
}

/** The command table: name → summary and a lazy loader of the component's command. */
const COMMANDS: Record<string, CommandEntry> = {
  start: {
    summary: "run the platform on embedded chDB (everything this host runs)",
    load: async () => (await import("./start.ts")).startCommand,
  },
  config: {
    summary: "show the effective configuration ('ja4 config print')",
    load: async () => (await import("./lib/config_command.ts")).configCommand,
  },
};

/** Lets a component's command appear in the table (used by the component list below). */
function register(name: string, summary: string, load: () => Promise<Command>): void {
  COMMANDS[name] = { summary, load };
}

// Component commands. Each entry imports only the component's public mod.ts.
register(
  "fingerprint",
  "JA4/JA3/JA4S/JA4T/JA4H from capture files",
  async () => (await import("./core-wasm/mod.ts")).fingerprintCommand,
);
register(
  "capture",
  "live TLS sensor: libpcap → fingerprints → network.socket",
  async () => (await import("./capture/mod.ts")).captureCommand,
);
register(
  "correlate",
  "join HTTP requests to TLS handshakes and store them",
  async () => (await import("./correlator/mod.ts")).correlateCommand,
);
register(
  "detect",
  "score clients with Isolation Forest; API on :8080",
  async () => (await import("./detector/mod.ts")).detectCommand,
);
register(
  "migrate",
  "apply ClickHouse migrations (--status, --dry-run, --to N, --cluster NAME)",
  async () => (await import("./lib/storage/mod.ts")).migrateCommand,
);
register(
  "sql",
  "run a query on the platform's ClickHouse and print the result",
  async () => (await import("./lib/storage/mod.ts")).sqlCommand,
);

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    `ja4 ${VERSION}: TLS fingerprinting (JA4/JA3) and bot detection for Linux web servers`,
    "",
    "Usage: ja4 <command> [options]      (deno task <command> …)",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`),
    "",
    "Options: --help (also after a command), --version",
    "Configuration: defaults < --config FILE (or JA4_CONFIG) < JA4_* environment < flags;",
    "'ja4 config print' shows every key, its value and where it came from.",
  ].join("\n");
}

/** Runs the CLI and returns the exit code; never throws. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(mainHelp());
    return 0;
  }
  if (name === "--version" || name === "-V") {
    console.log(`ja4 ${VERSION} (deno ${Deno.version.deno})`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`ja4: unknown command '${name}' (see 'ja4 --help')`);
    return 2;
  }
  let log = createLogger({ level: "info", format: "pretty" });
  try {
    const command = await entry.load();
    const parsed = parseFlags(name, command.flags, rest);
    if (parsed.flags.help) {
      console.log(commandHelp(command));
      return 0;
    }
    const configPath = (parsed.flags.config as string | undefined) ?? Deno.env.get("JA4_CONFIG");
    const config = loadConfig(ALL_CONFIG_KEYS, {
      file: configPath ? await readConfigFile(configPath) : undefined,
      env: Deno.env.toObject(),
      flags: parsed.configFlags,
    });
    log = createLogger({
      level: config.string("log.level") as LogLevel,
      format: config.string("log.format") as LogFormat,
      component: name,
    });
    const shutdown = createShutdown({ timeoutMs: config.int("shutdown.timeout_ms"), log });
    try {
      return await command.run({
        config,
        flags: parsed.flags,
        args: parsed.args,
        log,
        signal: shutdown.signal,
        shutdown,
      });
    } finally {
      shutdown.dispose();
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof Ja4Error) {
      console.error(`ja4 ${name}: ${err.message}`);
      return err.name === "ConfigError" ? 2 : 1;
    }
    log.error("failed", { error: errorMessage(err), stack: (err as Error)?.stack });
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
