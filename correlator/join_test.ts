import { assert, assertEquals } from "../lib/testing.ts";
import type { HttpEvent, TlsEvent } from "../lib/events.ts";
import { connKey, Joiner, type JoinOptions, type JoinResult, normalizeIp } from "./join.ts";

const S = 1_000_000; // one second in µs
const T0 = 1_700_000_000 * S;

function tls(port: number, ts: number, extra: Partial<TlsEvent> = {}): TlsEvent {
  return {
    type: "tls",
    ts_us: ts,
    src_ip: "192.0.2.7",
    src_port: port,
    dst_ip: "198.51.100.1",
    dst_port: 443,
    transport: "tcp",
    ja4: `t13d1516h2_8daaf6152771_${port}`,
    ja4_r: "",
    ja4_o: "",
    ja4_ro: "",
    ja3: "",
    ja3_full: "",
    ...extra,
  };
}

function http(port: number, ts: number, path = "/", extra: Partial<HttpEvent> = {}): HttpEvent {
  return {
    type: "http",
    ts_us: ts,
    src_ip: "192.0.2.7",
    src_port: port,
    dst_ip: "198.51.100.1",
    dst_port: 443,
    method: "GET",
    path,
    protocol: "HTTP/1.1",
    ...extra,
  };
}

function setup(opts: Partial<JoinOptions> = {}) {
  const out: JoinResult[] = [];
  const j = new Joiner(
    { windowUs: 2 * S, connTtlUs: 60 * S, maxEntries: 1000, maxBytes: 1 << 30, ...opts },
    (r) => out.push(r),
  );
  return { j, out };
}

/** Short description of results for compact assertions. */
function brief(out: JoinResult[]): string[] {
  return out.map((r) =>
    `${r.status}:${r.http?.path ?? "-"}:${
      r.tls ? r.tls.ja4.split("_")[2] + "@" + r.tls.ts_us : "-"
    }`
  );
}

Deno.test("join: TLS first, then keep-alive requests all get the one handshake", () => {
  const { j, out } = setup();
  j.addTls(tls(50000, T0), T0);
  j.addHttp(http(50000, T0 + 1000, "/a"), T0 + 1000);
  j.addHttp(http(50000, T0 + 5 * S, "/b"), T0 + 5 * S);
  j.addHttp(http(50000, T0 + 30 * S, "/c"), T0 + 30 * S);
  assertEquals(brief(out), [
    `matched:/a:50000@${T0}`,
    `matched:/b:50000@${T0}`,
    `matched:/c:50000@${T0}`,
  ]);
  assertEquals(out[2].join_delay_us, 30 * S);
  // Expiry after the idle TTL: the handshake was used, so no tls_only row.
  j.expire(T0 + 30 * S + 60 * S);
  assertEquals(out.length, 3);
  assertEquals(j.stats().entries, 0);
  assertEquals(j.stats().bytes, 0);
});

Deno.test("join: HTTP first (out of order) waits and joins when the handshake arrives", () => {
  const { j, out } = setup();
  j.addHttp(http(40000, T0 + 500, "/x"), T0 + 600);
  j.addHttp(http(40000, T0 + 700, "/y"), T0 + 800);
  assertEquals(out.length, 0);
  assertEquals(j.stats().pending_http, 2);
  j.addTls(tls(40000, T0), T0 + S);
  assertEquals(brief(out), [`matched:/x:40000@${T0}`, `matched:/y:40000@${T0}`]);
  assertEquals(out[0].wait_us, S - 600);
  assertEquals(out[0].join_delay_us, 500);
  assertEquals(j.stats().pending_http, 0);
  // A late request on the same connection still joins.
  j.addHttp(http(40000, T0 + 2 * S, "/z"), T0 + 2 * S);
  assertEquals(out[2].status, "matched");
});

Deno.test("join: port reuse by a new connection gets the new handshake", () => {
  const { j, out } = setup();
  j.addTls(tls(50001, T0, { ja4: "a_b_first" }), T0);
  j.addHttp(http(50001, T0 + 100, "/1"), T0 + 100);
  j.addTls(tls(50001, T0 + 10 * S, { ja4: "a_b_second" }), T0 + 10 * S);
  j.addHttp(http(50001, T0 + 10 * S + 100, "/2"), T0 + 10 * S + 100);
  // A request of the old connection that arrives late still gets the old handshake.
  j.addHttp(http(50001, T0 + 200, "/1-late"), T0 + 10 * S + 200);
  assertEquals(brief(out), [
    `matched:/1:first@${T0}`,
    `matched:/2:second@${T0 + 10 * S}`,
    `matched:/1-late:first@${T0}`,
  ]);
});

Deno.test("join: an unused handshake replaced by port reuse is emitted tls_only at expiry", () => {
  const { j, out } = setup();
  j.addTls(tls(50002, T0, { ja4: "a_b_unused" }), T0);
  j.addTls(tls(50002, T0 + S, { ja4: "a_b_used" }), T0 + S);
  j.addHttp(http(50002, T0 + S + 5, "/"), T0 + S + 5);
  assertEquals(brief(out), [`matched:/:used@${T0 + S}`]);
  j.expire(T0 + S + 5 + 60 * S);
  assertEquals(brief(out).slice(1), [`tls_only:-:unused@${T0}`]);
});

