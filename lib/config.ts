/**
 * Configuration: every setting is a declared key with a type, a default and a description.
 * Values are layered, later wins: defaults < JSON config file < environment (`JA4_*`) < flags.
 * Every value is validated where it enters, and a bad one names the key, the value, where it
 * came from and what is allowed.
 *
 * Keys are dotted (`capture.interface`); the environment name is `JA4_` + the key in upper
 * case with dots as underscores (`JA4_CAPTURE_INTERFACE`); in the config file a key is either
 * nested (`{"capture": {"interface": "lo"}}`) or written flat (`{"capture.interface": "lo"}`).
 *
 * @example
 * ```ts
 * const cfg = loadConfig([...LIB_CONFIG_KEYS], { env: Deno.env.toObject() });
 * cfg.string("log.level"); // "info"
 * ```
 */
import { ConfigError } from "./errors.ts";

export type ConfigType = "string" | "int" | "number" | "bool" | "list" | "enum";
export type ConfigValue = string | number | boolean | string[];

/** Where the effective value of a key came from. */
export type ConfigSource = "default" | "file" | "env" | "flag";

/** Declaration of one configuration key. */
export interface ConfigKey {
  /** Dotted name, e.g. `capture.interface`. */
  key: string;
  type: ConfigType;
  default: ConfigValue;
  description: string;
  /** Allowed values for `enum`. */
  choices?: readonly string[];
  /** Inclusive bounds for `int` and `number`. */
  min?: number;
  max?: number;
  /** Extra check; returns what is wrong, or undefined when the value is fine. */
  validate?: (value: ConfigValue) => string | undefined;
  /** Hidden in `config print` (tokens, passwords). */
  secret?: boolean;
}

/** The environment variable that sets a key: `capture.interface` → `JA4_CAPTURE_INTERFACE`. */
export function envName(key: string): string {
  return "JA4_" + key.toUpperCase().replace(/[.-]/g, "_");
}

function describeAllowed(spec: ConfigKey): string {
  switch (spec.type) {
    case "enum":
      return `one of ${(spec.choices ?? []).join(", ")}`;
    case "bool":
      return "true or false";
    case "int":
    case "number": {
      const kind = spec.type === "int" ? "an integer" : "a number";
      if (spec.min !== undefined && spec.max !== undefined) {
        return `${kind} from ${spec.min} to ${spec.max}`;
      }
      if (spec.min !== undefined) return `${kind} ≥ ${spec.min}`;
      if (spec.max !== undefined) return `${kind} ≤ ${spec.max}`;
      return kind;
    }
    case "list":
      return "a list (JSON array, or comma-separated text)";
    default:
      return "text";
  }
}

function badValue(spec: ConfigKey, raw: unknown, source: string, why?: string): ConfigError {
  const shown = typeof raw === "string" ? `'${raw}'` : JSON.stringify(raw);
  const allowed = why ?? `expected ${describeAllowed(spec)}`;
  return new ConfigError(
    "BAD_VALUE",
    `config ${spec.key} = ${shown} (from ${source}) is invalid: ${allowed}`,
  );
}

/**
 * Converts a raw value (text from env/flags, or JSON from a file) to the key's type and
 * validates it. Throws ConfigError naming key, value, source and what is allowed.
 */
export function coerceValue(spec: ConfigKey, raw: unknown, source: string): ConfigValue {
  let value: ConfigValue;
  switch (spec.type) {
    case "string":
      if (typeof raw !== "string") throw badValue(spec, raw, source);
      value = raw;
      break;
    case "enum":
      if (typeof raw !== "string" || !(spec.choices ?? []).includes(raw)) {
        throw badValue(spec, raw, source);
      }
      value = raw;
      break;
    case "bool":
      if (typeof raw === "boolean") value = raw;
      else if (typeof raw === "string" && /^(true|1|yes|on)$/i.test(raw)) value = true;
      else if (typeof raw === "string" && /^(false|0|no|off)$/i.test(raw)) value = false;
      else throw badValue(spec, raw, source);
      break;
    case "int":
    case "number": {
      const n = typeof raw === "number"
        ? raw
        : typeof raw === "string" && raw.trim() !== ""
        ? Number(raw)
        : NaN;
      if (!Number.isFinite(n) || (spec.type === "int" && !Number.isInteger(n))) {
        throw badValue(spec, raw, source);
      }
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw badValue(spec, raw, source);
      }
      value = n;
      break;
    }
    case "list":
      if (Array.isArray(raw) && raw.every((v) => typeof v === "string")) value = raw;
      else if (typeof raw === "string") {
        const text = raw.trim();
        if (text.startsWith("[")) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch (err) {
            throw badValue(spec, raw, source, `not valid JSON: ${(err as Error).message}`);
          }
          return coerceValue(spec, parsed, source);
        }
        value = text === "" ? [] : text.split(",").map((s) => s.trim()).filter((s) => s !== "");
      } else throw badValue(spec, raw, source);
      break;
  }
  const problem = spec.validate?.(value);
  if (problem) throw badValue(spec, raw, source, problem);
  return value;
}

/** Flattens `{a: {b: 1}}` to `{"a.b": 1}`; arrays and scalars are leaves. */
function flatten(obj: Record<string, unknown>, prefix = "", out: Record<string, unknown> = {}) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      flatten(v as Record<string, unknown>, key, out);
    } else out[key] = v;
  }
  return out;
}

/** Inputs to {@link loadConfig}; everything is passed in so that tests need no globals. */
export interface ConfigInputs {
  /** Parsed JSON of the config file, and its path for messages. */
  file?: { path: string; data: unknown };
  /** Environment variables (only `JA4_*` ones are read). */
  env?: Record<string, string>;
  /** Values from command-line flags, by config key (text or typed). */
  flags?: Record<string, unknown>;
}

