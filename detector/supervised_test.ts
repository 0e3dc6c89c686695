import { assert, assertEquals, assertThrows } from "../lib/testing.ts";
import { createRng } from "../lib/random.ts";
import { RandomForest } from "./supervised.ts";

function data(n: number, seed: number): { x: Float64Array; y: Uint8Array } {
  const rng = createRng(seed);
  const x = new Float64Array(n * 3);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    x[i * 3] = rng.normal() + (y[i] ? 3 : 0); // informative
    x[i * 3 + 1] = rng.normal(); // noise
    x[i * 3 + 2] = rng.normal();
  }
  return { x, y };
}

Deno.test("random forest separates an informative feature and is seeded", () => {
  const { x, y } = data(400, 1);
  const rf = RandomForest.fit(x, y, 400, 3, { seed: 3, trees: 30 });
  const test = data(200, 2);
  const p = rf.predict(test.x, 200);
  let correct = 0;
  for (let i = 0; i < 200; i++) correct += (p[i] >= 0.5 ? 1 : 0) === test.y[i] ? 1 : 0;
  assert(correct / 200 > 0.9, `accuracy ${correct / 200}`);
  const again = RandomForest.fit(x, y, 400, 3, { seed: 3, trees: 30 }).predict(test.x, 200);
  assertEquals(Array.from(again), Array.from(p));
});

Deno.test("random forest JSON round trip and malformed input", () => {
  const { x, y } = data(100, 4);
  const rf = RandomForest.fit(x, y, 100, 3, { seed: 1, trees: 5 });
  const back = RandomForest.fromJSON(JSON.parse(JSON.stringify(rf.toJSON())));
  assertEquals(Array.from(back.predict(x, 100)), Array.from(rf.predict(x, 100)));
  assertThrows(() => RandomForest.fromJSON({ format: "x" }), TypeError, "ja4-rf/1");
  assertThrows(() => RandomForest.fit(x, y, 1, 3), RangeError, "at least 2");
});
