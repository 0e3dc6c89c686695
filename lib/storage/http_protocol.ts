/**
 * The subset of ClickHouse's HTTP interface that client-web and curl use, answered by the
 * embedded engine: `GET /ping`; `GET|POST /?query=…` with the SQL in the URL and/or the body;
 * `INSERT … FORMAT F` in the URL with the data as body; `param_<name>` parameters (URL or
 * multipart form); `default_format`; `database` (must be the platform database). Errors are
 * answered as ClickHouse does: a status ≥ 400, `X-ClickHouse-Exception-Code`, and a
 * `Code: N. DB::Exception: … (NAME)` body that client-web parses into its error type.
 */
import type { ChdbStorage } from "./chdb_storage.ts";
import { StorageError } from "./errors.ts";
import { bindHttpParams } from "./params.ts";

const INSERT_FORMATS = [
  "JSONEachRow",
  "JSONCompactEachRow",
  "CSV",
  "CSVWithNames",
  "TabSeparated",
] as const;
type InsertFormat = typeof INSERT_FORMATS[number];
const FORMAT_ALIASES: Record<string, InsertFormat> = { TSV: "TabSeparated" };

/** A parsed `INSERT INTO t [(cols)] FORMAT F` whose data is the request body. */
export interface InsertHead {
  table: string;
  columns?: string[];
  format: InsertFormat;
}

const INSERT_RE =
  /^\s*INSERT\s+INTO\s+(?:TABLE\s+)?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*(?:\(([^)]*)\))?\s*FORMAT\s+([A-Za-z]+)\s*$/i;

/** Parses an INSERT head; undefined when `sql` is not one (it then runs as a statement). */
export function parseInsertHead(sql: string): InsertHead | undefined {
  const m = INSERT_RE.exec(sql);
  if (!m) return undefined;
  const format = FORMAT_ALIASES[m[3]] ?? INSERT_FORMATS.find((f) => f === m[3]);
  if (!format) {
    throw new StorageError("BAD_INPUT", `insert format ${m[3]} is not served by this endpoint`);
  }
  const columns = m[2]?.split(",").map((c) => c.trim().replace(/^`|`$/g, "")).filter((c) => c);
  return { table: m[1], columns: columns?.length ? columns : undefined, format };
}

/** Input-format settings an INSERT may carry in its URL; others are ignored. */
const INSERT_SETTING_NAMES = [
  "input_format_json_empty_as_default",
  "input_format_null_as_default",
  "input_format_skip_unknown_fields",
  "date_time_input_format",
  "insert_deduplication_token",
] as const;

/** The whitelisted insert settings present in a request URL. */
export function insertSettings(search: URLSearchParams): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const name of INSERT_SETTING_NAMES) {
    const v = search.get(name);
    if (v !== null && /^[A-Za-z0-9_.-]{1,200}$/.test(v)) out[name] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/** ClickHouse-style error body for a code and text. */
export function exceptionBody(code: number, text: string, name = "UNKNOWN"): string {
  const stripped = text.replace(/^[^:]*failed: /, "");
  return /^Code: \d+\./.test(stripped)
    ? stripped + "\n"
    : `Code: ${code}. DB::Exception: ${stripped} (${name})\n`;
}

/** An error Response in ClickHouse's shape. */
export function errorResponse(status: number, code: number, text: string, name?: string): Response {
  return new Response(exceptionBody(code, text, name), {
    status,
    headers: {
      "Content-Type": "text/plain; charset=UTF-8",
      "X-ClickHouse-Exception-Code": String(code),
    },
  });
}

async function collectParams(req: Request, url: URL): Promise<
  { query: string; params: Record<string, string>; body?: Uint8Array }
> {
  const params: Record<string, string> = {};
  let query = url.searchParams.get("query") ?? "";
  for (const [k, v] of url.searchParams) if (k.startsWith("param_")) params[k.slice(6)] = v;
  const type = req.headers.get("content-type") ?? "";
  if (req.method === "POST" && type.startsWith("multipart/form-data")) {
    const form = await req.formData();
    for (const [k, v] of form) {
      if (typeof v !== "string") continue;
      if (k === "query") query = query ? `${query}\n${v}` : v;
      else if (k.startsWith("param_")) params[k.slice(6)] = v;
    }
    return { query, params };
  }
  const body = req.method === "POST" ? new Uint8Array(await req.arrayBuffer()) : undefined;
  return { query, params, body };
}

/**
 * Answers one ClickHouse HTTP request from the embedded engine. Authentication is the
 * caller's job (the endpoint checks its token before calling this).
 */
export async function handleClickHouseHttp(req: Request, db: ChdbStorage): Promise<Response> {
  const url = new URL(req.url);
  if (url.pathname === "/ping" || (req.method === "GET" && !url.searchParams.has("query"))) {
    return new Response("Ok.\n", { headers: { "Content-Type": "text/plain; charset=UTF-8" } });
  }
  if (url.pathname !== "/") {
    return errorResponse(404, 0, `no handler for ${url.pathname}`, "NOT_FOUND");
  }
  const database = url.searchParams.get("database");
  if (database !== null && database !== db.database && database !== "default") {
    return errorResponse(
      404,
      81,
      `Database ${database} does not exist here: this endpoint serves ${db.database}`,
      "UNKNOWN_DATABASE",
    );
  }
  const queryId = url.searchParams.get("query_id") ?? crypto.randomUUID();
  try {
    const { query, params, body } = await collectParams(req, url);
    const head = parseInsertHead(query);
    // An INSERT head with no data inserts nothing (as on a server); never hand it to the
    // engine as a statement, which would wait for data on stdin.
    if (head && (!body || body.length === 0)) {
      return new Response(null, { headers: { "X-ClickHouse-Query-Id": queryId } });
    }
    if (head && body) {
      const table = head.table.includes(".") ? head.table : `${db.database}.${head.table}`;
      const written = await db.insertRaw(
        table,
        body,
        head.format,
        head.columns,
        insertSettings(url.searchParams),
      );
      return new Response(null, {
        headers: {
          "X-ClickHouse-Query-Id": queryId,
          "X-ClickHouse-Summary": JSON.stringify({ written_rows: String(written) }),
        },
      });
    }
    const text = body && body.length > 0 ? new TextDecoder().decode(body) : "";
    const sql = [query, text].filter((s) => s.trim() !== "").join("\n");
    if (sql === "") return errorResponse(400, 62, "Empty query", "SYNTAX_ERROR");
    const format = url.searchParams.get("default_format") ?? "TabSeparated";
    const bound = bindHttpParams(sql, params);
    const result = await db.raw(bound.sql, bound.params, format);
    return new Response(result.bytes as Uint8Array<ArrayBuffer>, {
      headers: {
        "Content-Type": "text/plain; charset=UTF-8",
        "X-ClickHouse-Query-Id": queryId,
        "X-ClickHouse-Format": format,
        "X-ClickHouse-Summary": JSON.stringify({ read_rows: String(result.rowsRead) }),
      },
    });
  } catch (err) {
    if (err instanceof StorageError && err.code === "SQL") {
      return errorResponse(500, err.clickhouseCode ?? 0, err.message);
    }
    if (err instanceof StorageError && err.code === "BAD_INPUT") {
      return errorResponse(400, 36, err.message, "BAD_ARGUMENTS");
    }
    const message = err instanceof Error ? err.message : String(err);
    return errorResponse(503, 210, message, "NETWORK_ERROR");
  }
}
