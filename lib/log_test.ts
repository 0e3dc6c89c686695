import { assert, assertEquals } from "./testing.ts";
import { createLogger, formatRecord, rateLimited } from "./log.ts";

const at = new Date("2026-11-21T06:00:00.000Z");

Deno.test("json lines carry ts, level, msg, component and fields", () => {
  const lines: string[] = [];
  const log = createLogger({
    format: "json",
    component: "capture",
    write: (l) => lines.push(l),
    now: () => at,
  });
  log.info("listening", { socket: "/run/x.sock", n: 3 });
  log.error("failed", { error: new Error("boom") });
  assertEquals(lines.map((l) => JSON.parse(l)), [
    {
      ts: "2026-11-21T06:00:00.000Z",
      level: "info",
      msg: "listening",
      component: "capture",
      socket: "/run/x.sock",
      n: 3,
    },
    {
      ts: "2026-11-21T06:00:00.000Z",
      level: "error",
      msg: "failed",
      component: "capture",
      error: "boom",
    },
  ]);
});

Deno.test("levels below the threshold are dropped; child loggers add fields", () => {
  const lines: string[] = [];
  const log = createLogger({
    level: "warn",
    format: "json",
    write: (l) => lines.push(l),
    now: () => at,
  });
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.child({ component: "sink", sink: "clickhouse" }).error("e", { rows: 5 });
  assertEquals(lines.length, 2);
  assertEquals(JSON.parse(lines[1]), {
    ts: at.toISOString(),
    level: "error",
    msg: "e",
    component: "sink",
    sink: "clickhouse",
    rows: 5,
  });
  assert(!log.enabled("info") && log.enabled("error"));
});

Deno.test("pretty format is one readable line", () => {
  assertEquals(
    formatRecord("pretty", at, "warn", "queue full", {
      component: "capture",
      dropped: 12,
      path: "/a b",
    }),
    '2026-11-21T06:00:00.000Z WARN  [capture] queue full dropped=12 path="/a b"',
  );
});

Deno.test("rateLimited writes a repeated message once per interval with the suppressed count", () => {
  const lines: string[] = [];
  let t = 0;
  const log = createLogger({ format: "json", write: (l) => lines.push(l), now: () => at });
  const limited = rateLimited(log, 1000, () => t);
  for (let i = 0; i < 5; i++) limited("warn", "malformed line", { i });
  t = 1500;
  limited("warn", "malformed line", { i: 5 });
  limited("warn", "other", {});
  assertEquals(lines.map((l) => JSON.parse(l).suppressed), [undefined, 4, undefined]);
  assertEquals(JSON.parse(lines[1]).i, 5);
});
