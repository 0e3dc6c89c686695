/**
 * The pure parts of bench/apache.ts: reading wrk's report, the module's exit counters and
 * /proc/stat, and the quantiles of the paired ratios.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { busyPct, moduleCounters, parseProcStat, parseWrk, quantile } from "./apache.ts";

const WRK = `Running 3s test @ http://127.0.0.1:41234/index.html
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms    2.10ms  40.12ms   94.01%
    Req/Sec     8.01k     1.20k   10.50k    70.00%
  Latency Distribution
     50%  650.00us
     75%    1.01ms
     90%    1.90ms
     99%   12.34ms
  48123 requests in 3.00s, 12.34MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  16041.00
Transfer/sec:      4.11MB
`;

Deno.test("parseWrk reads requests, rate, percentiles (any unit) and errors", () => {
  assertEquals(parseWrk(WRK), {
    requests: 48123,
    rps: 16041,
    p50Ms: 0.65,
    p99Ms: 12.34,
    errors: 7,
  });
  const slow = WRK.replace("12.34ms", "1.50s").replace(/ {2}Socket errors.*\n/, "")
    .replace(/ {2}Non-2xx.*\n/, "");
  const r = parseWrk(slow);
  assertEquals([r.p99Ms, r.errors], [1500, 0]);
});

Deno.test("parseWrk refuses output it does not understand", () => {
  assertThrows(() => parseWrk("unable to connect to 127.0.0.1:1 Connection refused"), /wrk/);
});

Deno.test("moduleCounters sums every child's exit line, with the full-batch drops", () => {
  const log = [
    "[reqin_log:info] [pid 10] mod_reqin_log: child 10 exiting: 1200 lines sent, 0 dropped " +
    "(0 of them for a full batch, the rest for a full or closed socket)",
    "[mpm_event:notice] AH00491: caught SIGTERM, shutting down",
    "[reqin_log:info] [pid 11] mod_reqin_log: child 11 exiting: 800 lines sent, 5 dropped " +
    "(2 of them for a full batch, the rest for a full or closed socket)",
    // The older form, without the reason.
    "[reqin_log:info] [pid 12] mod_reqin_log: child 12 exiting: 7 lines sent, 1 dropped",
  ].join("\n");
  assertEquals(moduleCounters(log), { sent: 2007, dropped: 6, batchFull: 2 });
  assertEquals(moduleCounters(""), { sent: 0, dropped: 0, batchFull: 0 });
});

Deno.test("parseProcStat and busyPct: busy share of one CPU between two readings", () => {
  const before = parseProcStat(
    "cpu  300 0 100 1000 0 0 0 0 0 0\n" +
      "cpu0 100 0 50 600 0 0 0 0 0 0\ncpu1 200 0 50 400 0 0 0 0 0 0\nintr 1\n",
  );
  // cpu1: +90 user, +5 system, +5 idle (busy 95 of 100); cpu0: +10 user, +40 idle, +50 iowait.
  const after = parseProcStat(
    "cpu  400 0 105 1045 50 0 0 0 0 0\n" +
      "cpu0 110 0 50 640 50 0 0 0 0 0\ncpu1 290 0 55 405 0 0 0 0 0 0\n",
  );
  assertEquals(busyPct(before, after, 1), 95);
  assertEquals(busyPct(before, after, 0), 10);
  assert(Number.isNaN(busyPct(before, after, 7)));
});

Deno.test("quantile interpolates between sorted values", () => {
  assertEquals(quantile([5, 1, 3], 0.5), 3);
  assertEquals(quantile([4, 1, 3, 2], 0.5), 2.5);
  assertEquals(quantile([1, 2, 3, 4, 5], 0.25), 2);
  assertEquals(quantile([0, 10], 0.75), 7.5);
  assert(Number.isNaN(quantile([], 0.5)));
});
