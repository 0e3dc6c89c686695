/**
 * mod_reqin_log under valgrind's memcheck: a real Apache (prefork, one process) serves
 * keep-alive requests, hostile and over-long header values, repeated headers and a request it
 * rejects, and memcheck must report no invalid read or write, no use of an uninitialised
 * value and no bad free in a stack that passes through the module. Apache's own and its
 * libraries' reports (if any) are not the module's and are not counted.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type Mpm, rawRequest, startApache, startLineReader } from "./helpers/apache.ts";

/** Is valgrind there? (It is in .ci/apt-packages; elsewhere the test says it skips.) */
async function hasValgrind(): Promise<boolean> {
  try {
    return (await new Deno.Command("valgrind", { args: ["--version"] }).output()).success;
  } catch {
    return false;
  }
}

/** memcheck's error reports (blocks of "==pid== " lines) whose stack names the module. */
export function moduleErrors(log: string): string[] {
  const blocks = log.split(/\n==\d+== \n/);
  return blocks.filter((b) =>
    /(Invalid (read|write|free)|uninitialised|Mismatched free|overlap)/.test(b) &&
    b.includes("mod_reqin_log")
  );
}

Deno.test("moduleErrors keeps only the reports whose stack passes through the module", () => {
  const log = [
    "==7== Invalid write of size 8",
    "==7==    at 0x1: json_cstr_sse2 (rl_json.c:356)",
    "==7==    by 0x2: deliver (in /x/mod_reqin_log.so)",
    "==7== ",
    "==7== Conditional jump or move depends on uninitialised value(s)",
    "==7==    at 0x3: BN_mod_exp (in /usr/lib/libcrypto.so.3)",
    "==7== ",
    "==7== ERROR SUMMARY: 2 errors from 2 contexts",
  ].join("\n");
  assertEquals(moduleErrors(log).length, 1);
});

const valgrind = await hasValgrind();

// prefork: one process; event: one process whose worker threads share the child's batch.
for (const mpm of ["prefork", "event"] as Mpm[]) {
  Deno.test({
    name: `mod_reqin_log: no memory error under valgrind memcheck (mpm_${mpm})`,
    ignore: !valgrind,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "ja4-memcheck-" });
      await Deno.chmod(dir, 0o777); // Apache runs as www-data under valgrind and logs here
      const log = `${dir}/memcheck.log`;
      const reader = await startLineReader();
      const apache = await startApache({
        socketPath: reader.path,
        mpm,
        maxHeaderLength: 64,
        wrapper: [
          "valgrind",
          "--tool=memcheck",
          "--leak-check=no",
          "--track-origins=yes",
          `--log-file=${log}`,
        ],
      });
      try {
        const port = apache.httpPort;
        const long = "L".repeat(3000);
        // Three requests on one keep-alive connection, then the connection closes.
        const keepAlive = [1, 2, 3].map((i) =>
          `GET /mc/${i}?q=${i} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          "User-Agent: memcheck/1.0\r\nAccept-Language: de-CH,de;q=0.9\r\n" +
          `Cookie: a=${i}; b=2\r\nReferer: http://x.test/\r\n` +
          (i === 3 ? "Connection: close\r\n" : "") + "\r\n"
        ).join("");
        // Three responses (404: the paths do not exist; the module logs them all the same).
        assertEquals(
          (await rawRequest(port, keepAlive)).response.match(/HTTP\/1\.1 404/g)?.length,
          3,
        );
        // Hostile values: quotes, controls, invalid UTF-8, values beyond the length limit,
        // odd letter case, a repeated header, many fields.
        const hostile = "GET /mc/hostile HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
          'uSER-aGENT: evil "q" \\ \t\x01\xff\xfe(\r\n' +
          `Accept: ${long}\r\nX-Forwarded-For: ${long}\r\n` +
          "Sec-CH-UA: a\r\nSec-CH-UA: b\r\n" +
          Array.from({ length: 60 }, (_, k) => `X-F${k}: v\r\n`).join("") +
          "Connection: close\r\n\r\n";
        await rawRequest(port, Uint8Array.from([...hostile].map((c) => c.charCodeAt(0))));
        // Two requests on one HTTPS keep-alive connection: the second takes the TLS fields the
        // module kept in the connection's pool at the first.
        const curl = await new Deno.Command("curl", {
          args: [
            "-s",
            "-o",
            "/dev/null",
            "--http1.1",
            "--cacert",
            apache.certPath,
            `https://localhost:${apache.httpsPort}/mc/tls/1`,
            `https://localhost:${apache.httpsPort}/mc/tls/2`,
          ],
        }).output();
        assert(curl.success, `curl over HTTPS failed: ${new TextDecoder().decode(curl.stderr)}`);
        // A request line Apache rejects (logged from log_transaction, with path "/").
        assert((await rawRequest(port, "BROKEN\r\n\r\n")).response.includes("400"));
        const events = await reader.waitFor(7, 60_000);
        assertEquals(
          events.map((e) => e.path).sort(),
          ["/", "/mc/1", "/mc/2", "/mc/3", "/mc/hostile", "/mc/tls/1", "/mc/tls/2"],
        );
        for (const e of events.filter((e) => e.path.startsWith("/mc/tls/"))) {
          assertEquals(e.tls_sni, "localhost");
          assert(e.tls_protocol && e.tls_cipher, `TLS fields missing: ${JSON.stringify(e)}`);
        }
      } finally {
        await apache.stop(); // memcheck writes its summary as Apache exits
        await reader.close();
      }
      const text = await Deno.readTextFile(log);
      await Deno.remove(dir, { recursive: true });
      assert(/ERROR SUMMARY: \d+ errors/.test(text), `memcheck did not finish:\n${text}`);
      assertEquals(moduleErrors(text), [], "memcheck errors in mod_reqin_log");
    },
  });
}
