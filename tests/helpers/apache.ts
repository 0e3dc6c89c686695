/**
 * Test helpers around a real Apache httpd with mod_reqin_log: `startApache` runs one from a
 * self-contained configuration in a temp dir (127.0.0.1 only, HTTP and HTTPS via mod_ssl with
 * a certificate made here by openssl), and `startLineReader` listens on the module's UNIX
 * socket like the correlator does. Both stop themselves and remove their files.
 *
 * @example
 * ```ts
 * const reader = await startLineReader();           // makes its own socket path
 * const apache = await startApache({ socketPath: reader.path, mpm: "event" });
 * try {
 *   await fetch(`http://127.0.0.1:${apache.httpPort}/`).then((r) => r.text());
 *   const [event] = await reader.waitFor(1);
 * } finally {
 *   await apache.stop();
 *   await reader.close();
 * }
 * ```
 */
import { ensureModule } from "../../apache-module/mod.ts";
import { ApacheRunError } from "../../apache-module/errors.ts";
import type { HttpEvent } from "../../lib/events.ts";
import { createLogger } from "../../lib/log.ts";
import { serveLines } from "../../lib/unix_socket.ts";
import { makeCertificate } from "./tls_server.ts";

/** Apache's multi-processing modules the module supports. */
export type Mpm = "event" | "worker" | "prefork";

export interface ApacheOptions {
  /** ReqinLogSocket: where the module writes (a {@link startLineReader} path). */
  socketPath: string;
  /** Multi-processing module; `event` by default. */
  mpm?: Mpm;
  /** ReqinLogHeaders; the module's default set when absent. */
  headers?: string[];
  /** ReqinLogMaxHeaderLength. */
  maxHeaderLength?: number;
  /** Load the module (default true); `false` gives a baseline Apache for benchmarks. */
  loadModule?: boolean;
  /** ReqinLogEnabled (default true). */
  enabled?: boolean;
  /** Trust this header through mod_remoteip from 127.0.0.1 (e.g. "X-Forwarded-For"). */
  remoteIpHeader?: string;
  /** Expect the PROXY protocol (mod_remoteip `RemoteIPProxyProtocol On`) on every listener. */
  proxyProtocol?: boolean;
  /** Offer HTTP/2 (h2 over TLS, h2c upgrade) through mod_http2. */
  http2?: boolean;
  /** Extra lines appended to the configuration (MPM sizing, logging). */
  extraConfig?: string;
  /**
   * Run Apache as a single process (`-X`) under this command, e.g. valgrind and its flags.
   * As root the whole command runs as www-data: Apache cannot switch user then, and a tool
   * that writes its output at exit (valgrind) could not write it after Apache had switched.
   */
  wrapper?: string[];
}

export interface RunningApache {
  /** Plain HTTP port on 127.0.0.1. */
  httpPort: number;
  /** HTTPS port on 127.0.0.1 (certificate for `localhost` and 127.0.0.1, self-signed). */
  httpsPort: number;
  /** PEM file of the self-signed certificate, for `curl --cacert`. */
  certPath: string;
  /** The temp dir holding config, logs and document root. */
  dir: string;
  /** Pid of the master process; also the session id of every Apache process (setsid). */
  pid: number;
  /** Contents of the error log so far. */
  errorLog(): Promise<string>;
  /** Graceful restart (SIGUSR1); resolves once the new generation of children serves. */
  gracefulRestart(): Promise<void>;
  /**
   * Stops Apache (its children log their final counters), removes the temp dir and resolves
   * with the final error log. Safe to call twice (the second call resolves with "").
   */
  stop(): Promise<string>;
}

interface ApxsPaths {
  httpd: string;
  modules: string;
}

