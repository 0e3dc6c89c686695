/**
 * mod_reqin_log inside a real Apache: every field of the line, keep-alive indexes, HTTPS
 * (mod_ssl) and HTTP/2 details, hostile bytes, rejected requests, a stuck or vanished
 * reader, graceful restarts, and the three MPMs. Apache binds 127.0.0.1 only and is stopped
 * (and its temp dir removed) by each test.
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { rawRequest, type RunningApache, startApache, startLineReader } from "./helpers/apache.ts";
import type { HttpEvent } from "../lib/events.ts";

const TRUNC = "...[truncated]";

async function curl(args: string[]): Promise<string> {
  const out = await new Deno.Command("curl", {
    args: ["-sS", "--max-time", "10", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`curl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** curl on several URLs over one connection; returns curl's local port for each. */
async function curlPorts(urls: string[], extra: string[] = []): Promise<number[]> {
  const args = [...extra];
  for (const u of urls) args.push("-o", "/dev/null", "-w", "%{local_port}\\n", u);
  return (await curl(args)).trim().split("\n").map(Number);
}

function byPath(events: HttpEvent[], path: string): HttpEvent {
  const e = events.find((x) => x.path === path);
  if (!e) throw new Error(`no line for ${path} among ${events.map((x) => x.path).join(", ")}`);
  return e;
}

