/**
 * Configuration keys shared by every component (logging, data directory, shutdown bound).
 * Each component declares its own keys in its `config.ts`; `main.ts` joins them all.
 */
import type { ConfigKey } from "./config.ts";
import { LOG_FORMATS, LOG_LEVELS } from "./log.ts";

export const LIB_CONFIG_KEYS: readonly ConfigKey[] = [
  {
    key: "log.level",
    type: "enum",
    choices: LOG_LEVELS,
    default: "info",
    description: "lowest level written to stderr",
  },
  {
    key: "log.format",
    type: "enum",
    choices: LOG_FORMATS,
    default: "pretty",
    description: "json (one object per line, for journald/shippers) or pretty",
  },
  {
    key: "data_dir",
    type: "string",
    default: "./data",
    description: "embedded chDB data directory (and spool files)",
    validate: (v) => (v === "" ? "must not be empty" : undefined),
  },
  {
    key: "shutdown.timeout_ms",
    type: "int",
    min: 100,
    max: 600_000,
    default: 10_000,
    description: "bound on flushing at shutdown before exiting anyway",
  },
];
