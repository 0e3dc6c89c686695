/** `ja4 config print`: the effective configuration, each key with its value and source. */
import type { Command } from "./cli.ts";
import { envName } from "./config.ts";
import { UsageError } from "./errors.ts";

export const configCommand: Command = {
  name: "config",
  summary: "show the effective configuration",
  usage: "ja4 config print [--json]",
  details: "Precedence: defaults < config file < JA4_* environment < flags. Secrets are masked.",
  flags: [{ name: "json", type: "boolean", help: "print as a JSON object (key → value)" }],
  run(ctx) {
    const [sub, ...extra] = ctx.args;
    if (sub !== "print" || extra.length) {
      throw new UsageError(
        "BAD_ARGS",
        `ja4 config: expected 'print', got '${ctx.args.join(" ")}' (see 'ja4 config --help')`,
      );
    }
    const entries = ctx.config.entries();
    if (ctx.flags.json) {
      console.log(
        JSON.stringify(Object.fromEntries(entries.map((e) => [e.key, e.value])), null, 2),
      );
      return Promise.resolve(0);
    }
    const width = Math.max(...entries.map((e) => e.key.length));
    const vwidth = Math.min(40, Math.max(...entries.map((e) => JSON.stringify(e.value).length)));
    for (const e of entries) {
      console.log(
        `${e.key.padEnd(width)}  ${JSON.stringify(e.value).padEnd(vwidth)}  ${
          e.source.padEnd(7)
        }  ${envName(e.key)}  # ${e.description}`,
      );
    }
    return Promise.resolve(0);
  },
};
