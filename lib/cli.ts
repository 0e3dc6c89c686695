/**
 * The shape of a `ja4` subcommand and the parsing of its flags. Each component exports its
 * commands from its `mod.ts`; `main.ts` only routes to them.
 *
 * @example
 * ```ts
 * export const captureCommand: Command = {
 *   name: "capture",
 *   summary: "live TLS sensor",
 *   usage: "ja4 capture [--interface IF] [--output -|FILE]",
 *   flags: [{ name: "interface", type: "string", configKey: "capture.interface", help: "…" }],
 *   run: async (ctx) => { ctx.log.info("start"); return 0; },
 * };
 * ```
 */
import { parseArgs } from "node:util";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import { UsageError } from "./errors.ts";
import type { Shutdown } from "./shutdown.ts";

export interface FlagSpec {
  /** Long name without dashes (`interface` → `--interface`). */
  name: string;
  /** Single-letter alias. */
  short?: string;
  /** `string` takes a value; `boolean` does not; `multiple` may repeat. */
  type: "string" | "boolean";
  multiple?: boolean;
  /** Where the value goes in the config; flags without one are read from `ctx.flags`. */
  configKey?: string;
  /** Placeholder shown in help, e.g. `PATH`. */
  value?: string;
  help: string;
}

export interface CommandContext {
  /** Effective configuration (defaults < file < env < these flags). */
  config: Config;
  /** Flags as parsed, by long name. */
  flags: Record<string, string | boolean | string[] | undefined>;
  /** Positional arguments after the command (and after its subcommand, if any). */
  args: string[];
  log: Logger;
  /** Aborted when SIGINT/SIGTERM asks the process to stop. */
  signal: AbortSignal;
  /** Register flush steps here; they run (bounded) before the process exits. */
  shutdown: Shutdown;
}

export interface Command {
  name: string;
  summary: string;
  /** One or more usage lines, without the leading `Usage: `. */
  usage: string;
  /** Longer text shown by `--help` after the flags. */
  details?: string;
  flags: FlagSpec[];
  run(ctx: CommandContext): Promise<number>;
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: "config", type: "string", value: "FILE", help: "JSON config file (env JA4_CONFIG)" },
  {
    name: "log-level",
    type: "string",
    value: "LEVEL",
    configKey: "log.level",
    help: "debug, info, warn or error",
  },
  {
    name: "log-format",
    type: "string",
    value: "FMT",
    configKey: "log.format",
    help: "json or pretty",
  },
  { name: "help", short: "h", type: "boolean", help: "show this help" },
];

export interface ParsedFlags {
  flags: Record<string, string | boolean | string[] | undefined>;
  args: string[];
  /** Flag values destined for config keys. */
  configFlags: Record<string, unknown>;
}

/** Parses argv against the command's flags plus the global ones; unknown flags are UsageErrors. */
export function parseFlags(command: string, specs: FlagSpec[], argv: string[]): ParsedFlags {
  const all = [...specs, ...GLOBAL_FLAGS];
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const f of all) {
    options[f.name] = { type: f.type, multiple: f.multiple ?? false };
    if (f.short) options[f.name].short = f.short;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional.*$/s, "");
    throw new UsageError("BAD_FLAG", `ja4 ${command}: ${msg} (see 'ja4 ${command} --help')`);
  }
  const flags = parsed.values as ParsedFlags["flags"];
  const configFlags: Record<string, unknown> = {};
  for (const f of all) {
    const v = flags[f.name];
    if (f.configKey && v !== undefined) configFlags[f.configKey] = v;
  }
  return { flags, args: parsed.positionals, configFlags };
}

/** Help text for one command. */
export function commandHelp(cmd: Command): string {
  const lines = [
    `${cmd.summary}`,
    "",
    ...cmd.usage.split("\n").map((u, i) => (i === 0 ? "Usage: " : "       ") + u),
    "",
  ];
  const row = (f: FlagSpec) => {
    const left = `${f.short ? `-${f.short}, ` : "    "}--${f.name}${f.value ? " " + f.value : ""}`;
    const key = f.configKey ? ` [${f.configKey}]` : "";
    return `  ${left.padEnd(30)} ${f.help}${key}`;
  };
  if (cmd.flags.length) lines.push("Options:", ...cmd.flags.map(row), "");
  lines.push("Global options:", ...GLOBAL_FLAGS.map(row));
  if (cmd.details) lines.push("", cmd.details.trimEnd());
  return lines.join("\n");
}
