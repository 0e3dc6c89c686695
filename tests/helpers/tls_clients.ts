/**
 * Real TLS clients for tests: openssl s_client with varied options, curl, Node's tls and https,
 * and (optionally) headless Chromium, each making real handshakes to a local server, so that the
 * sensor and the offline path see the ClientHellos that real software sends.
 *
 * A client that fails after its ClientHello (no common ALPN, a HelloRetryRequest the server
 * refuses…) is not an error here: the hello was sent, which is what the tests fingerprint.
 *
 * @example
 * ```ts
 * const server = await startTlsServer();
 * const results = await runClients(clientMatrix(server.host, server.port));
 * ```
 */

import dgram from "node:dgram";

/** One client invocation. */
export interface ClientSpec {
  /** Short label for messages, e.g. `openssl-tls1_2`. */
  name: string;
  cmd: string;
  args: string[];
  /** Text written to the client's stdin (then closed). */
  stdin?: string;
  /** Handshakes (TCP connections) this invocation makes. */
  connections: number;
}

/** What a client run did. */
export interface ClientResult {
  name: string;
  code: number;
  stderr: string;
}

/** Node snippet: one tls.connect with the options in JSON argv[1], then exit. */
const NODE_TLS = `
const tls = require("node:tls");
const o = JSON.parse(process.argv[1]);
const s = tls.connect({ rejectUnauthorized: false, ...o }, () => { s.end(); });
s.on("error", (e) => { console.error(e.message); process.exitCode = 1; });
s.on("close", () => {});
s.setTimeout(5000, () => s.destroy());
`;

/** Node snippet: one https GET with the options in JSON argv[1]. */
const NODE_HTTPS = `
const https = require("node:https");
const o = JSON.parse(process.argv[1]);
const r = https.get({ rejectUnauthorized: false, agent: false, ...o }, (res) => res.resume());
r.on("error", (e) => { console.error(e.message); process.exitCode = 1; });
r.setTimeout(5000, () => r.destroy());
`;

function openssl(name: string, host: string, port: number, extra: string[]): ClientSpec {
  return {
    name: `openssl-${name}`,
    cmd: "openssl",
    args: ["s_client", "-connect", `${host}:${port}`, ...extra],
    stdin: "",
    connections: 1,
  };
}

function curl(name: string, url: string, extra: string[]): ClientSpec {
  return {
    name: `curl-${name}`,
    cmd: "curl",
    args: ["-sk", "-o", "/dev/null", "--max-time", "5", ...extra, url],
    connections: 1,
  };
}

function node(name: string, script: string, opts: Record<string, unknown>): ClientSpec {
  return {
    name: `node-${name}`,
    cmd: "node",
    args: ["-e", script, JSON.stringify(opts)],
    connections: 1,
  };
}

/**
 * A varied set of real clients against `host:port`: TLS 1.2/1.3, ALPN lists, SNI present or
 * absent, key-share groups (one that forces a HelloRetryRequest), cipher suites, tickets off,
 * curl HTTP/1.1 and HTTP/2, Node tls and https.
 */
export function clientMatrix(host: string, port: number): ClientSpec[] {
  const ip = `https://${host}:${port}/`;
  const named = `https://localhost:${port}/`;
  return [
    openssl("default", host, port, []),
    openssl("tls1_3", host, port, ["-tls1_3", "-servername", "tls13.example"]),
    openssl("tls1_2", host, port, ["-tls1_2", "-servername", "tls12.example"]),
    openssl("alpn", host, port, ["-alpn", "h2,http/1.1", "-servername", "alpn.example"]),
    openssl("alpn-h2-only", host, port, ["-alpn", "h2"]),
    openssl("noservername", host, port, ["-noservername"]),
    openssl("groups", host, port, ["-groups", "X25519:P-256", "-servername", "groups.example"]),
    // P-521 first: the server (rustls) does not do P-521, so it asks again (HelloRetryRequest)
    // and the connection carries two ClientHellos.
    openssl("hrr", host, port, ["-groups", "P-521:P-256", "-tls1_3"]),
    openssl("ciphersuites", host, port, [
      "-tls1_3",
      "-ciphersuites",
      "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
    ]),
    openssl("tls1_2-ciphers", host, port, [
      "-tls1_2",
      "-cipher",
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:AES256-SHA",
      "-no_ticket",
    ]),
    openssl("no_ticket", host, port, ["-no_ticket", "-servername", "noticket.example"]),
    openssl("sigalgs", host, port, ["-sigalgs", "ECDSA+SHA256:RSA-PSS+SHA256:ed25519"]),
    // The status_request extension (5). (-ct would add 18, but needs a CT log list installed.)
    openssl("status", host, port, ["-status", "-servername", "status.example"]),
    // A first ALPN value that starts with a non-alphanumeric byte: JA4 uses its hex form.
    openssl("alpn-odd", host, port, ["-alpn", "_web!,http/1.1"]),
    curl("http1.1", named, ["--http1.1"]),
    curl("http2", named, ["--http2"]),
    curl("ip-tls1.2", ip, ["--tlsv1.2", "--tls-max", "1.2"]),
    curl("ciphers-curves", named, [
      "--tls-max",
      "1.2",
      "--ciphers",
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256",
      "--curves",
      "X25519",
    ]),
    node("tls-h2", NODE_TLS, {
      host,
      port,
      servername: "node.example",
      ALPNProtocols: ["h2", "http/1.1"],
    }),
    node("tls-1.2", NODE_TLS, { host, port, maxVersion: "TLSv1.2", servername: "node12.example" }),
    node("https", NODE_HTTPS, { host: "localhost", port, path: "/" }),
    node("tls-custom", NODE_TLS, {
      host,
      port,
      servername: "custom.example",
      ciphers: "TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES128-GCM-SHA256",
      ecdhCurve: "P-384:X25519",
      sigalgs: "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256:ed25519",
      ALPNProtocols: ["http/1.1"],
    }),
  ];
}

