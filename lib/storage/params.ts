/**
 * Query parameters arriving over the ClickHouse HTTP protocol (`param_<name>=<text>`) are in
 * ClickHouse's *escaped* text form: a String is backslash-escaped, an Array/Map/Tuple is a
 * literal with quoted, escaped elements. chDB's binder takes JS values and escapes strings
 * itself, so the endpoint converts each text back into a value chDB re-escapes to the same
 * text. Composite types cannot round-trip that way (their inner `\'` would be doubled), so
 * their placeholders are rewritten to `CAST({name:String} AS Type)`, which parses the literal
 * the same way the server parses a composite parameter. Values never enter the SQL text.
 */

/** `{name:Type}` placeholders in `sql`, name → declared type (first declaration wins). */
export function placeholderTypes(sql: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of sql.matchAll(PLACEHOLDER)) {
    if (!out.has(m[1])) out.set(m[1], m[2].trim());
  }
  return out;
}

const PLACEHOLDER = /\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/g;

const ESCAPES: Record<string, string> = {
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  "0": "\0",
};

/** Decodes ClickHouse's escaped text form: `\n`, `\t`, `\\`, `\'`…; any other `\x` is `x`. */
export function unescapeText(text: string): string {
  if (!text.includes("\\")) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== "\\" || i + 1 === text.length) {
      out += c;
      continue;
    }
    const next = text[++i];
    out += ESCAPES[next] ?? next;
  }
  return out;
}

/** True for types whose text form is a literal with nested quoting. */
export function isCompositeType(type: string): boolean {
  return /^(Nullable\(\s*)?(Array|Map|Tuple|Nested)\s*\(/i.test(type.trim());
}

/** The SQL and JS-valued params to hand chDB for an HTTP request's SQL and `param_*` texts. */
export function bindHttpParams(
  sql: string,
  texts: Record<string, string>,
): { sql: string; params: Record<string, unknown> } {
  const types = placeholderTypes(sql);
  const params: Record<string, unknown> = {};
  const composite = new Set<string>();
  for (const [name, text] of Object.entries(texts)) {
    const type = types.get(name);
    if (text === "\\N") params[name] = null;
    else if (type !== undefined && isCompositeType(type)) {
      composite.add(name);
      params[name] = text;
    } else params[name] = unescapeText(text);
  }
  if (composite.size === 0) return { sql, params };
  const rewritten = sql.replace(
    PLACEHOLDER,
    (whole, name: string, type: string) =>
      composite.has(name) ? `CAST({${name}:String} AS ${type.trim()})` : whole,
  );
  return { sql: rewritten, params };
}
