/**
 * Reading the systemd units and environment files the components ship, for their tests.
 *
 * @example
 * ```ts
 * const d = directives(await Deno.readTextFile("capture/ja4-capture.service"));
 * d.get("User"); // ["ja4"]
 * ```
 */

/** Section → directive → values (systemd allows a directive to repeat). */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      section = head[1];
      out.set(section, out.get(section) ?? new Map());
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0 || section === "") throw new Error(`malformed unit line: ${line}`);
    const values = out.get(section)!;
    const key = line.slice(0, eq);
    values.set(key, [...(values.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/** Directive → values across all sections (the directives our units use are unique to one). */
export function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const section of parseUnit(text).values()) {
    for (const [key, values] of section) out.set(key, [...(out.get(key) ?? []), ...values]);
  }
  return out;
}

/** The `JA4_*` assignments of an environment file (comments and other lines ignored). */
export function ja4EnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(JA4_[A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}
