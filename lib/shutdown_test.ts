import { assert, assertEquals } from "./testing.ts";
import { createShutdown } from "./shutdown.ts";
import { createLogger } from "./log.ts";

const CHILD = new URL("../tests/fixtures/shutdown_child.ts", import.meta.url).pathname;

async function spawnChild(out: string, mode = "") {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, out, mode],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Wait for "ready" so the signal arrives after the handlers are installed.
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assertEquals(new TextDecoder().decode(value).trim(), "ready");
  reader.releaseLock();
  await new Promise((r) => setTimeout(r, 100)); // let it accept some work
  return child;
}

async function stderrLines(child: Deno.ChildProcess): Promise<Record<string, unknown>[]> {
  const text = await new Response(child.stderr).text();
  return text.trim().split("\n").filter((l) => l).map((l) => JSON.parse(l));
}

Deno.test("SIGTERM: a child stops intake, flushes everything it accepted, exits 0", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const child = await spawnChild(`${dir}/out.json`);
    child.kill("SIGTERM");
    const [status, logs] = await Promise.all([child.status, stderrLines(child)]);
    await child.stdout.cancel();
    assertEquals(status.code, 0);
    const flushed = JSON.parse(await Deno.readTextFile(`${dir}/out.json`));
    assert(flushed.accepted > 0, "work was accepted before the signal");
    assertEquals(flushed.accepted, flushed.last + 1, "everything accepted was flushed");
    assertEquals(logs.map((l) => l.msg), ["shutting down", "stopped"]);
    assertEquals(logs[0].reason, "SIGTERM");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a flush that overruns the bound exits 1; a second signal exits 130 at once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const hung = await spawnChild(`${dir}/a.json`, "hang");
    hung.kill("SIGINT");
    const [status, logs] = await Promise.all([hung.status, stderrLines(hung)]);
    await hung.stdout.cancel();
    assertEquals(status.code, 1);
    assert(logs.some((l) => l.msg === "shutdown did not finish in time; exiting now"));

    const twice = await spawnChild(`${dir}/b.json`, "hang");
    twice.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 50));
    twice.kill("SIGTERM");
    const [status2, logs2] = await Promise.all([twice.status, stderrLines(twice)]);
    await twice.stdout.cancel();
    assertEquals(status2.code, 130);
    assert(logs2.some((l) => l.msg === "second signal: exiting now"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trigger runs hooks newest first and reports a failing hook with exit code 1", async () => {
  const order: string[] = [];
  const codes: number[] = [];
  const lines: string[] = [];
  const shutdown = createShutdown({
    timeoutMs: 1000,
    log: createLogger({ format: "json", write: (l) => lines.push(l) }),
    signals: [],
    exit: (c) => codes.push(c),
  });
  shutdown.onShutdown("first", () => {
    order.push("first");
  });
  shutdown.onShutdown("broken", () => {
    throw new Error("disk full");
  });
  shutdown.onShutdown("last", () => {
    order.push("last");
  });
  await shutdown.trigger("done");
  await shutdown.trigger("again"); // idempotent
  assert(shutdown.signal.aborted);
  assertEquals(order, ["last", "first"]);
  assertEquals(codes, [1]);
  assert(lines.some((l) => JSON.parse(l).error === "disk full"));
});