async function apxsQuery(name: string): Promise<string> {
  try {
    const out = await new Deno.Command("apxs", { args: ["-q", name], stdout: "piped" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch (err) {
    throw new ApacheRunError(
      "NOT_INSTALLED",
      "apxs not found: install the Debian packages apache2 and apache2-dev",
      { cause: err },
    );
  }
}

async function apachePaths(): Promise<ApxsPaths> {
  const [sbin, target, modules] = await Promise.all(
    ["SBINDIR", "TARGET", "LIBEXECDIR"].map(apxsQuery),
  );
  return { httpd: `${sbin}/${target}`, modules };
}

/**
 * `n` distinct TCP ports that were free a moment ago on 127.0.0.1. All listeners are held
 * open together before any is closed: closing one before asking for the next lets the
 * kernel hand the same port out twice (seen: Apache told to Listen twice on one port).
 */
export function freePorts(n: number): number[] {
  const listeners = Array.from(
    { length: n },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}

async function run(cmd: string, args: string[]): Promise<Deno.CommandOutput> {
  return await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
}

const MPM_SIZING: Record<Mpm, string> = {
  event: "StartServers 2\nServerLimit 4\nThreadsPerChild 16\nMaxRequestWorkers 64",
  worker: "StartServers 2\nServerLimit 4\nThreadsPerChild 16\nMaxRequestWorkers 64",
  prefork: "StartServers 4\nMinSpareServers 2\nMaxSpareServers 8\nMaxRequestWorkers 24",
};

/** The whole httpd.conf for these options (exported so tests can show it on failure). */
export function apacheConfig(p: {
  dir: string;
  modules: string;
  modulePath?: string;
  httpPort: number;
  httpsPort: number;
  cert: string;
  key: string;
  asUser?: string;
  options: ApacheOptions;
}): string {
  const o = p.options;
  const mpm = o.mpm ?? "event";
  const lines = [
    `ServerRoot "${p.dir}"`,
    `DefaultRuntimeDir "${p.dir}/run"`,
    `PidFile "${p.dir}/run/httpd.pid"`,
    `Mutex file:${p.dir}/run default`,
    `ErrorLog "${p.dir}/error.log"`,
    // Per-module levels only name modules that are loaded.
    p.modulePath ? "LogLevel warn reqin_log:info" : "LogLevel warn",
    `LoadModule mpm_${mpm}_module ${p.modules}/mod_mpm_${mpm}.so`,
    `LoadModule authz_core_module ${p.modules}/mod_authz_core.so`,
    `LoadModule mime_module ${p.modules}/mod_mime.so`,
    `LoadModule socache_shmcb_module ${p.modules}/mod_socache_shmcb.so`,
    `LoadModule ssl_module ${p.modules}/mod_ssl.so`,
  ];
  if (o.http2) lines.push(`LoadModule http2_module ${p.modules}/mod_http2.so`);
  if (o.remoteIpHeader || o.proxyProtocol) {
    lines.push(`LoadModule remoteip_module ${p.modules}/mod_remoteip.so`);
  }
  if (o.remoteIpHeader) {
    lines.push(`RemoteIPHeader ${o.remoteIpHeader}`, "RemoteIPInternalProxy 127.0.0.1");
  }
  if (o.proxyProtocol) lines.push("RemoteIPProxyProtocol On");
  if (p.modulePath) lines.push(`LoadModule reqin_log_module ${p.modulePath}`);
  if (p.asUser) lines.push(`User ${p.asUser}`, `Group ${p.asUser}`);
  lines.push(
    "ServerName localhost",
    `Listen 127.0.0.1:${p.httpPort}`,
    `Listen 127.0.0.1:${p.httpsPort}`,
    `DocumentRoot "${p.dir}/htdocs"`,
    `<Directory "${p.dir}/htdocs">`,
    "  Require all granted",
    "</Directory>",
    "TypesConfig /dev/null",
    "AddType text/html .html",
    "KeepAlive On",
    "MaxKeepAliveRequests 0",
    "KeepAliveTimeout 5",
    "Timeout 10",
    `SSLSessionCache shmcb:${p.dir}/run/ssl_scache(512000)`,
    MPM_SIZING[mpm],
  );
  if (o.http2) lines.push("Protocols h2 h2c http/1.1");
  if (p.modulePath) {
    lines.push(`ReqinLogEnabled ${o.enabled === false ? "Off" : "On"}`);
    lines.push(`ReqinLogSocket ${o.socketPath}`);
    if (o.headers) lines.push(`ReqinLogHeaders ${o.headers.join(" ")}`);
    if (o.maxHeaderLength) lines.push(`ReqinLogMaxHeaderLength ${o.maxHeaderLength}`);
  }
  lines.push(
    `<VirtualHost 127.0.0.1:${p.httpsPort}>`,
    "  SSLEngine on",
    `  SSLCertificateFile ${p.cert}`,
    `  SSLCertificateKeyFile ${p.key}`,
    "</VirtualHost>",
  );
  if (o.extraConfig) lines.push(o.extraConfig);
  return lines.join("\n") + "\n";
}

async function waitUntil(what: string, check: () => Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new ApacheRunError("TIMEOUT", `${what} did not happen within ${ms} ms`);
}

async function canConnect(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
    return true;
  } catch {
    // Refused: not listening yet; the caller polls again.
    return false;
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "";
    throw err;
  }
}

/**
 * Starts Apache (foreground master process) with the module loaded from
 * `apache-module/build/` (built first when stale). Children run as www-data when the tests
 * run as root, so the temp dir and the socket must be reachable by that user.
 */
export async function startApache(options: ApacheOptions): Promise<RunningApache> {
  const paths = await apachePaths();
  const modulePath = options.loadModule === false ? undefined : await ensureModule();
  const dir = await Deno.makeTempDir({ prefix: "ja4-apache-" });
  await Deno.chmod(dir, 0o755);
  await Deno.mkdir(`${dir}/run`);
  await Deno.mkdir(`${dir}/htdocs`);
  await Deno.chmod(`${dir}/htdocs`, 0o755);
  await Deno.writeTextFile(`${dir}/htdocs/index.html`, "<p>hello from mod_reqin_log tests</p>\n");
  await Deno.chmod(`${dir}/htdocs/index.html`, 0o644);
  const { cert, key } = await makeCertificate(dir);
  const [httpPort, httpsPort] = freePorts(2);
  const conf = apacheConfig({
    dir,
    modules: paths.modules,
    modulePath,
    httpPort,
    httpsPort,
    cert,
    key,
    asUser: Deno.uid() === 0 && !options.wrapper ? "www-data" : undefined,
    options,
  });
  const confPath = `${dir}/httpd.conf`;
  await Deno.writeTextFile(confPath, conf);

  const asWwwData = options.wrapper !== undefined && Deno.uid() === 0;
  if (asWwwData) {
    // Apache runs as www-data from the start: it writes its logs and pid file here.
    const chown = await run("chown", ["-R", "www-data:www-data", dir]);
    if (!chown.success) {
      await Deno.remove(dir, { recursive: true });
      throw new ApacheRunError(
        "CONFIG",
        `chown www-data ${dir}: ${new TextDecoder().decode(chown.stderr)}`,
      );
    }
  }
  const check = await run(paths.httpd, ["-t", "-f", confPath]);
  if (!check.success) {
    await Deno.remove(dir, { recursive: true });
    throw new ApacheRunError(
      "CONFIG",
      `${paths.httpd} -t rejected the test configuration: ${
        new TextDecoder().decode(check.stderr)
      }\n${conf}`,
    );
  }
  // stderr goes to a file, not a pipe: Apache's children inherit it, and a pipe held open by
  // a straggling child would keep the test waiting for its end.
  const startLog = `${dir}/start.log`;
  // setsid: mpm_prefork stops by signalling its whole process group, which would otherwise
  // include this Deno process (it is not a group leader, so setsid execs in place and the
  // pid stays Apache's).
  const argv = options.wrapper
    ? [
      ...(asWwwData ? ["setpriv", "--reuid=www-data", "--regid=www-data", "--clear-groups"] : []),
      ...options.wrapper,
      paths.httpd,
      "-X",
    ]
    : [paths.httpd];
  const child = new Deno.Command("setsid", {
    args: [
      "sh",
      "-c",
      'log="$1"; shift; exec "$@" -DFOREGROUND 2>"$log"',
      "sh",
      startLog,
      ...argv,
      "-f",
      confPath,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stderr = () => readText(startLog);
  const errorLog = () => readText(`${dir}/error.log`);

  let stopped = false;
  const stop = async (): Promise<string> => {
    if (stopped) return "";
    stopped = true;
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, 10_000);
      await status;
      clearTimeout(timer);
    }
    const finalLog = await errorLog();
    await Deno.remove(dir, { recursive: true });
    return finalLog;
  };

  try {
    await waitUntil(
      `Apache listening on 127.0.0.1:${httpPort}`,
      async () => {
        if (exited) {
          throw new ApacheRunError(
            "START_FAILED",
            `Apache exited at start: ${await stderr()}\n${await errorLog()}`,
          );
        }
        return await canConnect(httpPort) && await canConnect(httpsPort);
      },
      20_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const gracefulRestart = async () => {
    const before = (await errorLog()).split("resuming normal operations").length;
    child.kill("SIGUSR1");
    await waitUntil(
      "graceful restart",
      async () => (await errorLog()).split("resuming normal operations").length > before,
      20_000,
    );
  };

  return {
    httpPort,
    httpsPort,
    certPath: cert,
    dir,
    pid: child.pid,
    errorLog,
    gracefulRestart,
    stop,
  };
}

/** A listener on a UNIX stream socket that collects mod_reqin_log's lines. */
/** What {@link rawRequest} got back. */
export interface RawExchange {
  /** The whole response, up to the server's close. */
  response: string;
  /** The client's local port (what the module logs as src_port). */
  localPort: number;
}

/**
 * Sends `bytes` exactly as given (a request a client library would not write: repeated or
 * odd-case headers, control bytes, a PROXY header) on a fresh connection to 127.0.0.1:`port`
 * and reads the response until the server closes (send `Connection: close`).
 */
export async function rawRequest(port: number, bytes: Uint8Array | string): Promise<RawExchange> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const localPort = (conn.localAddr as Deno.NetAddr).port;
  await conn.write(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
  const decoder = new TextDecoder();
  const buf = new Uint8Array(16384);
  let response = "";
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    response += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  conn.close();
  return { response: response + decoder.decode(), localPort };
}

export interface LineReader {
  /** The socket path (for ReqinLogSocket). */
  path: string;
  /** Parsed events, in arrival order. */
  events: HttpEvent[];
  /** Lines that were not valid JSON (should stay empty). */
  invalid: string[];
  /** Connections accepted so far (one per Apache child that logged). */
  connections(): number;
  /** Resolves with the events once at least `n` have arrived (rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<HttpEvent[]>;
  /** Stops reading (the kernel buffers fill, as with a stuck correlator). */
  pause(): void;
  /** Reads again. */
  resume(): void;
  /** Closes everything and removes the socket and its directory. */
  close(): Promise<void>;
}

/**
 * Listens on `path` (default: a fresh temp dir's `http.socket`), made reachable for Apache's
 * children (dir 0755, socket 0666), with the correlator's own line server
 * (lib/unix_socket.ts `serveLines`), and keeps the parsed events. Closing does not wait for
 * writers that stay connected (Apache's children do): a short drain, then everything goes.
 */
export async function startLineReader(path?: string): Promise<LineReader> {
  const ownDir = path ? undefined : await Deno.makeTempDir({ prefix: "ja4-reqin-" });
  if (ownDir) await Deno.chmod(ownDir, 0o755);
  const sock = path ?? `${ownDir}/http.socket`;
  const events: HttpEvent[] = [];
  const invalid: string[] = [];
  const server = await serveLines({
    path: sock,
    mode: 0o666,
    maxLineBytes: 1 << 20,
    onLine(line) {
      try {
        events.push(JSON.parse(line));
      } catch {
        invalid.push(line);
      }
    },
    onOversize: (bytes) => invalid.push(`oversized line of ${bytes} bytes`),
    // Socket failures end up in `invalid`, which the tests check stays empty.
    log: createLogger({ level: "warn", write: (line) => invalid.push(line) }),
    drainQuietMs: 50,
    drainMs: 500,
  });
  return {
    path: sock,
    events,
    invalid,
    connections: () => server.accepted(),
    async waitFor(n: number, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (events.length < n) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${n} lines on ${sock}, got ${events.length} in ${ms} ms`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return events;
    },
    pause: () => server.pause(),
    resume: () => server.resume(),
    async close() {
      await server.close();
      if (ownDir) await Deno.remove(ownDir, { recursive: true });
    },
  };
}
