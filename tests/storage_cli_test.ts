/** `ja4 migrate` and `ja4 sql` as a user runs them: separate processes on a fresh data dir. */
import { assert, assertEquals } from "../lib/testing.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function ja4(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    cwd: ROOT,
    env: { JA4_LOG_LEVEL: "warn", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: r.code, out: text(r.stdout), err: text(r.stderr) };
}

Deno.test("cli: migrate, migrate again, status, sql in formats, cluster dry run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ja4-cli-storage-" });
  try {
    const first = await ja4(["migrate", "--data-dir", dir]);
    assertEquals(first.code, 0, first.err);
    assert(/applied 8 migration\(s\); 0 already applied/.test(first.out), first.out);
    const again = await ja4(["migrate", "--data-dir", dir]);
    assert(/applied 0 migration\(s\); 8 already applied/.test(again.out), again.out);

    const csv = await ja4([
      "sql",
      "--data-dir",
      dir,
      "--format",
      "CSV",
      "--param",
      "fam=firefox",
      "SELECT family, count() FROM known_fingerprints WHERE family = {fam:String} GROUP BY family",
    ]);
    assertEquals(csv.code, 0, csv.err);
    assertEquals(csv.out, '"firefox",1\n');

    const bad = await ja4(["sql", "--data-dir", dir, "SELECT nosuch"]);
    assertEquals(bad.code, 1);
    assert(bad.err.includes("UNKNOWN_IDENTIFIER"), bad.err);

    const dry = await ja4(["migrate", "--data-dir", dir, "--dry-run", "--cluster", "prod"]);
    assertEquals(dry.code, 0, dry.err);
    // Everything is applied locally, so a dry run lists nothing to do.
    assert(dry.out.includes("would apply 0 migration(s)"), dry.out);

    const fresh = await Deno.makeTempDir({ prefix: "ja4-cli-storage-" });
    try {
      const plan = await ja4(["migrate", "--data-dir", fresh, "--dry-run", "--cluster", "prod"]);
      assertEquals(plan.code, 0, plan.err);
      assert(plan.out.includes("would apply 8 migration(s)"), plan.out);
      assert(
        plan.out.includes(
          "ENGINE = Distributed(prod, ja4_processing, http_logs_local, cityHash64(src_ip))",
        ),
        plan.out,
      );
      assert(plan.out.includes("ReplicatedAggregatingMergeTree"), plan.out);
      const tables = await ja4(["sql", "--data-dir", fresh, "SHOW TABLES FROM ja4_processing"]);
      assertEquals(tables.out, "", "a dry run creates no table");
    } finally {
      await Deno.remove(fresh, { recursive: true });
    }

    const refused = await ja4(["migrate", "--data-dir", dir, "--cluster", "prod"]);
    assertEquals(refused.code, 2);
    assert(refused.err.includes("storage.mode=server"), refused.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
