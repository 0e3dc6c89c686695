/**
 * The embedded owner's endpoint: the ClickHouse HTTP protocol on 127.0.0.1, token-protected,
 * so the platform's other processes (and curl) can use the one chDB data directory this
 * process owns. Its URL and token are written to `<data_dir>/storage-endpoint.json`
 * (mode 0600), where openStorage finds them.
 */
import { join } from "node:path";
import type { Logger } from "../log.ts";
import type { ChdbStorage } from "./chdb_storage.ts";
import { errorResponse, handleClickHouseHttp } from "./http_protocol.ts";

/** File in the data directory that advertises the owner's endpoint. */
export const ENDPOINT_FILE = "storage-endpoint.json";

/** What the endpoint file holds. */
export interface EndpointInfo {
  url: string;
  token: string;
  database: string;
  pid: number;
}

/** Path of the endpoint file for a data directory. */
export function endpointFile(dataDir: string): string {
  return join(dataDir, ENDPOINT_FILE);
}

/** Reads the endpoint file; undefined when absent or unreadable as JSON. */
export async function readEndpointInfo(dataDir: string): Promise<EndpointInfo | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(endpointFile(dataDir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  try {
    const info = JSON.parse(text) as EndpointInfo;
    return typeof info.url === "string" && typeof info.token === "string" ? info : undefined;
  } catch {
    // A half-written or foreign file is treated as no endpoint; the owner rewrites it.
    return undefined;
  }
}

/** Extracts the token a request presents: X-ClickHouse-Key, Bearer, or Basic password. */
export function presentedToken(headers: Headers): string | undefined {
  const key = headers.get("x-clickhouse-key");
  if (key) return key;
  const auth = headers.get("authorization") ?? "";
  if (auth.startsWith("Bearer ")) return auth.slice(7);
  if (auth.startsWith("Basic ")) {
    try {
      const decoded = atob(auth.slice(6));
      const colon = decoded.indexOf(":");
      return colon === -1 ? undefined : decoded.slice(colon + 1);
    } catch {
      return undefined; // not base64: no token presented
    }
  }
  return undefined;
}

/** Compares without an early exit, so response time does not reveal a token prefix. */
export function sameToken(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** A random token for one run of the owner. */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** How to serve: port, token, logger. */
export interface EndpointOptions {
  /** 0 = any free port. */
  port: number;
  token: string;
  log: Logger;
  /** Write the endpoint file into the data directory (false in tests that run several). */
  advertise?: boolean;
}

/** A serving endpoint: its URL and token, and how to stop it (removes the endpoint file). */
export interface RunningEndpoint {
  url: string;
  token: string;
  stop(): Promise<void>;
}

/** Serves `db` over the ClickHouse HTTP protocol on 127.0.0.1 until stop(). */
export async function serveEndpoint(
  db: ChdbStorage,
  opts: EndpointOptions,
): Promise<RunningEndpoint> {
  const { token, log } = opts;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: opts.port,
    onListen: () => {},
  }, async (req) => {
    const url = new URL(req.url);
    // /ping answers without a token, like ClickHouse, so health checks need no secret.
    if (url.pathname !== "/ping") {
      const presented = presentedToken(req.headers);
      if (presented === undefined || !sameToken(presented, token)) {
        return errorResponse(
          401,
          516,
          "Authentication failed: present the endpoint token (X-ClickHouse-Key, Bearer, or " +
            `as the password); it is in ${ENDPOINT_FILE} in the data directory`,
          "AUTHENTICATION_FAILED",
        );
      }
    }
    return await handleClickHouseHttp(req, db);
  });
  const addr = server.addr as Deno.NetAddr;
  const url = `http://127.0.0.1:${addr.port}`;
  const file = endpointFile(db.dataDir);
  if (opts.advertise ?? true) {
    const info: EndpointInfo = { url, token, database: db.database, pid: Deno.pid };
    await Deno.writeTextFile(file, JSON.stringify(info) + "\n", { mode: 0o600 });
  }
  log.info("storage endpoint listening", { url, data_dir: db.dataDir });
  return {
    url,
    token,
    async stop() {
      if (opts.advertise ?? true) {
        await Deno.remove(file).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) {
            log.warn("could not remove endpoint file", { file, error: String(err) });
          }
        });
      }
      await server.shutdown();
    },
  };
}