/** Waits until a line for `path` arrived. */
async function waitForPath(
  events: HttpEvent[],
  path: string,
  ms = 10_000,
): Promise<HttpEvent> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const e = events.find((x) => x.path === path);
    if (e) return e;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no line for ${path} within ${ms} ms`);
}

function hex12(s: string): Promise<string> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)).then((d) =>
    [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 12)
  );
}

/**
 * Stops Apache, then checks the children's exit counters: nothing dropped, and every line a
 * child counted as sent reached the reader.
 */
async function stopAndMatchCounters(
  apache: RunningApache,
  reader: Awaited<ReturnType<typeof startLineReader>>,
): Promise<void> {
  const finalLog = await apache.stop();
  const counters = [...finalLog.matchAll(/exiting: (\d+) lines sent, (\d+) dropped/g)];
  const sent = counters.reduce((a, m) => a + Number(m[1]), 0);
  assertEquals(counters.reduce((a, m) => a + Number(m[2]), 0), 0, "nothing dropped");
  const deadline = Date.now() + 5_000;
  while (reader.events.length < sent && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assertEquals(reader.events.length, sent, "every line a child counted as sent arrived");
}

async function withApache(
  options: Omit<Parameters<typeof startApache>[0], "socketPath">,
  body: (
    apache: RunningApache,
    reader: Awaited<ReturnType<typeof startLineReader>>,
  ) => Promise<void>,
): Promise<void> {
  const reader = await startLineReader();
  let apache: RunningApache | undefined;
  try {
    apache = await startApache({ ...options, socketPath: reader.path });
    await body(apache, reader);
    assertEquals(reader.invalid, [], "every line must be valid JSON");
  } finally {
    await apache?.stop();
    await reader.close();
  }
}

Deno.test("mod_reqin_log: HTTP keep-alive, HTTPS, hostile and malformed requests (mpm_event)", async (t) => {
  await withApache({ mpm: "event", maxHeaderLength: 256 }, async (apache, reader) => {
    const http = `http://127.0.0.1:${apache.httpPort}`;

    await t.step("three requests on one keep-alive connection: every field", async () => {
      const before = Date.now() * 1000;
      const ports = await curlPorts(
        [`${http}/ka/one?x=1&y=%20z`, `${http}/ka/two`, `${http}/ka/three`],
        [
          "-H",
          "User-Agent: ja4-test/1.0",
          "-H",
          "Accept-Language: fr-CH, fr;q=0.9",
          "-H",
          "Cookie: sid=secret-value; theme=dark",
          "-H",
          "Referer: http://example.test/",
          "-H",
          "X-Forwarded-For: 198.51.100.4",
        ],
      );
      const after = Date.now() * 1000;
      assertEquals(new Set(ports).size, 1, "curl reused one connection");
      const events = await Promise.all(
        ["/ka/one", "/ka/two", "/ka/three"].map((p) => waitForPath(reader.events, p)),
      );
      const [one] = events;
      assertEquals(events.map((e) => e.conn_request_index), [0, 1, 2]);
      for (const e of events) {
        assertEquals(e.type, "http");
        assertEquals(e.src_ip, "127.0.0.1");
        assertEquals(e.src_port, ports[0]);
        assertEquals(e.dst_ip, "127.0.0.1");
        assertEquals(e.dst_port, apache.httpPort);
        assertEquals(e.method, "GET");
        assertEquals(e.host, "127.0.0.1");
        assertEquals(e.protocol, "HTTP/1.1");
        assertEquals(e.status, undefined, "status is unknown when the request is read");
        assertEquals(e.tls_sni, undefined);
        assertEquals(e.client_ip, undefined, "no mod_remoteip here");
        assert(typeof e.pid === "number" && e.pid > 0);
        assert(e.ts_us >= before - 1_000_000 && e.ts_us <= after + 1_000_000, `ts_us ${e.ts_us}`);
        assertEquals(e.headers, {
          "user-agent": "ja4-test/1.0",
          "accept": "*/*",
          "accept-language": "fr-CH, fr;q=0.9",
          "referer": "http://example.test/",
          "x-forwarded-for": "198.51.100.4",
          "cookie": "present",
        });
        // curl sends its Accept before the headers given with -H, in their order.
        assertEquals(e.header_names, [
          "Host",
          "Accept",
          "User-Agent",
          "Accept-Language",
          "Cookie",
          "Referer",
          "X-Forwarded-For",
        ]);
      }
      assertEquals(one.query, "x=1&y=%20z");
      assertEquals(events[1].query, undefined);
      assert(!JSON.stringify(events).includes("secret-value"), "cookie values never logged");
      // JA4H: a part from the request, b part from the names (no Cookie/Referer), c/d from
      // the sorted cookies.
      const b = await hex12("Host,Accept,User-Agent,Accept-Language,X-Forwarded-For");
      const c = await hex12("sid,theme");
      const d = await hex12("sid=secret-value,theme=dark");
      assertEquals(one.ja4h, `ge11cr05frch_${b}_${c}_${d}`);
    });

    await t.step("chosen headers match whatever their letter case", async () => {
      await curlPorts([`${http}/case`], [
        "-H",
        "uSER-aGENT: mixed/1.0",
        "-H",
        "ACCEPT-LANGUAGE: de-CH",
        "-H",
        "cookie: a=1",
        "-H",
        'Sec-CH-UA-PLATFORM: "Linux"',
        "-H",
        "x-forwarded-fOR: 192.0.2.9",
        "-H",
        "X-Forwarded-Fox: not chosen",
      ]);
      const e = await waitForPath(reader.events, "/case");
      assertEquals(e.headers, {
        "user-agent": "mixed/1.0",
        "accept": "*/*",
        "accept-language": "de-CH",
        "x-forwarded-for": "192.0.2.9",
        "sec-ch-ua-platform": '"Linux"',
        "cookie": "present",
      });
      // JA4H's language (first 4 of de-CH) comes from the same lookup. A header named
      // "cookie" rather than "Cookie" is, as the engine reads the wire, not a Cookie header
      // for JA4H: no cookie flag, no cookie hashes, and it counts among the 8 headers.
      assertMatch(e.ja4h ?? "", /^ge11nn08dech_[0-9a-f]{12}_0{12}_0{12}$/);
    });

    await t.step("HTTPS through mod_ssl: SNI, protocol, cipher, peer port", async () => {
      const ports = await curlPorts(
        [
          `https://localhost:${apache.httpsPort}/tls/a`,
          `https://localhost:${apache.httpsPort}/tls/b`,
        ],
        ["--cacert", apache.certPath, "--http1.1"],
      );
      const a = await waitForPath(reader.events, "/tls/a");
      const b = await waitForPath(reader.events, "/tls/b");
      for (const [i, e] of [a, b].entries()) {
        assertEquals(e.src_port, ports[i]);
        assertEquals(e.dst_port, apache.httpsPort);
        assertEquals(e.host, "localhost");
        assertEquals(e.tls_sni, "localhost");
        assertMatch(e.tls_protocol ?? "", /^TLSv1\.[23]$/);
        assertMatch(e.tls_cipher ?? "", /^[A-Z0-9_-]+$/);
        assertMatch(e.ja4h ?? "", /^ge11nn030000_[0-9a-f]{12}_0{12}_0{12}$/);
      }
      assertEquals([a.conn_request_index, b.conn_request_index], [0, 1]);
    });

    await t.step("hostile header values stay valid JSON, truncated with a marker", async () => {
      const enc = new TextEncoder();
      const long = "L".repeat(5000);
      const head = enc.encode(
        'GET /hostile/%22q%22?a=%ff&b="}\\ HTTP/1.1\r\n' +
          "Host: h.test\r\n" +
          'User-Agent: evil "quoted" \\back\\ ,"},{"type":"tls"} \t tab\r\n' +
          `Accept: ${long}\r\n` +
          "Sec-Fetch-Mode: cors\r\n" +
          "Sec-Fetch-Mode: navigate\r\n" +
          "Accept-Language: ",
      );
      // Raw non-UTF-8 bytes (obs-text is allowed in field values).
      const bad = new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]);
      const tail = enc.encode("\r\nConnection: close\r\n\r\n");
      const res =
        (await rawRequest(apache.httpPort, new Uint8Array([...head, ...bad, ...tail]))).response;
      assertMatch(res, /^HTTP\/1\.1 404/);
      const e = await waitForPath(reader.events, "/hostile/%22q%22");
      assertEquals(e.query, 'a=%ff&b="}\\');
      assertEquals(e.headers?.["user-agent"], 'evil "quoted" \\back\\ ,"},{"type":"tls"} \t tab');
      assertEquals(e.headers?.["accept"], "L".repeat(256) + TRUNC);
      assertEquals(e.headers?.["accept-language"], "\ufffd\ufffd\ufffd(\ufffd\ufffd");
      // Repeated headers keep their wire order and count (Apache's table would merge them).
      assertEquals(e.header_names, [
        "Host",
        "User-Agent",
        "Accept",
        "Sec-Fetch-Mode",
        "Sec-Fetch-Mode",
        "Accept-Language",
        "Connection",
      ]);
      assertMatch(e.ja4h ?? "", /^ge11nn07\ufffd\ufffd\ufffd\(_/);
    });

    await t.step(
      "rejected requests are logged from log_transaction with their status",
      async () => {
        const garbage = (await rawRequest(apache.httpPort, "GARBAGE\r\n\r\n")).response;
        assertMatch(garbage, /^HTTP\/1\.1 400/);
        const ctl = (await rawRequest(
          apache.httpPort,
          "GET /ctl HTTP/1.1\r\nHost: a\r\nX-Ctl: a\x01b\r\nConnection: close\r\n\r\n",
        )).response;
        assertMatch(ctl, /^HTTP\/1\.1 400/);
        const ctlLine = await waitForPath(reader.events, "/ctl");
        assertEquals(ctlLine.status, 400);
        assertEquals(ctlLine.method, "GET");
        const deadline = Date.now() + 10_000;
        let g: HttpEvent | undefined;
        while (!g && Date.now() < deadline) {
          g = reader.events.find((x) => x.status === 400 && x.path !== "/ctl");
          if (!g) await new Promise((r) => setTimeout(r, 20));
        }
        assert(g, "the malformed request line was logged");
        assertEquals(g.src_ip, "127.0.0.1");
        assert(g.src_port > 0);
      },
    );

    await t.step("a paused reader never stalls Apache; lines flow again after", async () => {
      reader.pause();
      // Rounds of requests until the module reports drops (how many lines fit depends on the
      // kernel's socket buffer limits); ab gives up on a request after 10 s, so every round
      // completing with 0 failures is the bound on Apache's answers.
      let sent = 0;
      for (let round = 0; round < 20; round++) {
        const ab = await new Deno.Command("ab", {
          args: ["-q", "-s", "10", "-k", "-n", "5000", "-c", "8", `${http}/paused`],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const abText = new TextDecoder().decode(ab.stdout);
        assert(ab.success, `ab failed: ${abText}${new TextDecoder().decode(ab.stderr)}`);
        assertMatch(abText, /Complete requests:\s+5000/);
        assertMatch(abText, /Failed requests:\s+0/);
        sent += 5000;
        if (/mod_reqin_log: \d+ lines dropped/.test(await apache.errorLog())) break;
      }
      assertMatch(await apache.errorLog(), /mod_reqin_log: \d+ lines dropped/);
      reader.resume();
      const got = reader.events.filter((e) => e.path === "/paused").length;
      assert(got <= sent);
      // Fresh requests are delivered once the backlog drains.
      await waitForPath(reader.events, "/paused", 10_000);
      const deadline = Date.now() + 15_000;
      let delivered = false;
      for (let i = 0; !delivered && Date.now() < deadline; i++) {
        await curl(["-o", "/dev/null", `${http}/after-pause/${i}`]);
        await new Promise((r) => setTimeout(r, 100));
        delivered = reader.events.some((e) => e.path.startsWith("/after-pause/"));
      }
      assert(delivered, "lines flow again after the reader resumed");
    });
  });
});

