/**
 * Configuration keys of lib/storage/ (see lib/config.ts for how keys are layered and validated).
 * The embedded data directory itself is the shared key `data_dir` (lib/settings.ts).
 */
import type { ConfigKey } from "../config.ts";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every `storage.*` key. */
export const STORAGE_CONFIG_KEYS: readonly ConfigKey[] = [
  {
    key: "storage.mode",
    type: "enum",
    choices: ["embedded", "server"],
    default: "embedded",
    description:
      "embedded: chDB in-process on data_dir (or the owner's 127.0.0.1 endpoint when another " +
      "process owns it); server: a ClickHouse server at storage.url",
  },
  {
    key: "storage.url",
    type: "string",
    default: "http://127.0.0.1:8123",
    description: "ClickHouse HTTP(S) URL in server mode",
    validate: (v) => (/^https?:\/\/[^\s]+$/.test(String(v)) ? undefined : "must be an http(s) URL"),
  },
  {
    key: "storage.user",
    type: "string",
    default: "default",
    description: "ClickHouse user in server mode",
  },
  {
    key: "storage.password",
    type: "string",
    default: "",
    secret: true,
    description: "ClickHouse password in server mode",
  },
  {
    key: "storage.database",
    type: "string",
    default: "ja4_processing",
    description: "database holding the platform's tables and views",
    validate: (v) => (IDENTIFIER.test(String(v)) ? undefined : "must be a plain identifier"),
  },
  {
    key: "storage.http_port",
    type: "int",
    min: 0,
    max: 65535,
    default: 8124,
    description:
      "port of the embedded owner's ClickHouse HTTP endpoint on 127.0.0.1 (0 = any free port)",
  },
  {
    key: "storage.http_token",
    type: "string",
    default: "",
    secret: true,
    description:
      "token the owner's endpoint requires (empty = a random one per start, written to " +
      "<data_dir>/storage-endpoint.json with mode 0600)",
  },
  {
    key: "storage.ttl_days",
    type: "int",
    min: 0,
    max: 36_500,
    default: 90,
    description:
      "retention of raw tables and hourly aggregates in days, set at migration (0 = keep)",
  },
  {
    key: "storage.cluster",
    type: "string",
    default: "",
    description:
      "cluster name for 'migrate' (ON CLUSTER, Replicated*, Distributed); empty = single node",
    validate: (v) => (v === "" || IDENTIFIER.test(String(v)) ? undefined : "must be an identifier"),
  },
  {
    key: "storage.retry_attempts",
    type: "int",
    min: 1,
    max: 100,
    default: 5,
    description: "attempts for a request that fails to connect (server/endpoint modes)",
  },
  {
    key: "storage.retry_base_ms",
    type: "int",
    min: 1,
    max: 60_000,
    default: 100,
    description: "first retry delay; doubles per attempt with jitter",
  },
  {
    key: "storage.retry_max_ms",
    type: "int",
    min: 1,
    max: 600_000,
    default: 5_000,
    description: "upper bound of one retry delay",
  },
  {
    key: "storage.request_timeout_ms",
    type: "int",
    min: 100,
    max: 3_600_000,
    default: 300_000,
    description: "timeout of one request to a server/endpoint",
  },
];