Deno.test("join: per-key handshake list is bounded, the oldest leaves first", () => {
  const { j, out } = setup({ maxHandshakesPerKey: 2 });
  for (let i = 0; i < 4; i++) j.addTls(tls(50003, T0 + i * S, { ja4: `a_b_h${i}` }), T0 + i * S);
  assertEquals(brief(out), [`tls_only:-:h0@${T0}`, `tls_only:-:h1@${T0 + S}`]);
});

Deno.test("join: window edges — one µs before the deadline joins, at the deadline it is no_tls", () => {
  const win = 2 * S;
  {
    const { j, out } = setup({ windowUs: win });
    j.addHttp(http(1, T0, "/edge-in"), T0);
    j.addTls(tls(1, T0 - 10), T0 + win - 1);
    assertEquals(brief(out), [`matched:/edge-in:1@${T0 - 10}`]);
  }
  {
    const { j, out } = setup({ windowUs: win });
    j.addHttp(http(1, T0, "/edge-out"), T0);
    j.addTls(tls(1, T0 - 10), T0 + win);
    assertEquals(brief(out), ["no_tls:/edge-out:-"]);
    assertEquals(out[0].wait_us, win);
    // The late handshake itself is held, unused until the TTL.
    j.expire(T0 + win + 60 * S);
    assertEquals(brief(out)[1], `tls_only:-:1@${T0 - 10}`);
  }
});

Deno.test("join: event-time tolerance — handshake up to windowUs after the request matches", () => {
  const { j, out } = setup({ windowUs: 1000 });
  j.addTls(tls(2, T0 + 1000), T0);
  j.addHttp(http(2, T0, "/ok"), T0); // tls.ts = http.ts + window: allowed
  j.addTls(tls(3, T0 + 1001), T0);
  j.addHttp(http(3, T0, "/too-early"), T0); // request before the only handshake (beyond window)
  assertEquals(brief(out), [`matched:/ok:2@${T0 + 1000}`]);
  j.expire(T0 + 1000);
  assertEquals(brief(out)[1], "no_tls:/too-early:-");
});

Deno.test("join: expiry of idle handshakes is by last activity, not first sight", () => {
  const { j, out } = setup({ connTtlUs: 10 * S });
  j.addTls(tls(4, T0), T0);
  j.addTls(tls(5, T0), T0);
  j.addHttp(http(4, T0 + 8 * S), T0 + 8 * S); // keeps port 4 alive
  j.expire(T0 + 10 * S);
  assertEquals(brief(out), [`matched:/:4@${T0}`, `tls_only:-:5@${T0}`]);
  assertEquals(j.stats().entries, 1);
  j.expire(T0 + 18 * S - 1);
  assertEquals(j.stats().entries, 1);
  j.expire(T0 + 18 * S);
  assertEquals(j.stats().entries, 0);
  assertEquals(out.length, 2); // port 4's handshake was used: nothing more to emit
});

Deno.test("join: requests without a handshake leave as no_tls after the window, in arrival order", () => {
  const { j, out } = setup();
  for (let i = 0; i < 5; i++) j.addHttp(http(100 + i, T0 + i, `/${i}`), T0 + i);
  j.expire(T0 + 2 * S + 2);
  assertEquals(brief(out), ["no_tls:/0:-", "no_tls:/1:-", "no_tls:/2:-"]);
  j.expire(T0 + 2 * S + 4);
  assertEquals(out.length, 5);
  assertEquals(j.stats(), {
    tls_in: 0,
    http_in: 5,
    tls_updates: 0,
    tls_updates_orphan: 0,
    matched: 0,
    no_tls: 5,
    tls_only: 0,
    evicted: 0,
    entries: 0,
    pending_http: 0,
    bytes: 0,
  });
});

Deno.test("join: maxEntries bounds state; evicted keys are emitted, never dropped", () => {
  const { j, out } = setup({ maxEntries: 3 });
  for (let i = 0; i < 10; i++) j.addTls(tls(1000 + i, T0 + i), T0 + i);
  for (let i = 0; i < 10; i++) j.addHttp(http(2000 + i, T0 + i), T0 + 10 + i);
  const s = j.stats();
  assertEquals(s.entries, 3);
  assertEquals(s.evicted, 17);
  assertEquals(s.tls_only, 10);
  assertEquals(s.no_tls, 7);
  assertEquals(out.length, 17);
  j.drain(T0 + 100);
  assertEquals(out.length, 20);
  assertEquals(j.stats().bytes, 0);
});