Deno.test("mod_reqin_log: reader gone and back, graceful restart (mpm_event)", async () => {
  const sockDir = await Deno.makeTempDir({ prefix: "ja4-reqin-" });
  await Deno.chmod(sockDir, 0o755);
  const reader = await startLineReader(`${sockDir}/http.socket`);
  const apache = await startApache({ socketPath: reader.path, mpm: "event" });
  let second: Awaited<ReturnType<typeof startLineReader>> | undefined;
  try {
    const http = `http://127.0.0.1:${apache.httpPort}`;
    await curl(["-o", "/dev/null", `${http}/before`]);
    await waitForPath(reader.events, "/before");
    await reader.close();
    // No reader at all: Apache answers every request.
    for (let i = 0; i < 20; i++) {
      assertMatch(
        await curl(["-o", "/dev/null", "-w", "%{http_code}", `${http}/gone/${i}`]),
        /404/,
      );
    }
    second = await startLineReader(reader.path);
    const deadline = Date.now() + 20_000;
    for (let i = 0; Date.now() < deadline; i++) {
      await curl(["-o", "/dev/null", `${http}/back/${i}`]);
      if (second.events.some((e) => e.path.startsWith("/back/"))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert(second.events.some((e) => e.path.startsWith("/back/")), "reconnected to the new reader");
    await apache.gracefulRestart();
    await curl(["-o", "/dev/null", `${http}/after-restart`]);
    const e = await waitForPath(second.events, "/after-restart");
    assertEquals(e.dst_port, apache.httpPort);
    assertEquals(second.invalid, []);
  } finally {
    await apache.stop();
    await reader.close();
    await second?.close();
    await Deno.remove(sockDir, { recursive: true });
  }
});

Deno.test("mod_reqin_log: mpm_worker with mod_remoteip (client_ip) and HTTP/2", async () => {
  await withApache(
    { mpm: "worker", remoteIpHeader: "X-Forwarded-For", http2: true },
    async (apache, reader) => {
      const [port] = await curlPorts([`http://127.0.0.1:${apache.httpPort}/proxied`], [
        "-H",
        "X-Forwarded-For: 203.0.113.7",
      ]);
      const p = await waitForPath(reader.events, "/proxied");
      assertEquals(p.src_ip, "127.0.0.1", "src_ip stays the TCP peer (the join key)");
      assertEquals(p.src_port, port);
      assertEquals(p.client_ip, "203.0.113.7");

      const https = `https://localhost:${apache.httpsPort}`;
      const ports = await curlPorts([`${https}/h2/a`, `${https}/h2/b`], [
        "--cacert",
        apache.certPath,
        "--http2",
        "-H",
        "Cookie: a=1",
      ]);
      const a = await waitForPath(reader.events, "/h2/a");
      const b = await waitForPath(reader.events, "/h2/b");
      for (const [i, e] of [a, b].entries()) {
        assertEquals(e.protocol, "HTTP/2");
        assertEquals(e.src_port, ports[i]);
        assertEquals(e.tls_sni, "localhost");
        assert(e.header_names?.includes("user-agent"), `names ${e.header_names}`);
        assertMatch(e.ja4h ?? "", /^ge20cn/);
      }
      assertEquals(
        [a.conn_request_index, b.conn_request_index].sort(),
        [0, 1],
        "two streams on one connection",
      );

      // Many threads appending at once: every request gives exactly one whole line (the
      // socket buffer holds them all even if this reader falls behind).
      const ab = await new Deno.Command("ab", {
        args: ["-q", "-k", "-n", "3000", "-c", "16", `http://127.0.0.1:${apache.httpPort}/load`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertMatch(new TextDecoder().decode(ab.stdout), /Complete requests:\s+3000/);
      await stopAndMatchCounters(apache, reader);
      assertEquals(reader.events.filter((e) => e.path === "/load").length, 3000);
      const loadPorts = new Set(
        reader.events.filter((e) => e.path === "/load").map((e) => e.src_port),
      );
      assert(loadPorts.size <= 16, `ab's 16 keep-alive connections, saw ${loadPorts.size} ports`);
    },
  );
});

Deno.test("mod_reqin_log: mpm_prefork keep-alive requests", async () => {
  await withApache({ mpm: "prefork" }, async (apache, reader) => {
    const http = `http://127.0.0.1:${apache.httpPort}`;
    const ports = await curlPorts([`${http}/pf/1`, `${http}/pf/2`]);
    const one = await waitForPath(reader.events, "/pf/1");
    const two = await waitForPath(reader.events, "/pf/2");
    assertEquals([one.src_port, two.src_port], ports);
    assertEquals([one.conn_request_index, two.conn_request_index], [0, 1]);
    assertEquals(one.pid, two.pid, "one prefork child serves the whole connection");
    // Without a flusher thread, a rejected request's line must leave with its connection, not
    // wait for the child's next request or its exit (Apache may close first, then log).
    assertMatch(
      (await rawRequest(apache.httpPort, "GARBAGE\r\n\r\n")).response,
      /^HTTP\/1\.1 400/,
    );
    const deadline = Date.now() + 5_000;
    while (!reader.events.some((x) => x.status === 400) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert(reader.events.some((x) => x.status === 400), "the rejected request's line arrived");
    await apache.gracefulRestart();
    await curl(["-o", "/dev/null", `${http}/pf/after-restart`]);
    await waitForPath(reader.events, "/pf/after-restart");
    assert(byPath(reader.events, "/pf/after-restart").pid !== undefined);
    // Stopping flushes every child's last batch; the children's own counters then match
    // what the reader received, line for line.
    await stopAndMatchCounters(apache, reader);
  });
});

Deno.test("mod_reqin_log: ReqinLogEnabled Off writes nothing", async () => {
  await withApache({ mpm: "event", enabled: false }, async (apache, reader) => {
    await curlPorts([`http://127.0.0.1:${apache.httpPort}/off/1`]);
    await curlPorts([`https://localhost:${apache.httpsPort}/off/2`], [
      "--cacert",
      apache.certPath,
    ]);
    // After a stop every child has flushed: whatever was going to arrive has arrived.
    await apache.stop();
    await new Promise((r) => setTimeout(r, 200));
    assertEquals(reader.events.length, 0);
    assertEquals(reader.connections(), 0);
  });
});

Deno.test("mod_reqin_log: PROXY protocol client is client_ip; src stays the TCP peer", async () => {
  await withApache({ mpm: "event", proxyProtocol: true }, async (apache, reader) => {
    const { localPort: local } = await rawRequest(
      apache.httpPort,
      `PROXY TCP4 203.0.113.9 127.0.0.1 40000 ${apache.httpPort}\r\n` +
        "GET /proxied-pp HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n",
    );
    const e = await waitForPath(reader.events, "/proxied-pp");
    assertEquals(e.src_ip, "127.0.0.1");
    assertEquals(e.src_port, local, "the join key is the real TCP peer, not the PROXY header's");
    assertEquals(e.client_ip, "203.0.113.9");
  });
});

Deno.test("mod_reqin_log: a graceful restart under load loses no line", async () => {
  await withApache({ mpm: "event" }, async (apache, reader) => {
    const wrk = new Deno.Command("wrk", {
      args: ["-t2", "-c8", "-d3s", `http://127.0.0.1:${apache.httpPort}/restart-load`],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await new Promise((r) => setTimeout(r, 1000));
    await apache.gracefulRestart();
    const out = new TextDecoder().decode((await wrk.output()).stdout);
    const completed = Number(out.match(/(\d+) requests in/)?.[1] ?? NaN);
    assert(completed > 0, `wrk output: ${out}`);
    // Old children flush their last batch as they leave; stopping flushes the new ones.
    await stopAndMatchCounters(apache, reader);
    const logged = reader.events.filter((e) => e.path === "/restart-load").length;
    // Requests wrk saw answered were all logged; a request cut by wrk's stop (one per
    // connection) or by a socket error may add one.
    const errs = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
    const errors = errs ? errs.slice(1).reduce((a, v) => a + Number(v), 0) : 0;
    assert(logged >= completed, `${logged} lines for ${completed} completed requests`);
    assert(
      logged <= completed + 8 + errors,
      `${logged} lines for ${completed} completed requests, ${errors} socket errors`,
    );
  });
});