/** Runs one client to completion (bounded by a kill after `timeoutMs`). */
export async function runClient(spec: ClientSpec, timeoutMs = 15_000): Promise<ClientResult> {
  const child = new Deno.Command(spec.cmd, {
    args: spec.args,
    stdin: spec.stdin !== undefined ? "piped" : "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  if (spec.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(spec.stdin));
    await w.close();
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // It ended just now.
    }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  return { name: spec.name, code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Runs clients with bounded concurrency; returns their results in input order. */
export async function runClients(specs: ClientSpec[], concurrency = 4): Promise<ClientResult[]> {
  const results: ClientResult[] = new Array(specs.length);
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const i = next++;
      results[i] = await runClient(specs[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  return results;
}

/** True when every command the matrix needs is installed. */
export async function clientsAvailable(): Promise<string[]> {
  const missing: string[] = [];
  for (const cmd of ["openssl", "curl", "node"]) {
    try {
      const out = await new Deno.Command(cmd, {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      })
        .output();
      if (!out.success && cmd !== "openssl") missing.push(cmd);
    } catch {
      missing.push(cmd);
    }
  }
  return missing;
}

/**
 * Loads `url` in headless Chromium (npm playwright-core driving /usr/bin/chromium, fresh temp
 * profile). The host name `ja4.test` resolves to 127.0.0.1 inside the browser, so a URL like
 * `https://ja4.test:PORT/` sends SNI (Chromium sends none for IP literals). Returns false, with
 * the reason, when Chromium cannot be started on this machine.
 */
export async function runChromium(
  url: string,
  options: {
    /** More Chromium flags (e.g. to force QUIC). */
    extraArgs?: string[];
    /** The page is not expected to load (a QUIC sink that never answers): only hellos matter. */
    handshakeOnly?: boolean;
    timeoutMs?: number;
  } = {},
): Promise<{ ok: true; status?: number } | { ok: false; reason: string }> {
  const executablePath = "/usr/bin/chromium";
  try {
    await Deno.stat(executablePath);
  } catch {
    return { ok: false, reason: `${executablePath} is not installed` };
  }
  const { chromium } = await import("playwright-core");
  const profile = await Deno.makeTempDir({ prefix: "ja4-chromium-" });
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      ignoreHTTPSErrors: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--host-resolver-rules=MAP ja4.test 127.0.0.1",
        ...(options.extraArgs ?? []),
      ],
    });
    try {
      const page = await context.newPage();
      const timeout = options.timeoutMs ?? 20_000;
      if (options.handshakeOnly) {
        await page.goto(url, { timeout }).catch(() => {
          // Expected: nothing answers; the ClientHellos were sent, which is what counts.
        });
        return { ok: true };
      }
      const response = await page.goto(url, { timeout });
      return { ok: true, status: response?.status() };
    } finally {
      await context.close();
    }
  } catch (err) {
    return { ok: false, reason: (err as Error).message.split("\n")[0] };
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** A bound UDP socket that swallows what it receives. */
export interface UdpSink {
  /** Closes the socket; resolves once the port is free again. */
  close(): Promise<void>;
}

/**
 * A UDP socket on 127.0.0.1:`port` that swallows datagrams: a silent QUIC "server", so that a
 * client keeps sending its Initial packets instead of giving up on ICMP port-unreachable.
 * Rejects when the port cannot be bound (or binding hangs).
 */
export function udpSink(port: number): Promise<UdpSink> {
  return new Promise((resolve, reject) => {
    // reuseAddr: a previous test's sink on the same port may still be closing.
    const sock = dgram.createSocket({ type: "udp4", reuseAddr: true });
    // A bind that neither succeeds nor fails must not leave the test hanging silently.
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`binding UDP 127.0.0.1:${port} did not finish within 5 s`));
    }, 5000);
    sock.once("error", (err) => {
      clearTimeout(timer);
      sock.close();
      reject(new Error(`cannot bind UDP 127.0.0.1:${port}: ${err.message}`));
    });
    sock.on("message", () => {});
    sock.bind(port, "127.0.0.1", () => {
      clearTimeout(timer);
      resolve({ close: () => new Promise<void>((done) => sock.close(() => done())) });
    });
  });
}