/** The effective, validated configuration. */
export class Config {
  readonly #specs: Map<string, ConfigKey>;
  readonly #values: Map<string, ConfigValue>;
  readonly #sources: Map<string, ConfigSource>;

  constructor(
    specs: Map<string, ConfigKey>,
    values: Map<string, ConfigValue>,
    sources: Map<string, ConfigSource>,
  ) {
    this.#specs = specs;
    this.#values = values;
    this.#sources = sources;
  }

  #get(key: string, type: ConfigType | ConfigType[]): ConfigValue {
    const spec = this.#specs.get(key);
    if (!spec) throw new ConfigError("UNKNOWN_KEY", `config key ${key} is not declared`);
    const types = Array.isArray(type) ? type : [type];
    if (!types.includes(spec.type)) {
      throw new ConfigError("WRONG_TYPE", `config key ${key} is ${spec.type}, not ${types}`);
    }
    return this.#values.get(key)!;
  }

  string(key: string): string {
    return this.#get(key, ["string", "enum"]) as string;
  }
  int(key: string): number {
    return this.#get(key, "int") as number;
  }
  number(key: string): number {
    return this.#get(key, ["number", "int"]) as number;
  }
  bool(key: string): boolean {
    return this.#get(key, "bool") as boolean;
  }
  list(key: string): string[] {
    return this.#get(key, "list") as string[];
  }
  has(key: string): boolean {
    return this.#specs.has(key);
  }
  source(key: string): ConfigSource | undefined {
    return this.#sources.get(key);
  }
  /** A copy of this config with some keys replaced (validated like flags). */
  with(overrides: Record<string, unknown>): Config {
    const values = new Map(this.#values);
    const sources = new Map(this.#sources);
    for (const [key, raw] of Object.entries(overrides)) {
      const spec = this.#specs.get(key);
      if (!spec) throw new ConfigError("UNKNOWN_KEY", `config key ${key} is not declared`);
      values.set(key, coerceValue(spec, raw, "override"));
      sources.set(key, "flag");
    }
    return new Config(this.#specs, values, sources);
  }
  /** Every key with its value and source, sorted; secrets masked. */
  entries(): { key: string; value: ConfigValue; source: ConfigSource; description: string }[] {
    return [...this.#specs.values()]
      .sort((a, b) => a.key.localeCompare(b.key))
      .map((spec) => ({
        key: spec.key,
        value: spec.secret && this.#values.get(spec.key) !== "" ? "******" : this.#values.get(
          spec.key,
        )!,
        source: this.#sources.get(spec.key)!,
        description: spec.description,
      }));
  }
}

/**
 * Builds the effective configuration from declared keys and the layered inputs.
 * Unknown keys in the file or unknown `JA4_*` variables are errors (a typo must not be
 * silently ignored), except variables listed in `ignoreEnv`.
 */
export function loadConfig(
  keys: readonly ConfigKey[],
  inputs: ConfigInputs = {},
  ignoreEnv: readonly string[] = ["JA4_CONFIG"],
): Config {
  const specs = new Map<string, ConfigKey>();
  for (const spec of keys) {
    if (specs.has(spec.key)) {
      throw new ConfigError("DUPLICATE_KEY", `config key ${spec.key} is declared twice`);
    }
    // Defaults go through the same validation so a wrong default fails fast in tests.
    coerceValue(spec, spec.default, "default");
    specs.set(spec.key, spec);
  }
  const values = new Map<string, ConfigValue>();
  const sources = new Map<string, ConfigSource>();
  for (const spec of specs.values()) {
    values.set(spec.key, spec.default);
    sources.set(spec.key, "default");
  }

  if (inputs.file) {
    const { path, data } = inputs.file;
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      throw new ConfigError("BAD_FILE", `config file ${path}: expected a JSON object`);
    }
    for (const [key, raw] of Object.entries(flatten(data as Record<string, unknown>))) {
      const spec = specs.get(key);
      if (!spec) {
        throw new ConfigError(
          "UNKNOWN_KEY",
          `config file ${path}: unknown key ${key} (see 'ja4 config print' for the keys)`,
        );
      }
      values.set(key, coerceValue(spec, raw, `file ${path}`));
      sources.set(key, "file");
    }
  }

  const byEnv = new Map([...specs.values()].map((s) => [envName(s.key), s]));
  for (const [name, raw] of Object.entries(inputs.env ?? {})) {
    if (!name.startsWith("JA4_") || ignoreEnv.includes(name)) continue;
    const spec = byEnv.get(name);
    if (!spec) {
      throw new ConfigError(
        "UNKNOWN_KEY",
        `environment variable ${name} is not a known setting (see 'ja4 config print')`,
      );
    }
    values.set(spec.key, coerceValue(spec, raw, `env ${name}`));
    sources.set(spec.key, "env");
  }

  for (const [key, raw] of Object.entries(inputs.flags ?? {})) {
    if (raw === undefined) continue;
    const spec = specs.get(key);
    if (!spec) throw new ConfigError("UNKNOWN_KEY", `config key ${key} is not declared`);
    values.set(key, coerceValue(spec, raw, "flag"));
    sources.set(key, "flag");
  }
  return new Config(specs, values, sources);
}

/** Reads and parses a JSON config file; a missing or malformed file is a ConfigError. */
export async function readConfigFile(path: string): Promise<{ path: string; data: unknown }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new ConfigError(
      "FILE_UNREADABLE",
      `config file ${path} cannot be read: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    return { path, data: JSON.parse(text) };
  } catch (err) {
    throw new ConfigError(
      "BAD_FILE",
      `config file ${path} is not valid JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
