/**
 * A local TLS server for tests: a throwaway self-signed certificate made with openssl, and
 * Deno.listenTls on 127.0.0.1 that completes each handshake, answers one tiny HTTP/1.1 response
 * and closes. It offers ALPN http/1.1 only, so that curl --http2 and browsers fall back to
 * HTTP/1.1 and finish cleanly (the ClientHello still carries whatever ALPN the client offers).
 *
 * @example
 * ```ts
 * const server = await startTlsServer();
 * // … run clients against 127.0.0.1:server.port …
 * await server.stop();
 * ```
 */

/** A running test TLS server. */
export interface TlsServer {
  readonly host: string;
  readonly port: number;
  /** Directory holding cert.pem and key.pem (removed by stop). */
  readonly dir: string;
  /** Handshakes that completed. */
  handshakes(): number;
  stop(): Promise<void>;
}

/** Makes a self-signed certificate for `localhost` / 127.0.0.1 in `dir` with openssl. */
export async function makeCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`openssl req failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return { cert, key };
}

const RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n",
);

/** Starts the server on 127.0.0.1, or `hostname` (e.g. `::1`); port 0 picks a free port. */
export async function startTlsServer(
  options: { port?: number; hostname?: string } = {},
): Promise<TlsServer> {
  const dir = await Deno.makeTempDir({ prefix: "ja4-tls-" });
  const { cert, key } = await makeCertificate(dir);
  const listener = Deno.listenTls({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    cert: await Deno.readTextFile(cert),
    key: await Deno.readTextFile(key),
    alpnProtocols: ["http/1.1"],
  });
  const port = (listener.addr as Deno.NetAddr).port;
  let handshakes = 0;
  const open = new Set<Deno.TlsConn>();

  const serve = async (conn: Deno.TlsConn) => {
    open.add(conn);
    try {
      await conn.handshake();
      handshakes++;
      // Read the request head if the client sends one (openssl s_client sends nothing).
      const buf = new Uint8Array(4096);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = await Promise.race([
        conn.read(buf),
        new Promise<"idle">((r) => (timer = setTimeout(() => r("idle"), 200))),
      ]);
      clearTimeout(timer);
      if (got !== "idle" && got !== null) await conn.write(RESPONSE);
    } catch {
      // Clients that give up mid-handshake (bad ALPN, scanners, garbage) are part of the tests.
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // Already closed by the peer.
      }
    }
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) serve(conn);
    } catch {
      // The listener was closed by stop().
    }
  })();

  return {
    host: options.hostname ?? "127.0.0.1",
    port,
    dir,
    handshakes: () => handshakes,
    async stop() {
      listener.close();
      await accepting;
      // Let in-flight connections finish their 200 ms read window.
      for (let i = 0; i < 50 && open.size; i++) await new Promise((r) => setTimeout(r, 10));
      for (const c of open) {
        try {
          c.close();
        } catch {
          // Closed meanwhile.
        }
      }
      await Deno.remove(dir, { recursive: true });
    },
  };
}