Deno.test("join: maxBytes bounds state under a flood of unmatched requests", () => {
  const { j, out } = setup({ maxBytes: 20_000, maxEntries: 1_000_000 });
  for (let i = 0; i < 10_000; i++) {
    j.addHttp(http(i % 65536, T0 + i, "/flood" + "x".repeat(50)), T0 + i);
    assert(j.stats().bytes <= 20_000, `bytes ${j.stats().bytes} over bound at ${i}`);
  }
  const s = j.stats();
  assert(s.evicted > 9000, `evicted ${s.evicted}`);
  assertEquals(out.length + s.pending_http, 10_000);
});

Deno.test("join: a TLS update adds JA4S to the held handshake for later requests", () => {
  const { j, out } = setup();
  j.addTls(tls(6, T0), T0);
  j.addTls(tls(6, T0, { update: true, ja4s: "t130200_1301_234ea6891581" }), T0 + 10);
  j.addHttp(http(6, T0 + 20), T0 + 20);
  assertEquals(out[0].tls?.ja4s, "t130200_1301_234ea6891581");
  j.addTls(tls(7, T0, { update: true, ja4s: "x" }), T0 + 30);
  const s = j.stats();
  assertEquals([s.tls_in, s.tls_updates, s.tls_updates_orphan, s.entries], [1, 2, 1, 1]);
});

Deno.test("join: drain emits every held request and unused handshake exactly once", () => {
  const { j, out } = setup();
  j.addTls(tls(8, T0), T0);
  j.addTls(tls(9, T0), T0);
  j.addHttp(http(9, T0 + 1), T0 + 1);
  j.addHttp(http(10, T0 + 1, "/waiting"), T0 + 1);
  j.drain(T0 + 2);
  assertEquals(brief(out).sort(), [
    `matched:/:9@${T0}`,
    `no_tls:/waiting:-`,
    `tls_only:-:8@${T0}`,
  ]);
  j.expire(T0 + 1000 * S);
  assertEquals(out.length, 3);
  assertEquals(j.stats().entries, 0);
});

Deno.test("join: every input is accounted for across a random interleaving", () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const { j, out } = setup({ maxEntries: 50, windowUs: 1000, connTtlUs: 5000 });
  let now = T0;
  let https = 0;
  let tlss = 0;
  for (let i = 0; i < 20_000; i++) {
    now += Math.floor(rnd() * 50);
    const port = Math.floor(rnd() * 80);
    if (rnd() < 0.3) {
      tlss++;
      j.addTls(tls(port, now - Math.floor(rnd() * 500)), now);
    } else {
      https++;
      j.addHttp(http(port, now - Math.floor(rnd() * 500)), now);
    }
    if (i % 100 === 0) j.expire(now);
  }
  j.drain(now);
  const s = j.stats();
  assertEquals(s.matched + s.no_tls, https);
  assertEquals(out.filter((r) => r.http).length, https);
  assertEquals(out.filter((r) => r.status === "tls_only").length, s.tls_only);
  assert(s.tls_only <= tlss);
  assertEquals([s.entries, s.pending_http, s.bytes], [0, 0, 0]);
});

Deno.test("join: keys — IPv4-mapped IPv6 and case meet the plain spelling", () => {
  assertEquals(normalizeIp("::ffff:192.0.2.1"), "192.0.2.1");
  assertEquals(normalizeIp("::FFFF:192.0.2.1"), "192.0.2.1");
  assertEquals(normalizeIp("2001:DB8::1"), "2001:db8::1");
  assertEquals(normalizeIp("10.0.0.1"), "10.0.0.1");
  assertEquals(
    connKey({ src_ip: "::ffff:10.0.0.1", src_port: 5, dst_port: 443 }),
    connKey({ src_ip: "10.0.0.1", src_port: 5, dst_port: 443 }),
  );
  const { j, out } = setup();
  j.addTls(tls(11, T0, { src_ip: "::ffff:192.0.2.7" }), T0);
  j.addHttp(http(11, T0 + 1), T0 + 1);
  assertEquals(out[0].status, "matched");
  // Another server port is another connection.
  j.addHttp(http(11, T0 + 1, "/other", { dst_port: 8443 }), T0 + 2);
  assertEquals(out.length, 1);
});

Deno.test("join: port reused within the window — each request gets its own connection's handshake", () => {
  const { j, out } = setup({ windowUs: 2 * S });
  j.addTls(tls(50010, T0, { ja4: "a_b_old" }), T0);
  j.addTls(tls(50010, T0 + S / 2, { ja4: "a_b_new" }), T0 + S / 2);
  // Both requests arrive after both handshakes, out of order, within the window.
  j.addHttp(http(50010, T0 + S / 2 + 100, "/new"), T0 + S);
  j.addHttp(http(50010, T0 + 300_000, "/old"), T0 + S);
  assertEquals(brief(out), [`matched:/new:new@${T0 + S / 2}`, `matched:/old:old@${T0}`]);
  // A request a little before its only handshake (clock granularity) still matches it.
  j.addTls(tls(50011, T0 + 50), T0 + S);
  j.addHttp(http(50011, T0 + 40, "/early"), T0 + S);
  assertEquals(brief(out)[2], `matched:/early:50011@${T0 + 50}`);
});
