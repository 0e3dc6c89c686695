/** The pure parts of bench/apache.ts: reading wrk's report and the module's exit counters. */
import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { moduleCounters, parseWrk } from "./apache.ts";

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

Deno.test("moduleCounters sums every child's exit line", () => {
  const log = [
    "[reqin_log:info] [pid 10] mod_reqin_log: child 10 exiting: 1200 lines sent, 0 dropped",
    "[mpm_event:notice] AH00491: caught SIGTERM, shutting down",
    "[reqin_log:info] [pid 11] mod_reqin_log: child 11 exiting: 800 lines sent, 5 dropped",
  ].join("\n");
  assertEquals(moduleCounters(log), { sent: 2000, dropped: 5 });
  assertEquals(moduleCounters(""), { sent: 0, dropped: 0 });
});
