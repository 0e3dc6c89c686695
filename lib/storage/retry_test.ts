import { assertEquals, assertRejects } from "../testing.ts";
import { StorageError } from "./errors.ts";
import { backoffDelay, withRetry } from "./retry.ts";

const policy = { attempts: 4, baseMs: 100, maxMs: 300 };

Deno.test("backoffDelay doubles from base, capped at max, jitter between half and full", () => {
  assertEquals(backoffDelay(policy, 1, () => 0), 50);
  assertEquals(backoffDelay(policy, 1, () => 1), 100);
  assertEquals(backoffDelay(policy, 2, () => 1), 200);
  assertEquals(backoffDelay(policy, 3, () => 1), 300);
  assertEquals(backoffDelay(policy, 9, () => 0), 150);
});

Deno.test("withRetry retries UNAVAILABLE until success and reports each wait", async () => {
  let calls = 0;
  const waits: number[] = [];
  const result = await withRetry(policy, () => {
    calls++;
    if (calls < 3) return Promise.reject(new StorageError("UNAVAILABLE", "down"));
    return Promise.resolve("ok");
  }, { sleep: (ms) => (waits.push(ms), Promise.resolve()), random: () => 1 });
  assertEquals(result, "ok");
  assertEquals(calls, 3);
  assertEquals(waits, [100, 200]);
});

Deno.test("withRetry gives up after the last attempt with the last error", async () => {
  let calls = 0;
  await assertRejects(
    () =>
      withRetry(policy, () => {
        calls++;
        return Promise.reject(new StorageError("UNAVAILABLE", `down ${calls}`));
      }, { sleep: () => Promise.resolve() }),
    StorageError,
    "down 4",
  );
  assertEquals(calls, 4);
});

Deno.test("withRetry never retries an error the database returned", async () => {
  let calls = 0;
  await assertRejects(() =>
    withRetry(policy, () => {
      calls++;
      return Promise.reject(new StorageError("SQL", "syntax", { clickhouseCode: 62 }));
    }, { sleep: () => Promise.resolve() }), StorageError);
  assertEquals(calls, 1);
});
