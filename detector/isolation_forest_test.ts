import { assert, assertEquals, assertThrows } from "../lib/testing.ts";
import { averagePathLength, EULER_GAMMA, IsolationForest } from "./isolation_forest.ts";
import { createRng } from "../lib/random.ts";

function near(actual: number, expected: number, eps: number): void {
  assert(Math.abs(actual - expected) <= eps, `${actual} is not within ${eps} of ${expected}`);
}

function gaussianRows(n: number, d: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const data = new Float64Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return data;
}

Deno.test("c(n) follows the harmonic-number formula and its special cases", () => {
  assertEquals(averagePathLength(0), 0);
  assertEquals(averagePathLength(1), 0);
  assertEquals(averagePathLength(2), 1);
  // c(3) = 2(ln 2 + γ) − 4/3
  near(averagePathLength(3), 2 * (Math.log(2) + EULER_GAMMA) - 4 / 3, 1e-12);
  // c(256) ≈ 10.2448 (the value the paper's ψ=256 normalizes by)
  near(averagePathLength(256), 10.2448, 1e-3);
  near(averagePathLength(1000), 2 * (Math.log(999) + EULER_GAMMA) - 1998 / 1000, 1e-12);
});

Deno.test("height limit is ⌈log2 ψ⌉ and ψ is capped at the row count", () => {
  const data = gaussianRows(1000, 3, 1);
  const f = IsolationForest.fit(data, 1000, 3, { trees: 5, sampleSize: 256, seed: 1 });
  assertEquals(f.heightLimit, 8);
  assertEquals(f.sampleSize, 256);
  const small = IsolationForest.fit(data, 100, 3, { trees: 5, sampleSize: 256, seed: 1 });
  assertEquals(small.sampleSize, 100);
  assertEquals(small.heightLimit, 7);
});

Deno.test("path length: a one-row tree is a leaf with c(1)=0; two distinct rows split at depth 1", () => {
  const one = IsolationForest.fit(new Float64Array([5, 5]), 1, 2, { trees: 3, seed: 1 });
  assertEquals(one.pathLength([5, 5], 0), 0);
  const two = IsolationForest.fit(new Float64Array([0, 10]), 2, 1, { trees: 3, seed: 1 });
  // Each row is isolated by the root split: depth 1, leaf of size 1 adds c(1)=0.
  assertEquals(two.pathLength([0], 0), 1);
  assertEquals(two.pathLength([10], 0), 1);
  // Identical rows cannot be split: one external node of size 2 → 0 + c(2) = 1.
  const same = IsolationForest.fit(new Float64Array([3, 3, 3, 3]), 4, 1, { trees: 2, seed: 1 });
  assertEquals(same.pathLength([3], 0), averagePathLength(4));
});

Deno.test("path length never exceeds height limit + c(ψ)", () => {
  const data = gaussianRows(2000, 4, 2);
  const f = IsolationForest.fit(data, 2000, 4, { trees: 20, seed: 3 });
  const lengths = f.meanPathLengths(data, 2000);
  const bound = f.heightLimit + averagePathLength(f.sampleSize);
  for (const h of lengths) assert(h > 0 && h <= bound, `path length ${h} out of (0, ${bound}]`);
});

Deno.test("an obvious outlier ranks first and scores above 0.6; inliers near or below 0.5", () => {
  const n = 2000, d = 5;
  const data = gaussianRows(n, d, 4);
  for (let q = 0; q < d; q++) data[123 * d + q] = 8; // far from the N(0,1) cloud
  const f = IsolationForest.fit(data, n, d, { seed: 9 });
  const scores = f.score(data, n);
  let best = 0;
  for (let i = 1; i < n; i++) if (scores[i] > scores[best]) best = i;
  assertEquals(best, 123);
  assert(scores[123] > 0.6, `outlier score ${scores[123]}`);
  const sorted = Array.from(scores).sort((a, b) => a - b);
  assert(sorted[n >> 1] < 0.5, `median score ${sorted[n >> 1]} should be < 0.5`);
});

Deno.test("same seed gives the same forest; another seed gives a different one", () => {
  const data = gaussianRows(3000, 6, 5);
  const a = IsolationForest.fit(data, 3000, 6, { seed: 11 }).score(data, 3000);
  const b = IsolationForest.fit(data, 3000, 6, { seed: 11 }).score(data, 3000);
  const c = IsolationForest.fit(data, 3000, 6, { seed: 12 }).score(data, 3000);
  assertEquals(Array.from(a), Array.from(b));
  assert(Array.from(a).some((v, i) => v !== c[i]), "a different seed should change scores");
});

Deno.test("JSON round trip scores identically and rejects malformed input", () => {
  const data = gaussianRows(1500, 4, 6);
  const f = IsolationForest.fit(data, 1500, 4, { trees: 30, seed: 2 });
  const back = IsolationForest.fromJSON(JSON.parse(JSON.stringify(f.toJSON())));
  assertEquals(Array.from(back.score(data, 1500)), Array.from(f.score(data, 1500)));
  assertEquals(back.nodeCount, f.nodeCount);
  assertThrows(() => IsolationForest.fromJSON({ format: "other" }), TypeError, "format");
  const broken = f.toJSON();
  broken.leftOrSize[0] = 0; // root pointing at itself would loop forever
  assertThrows(() => IsolationForest.fromJSON(broken), TypeError, "malformed");
});

Deno.test("fit rejects empty or inconsistent input with a message", () => {
  assertThrows(() => IsolationForest.fit(new Float64Array(0), 0, 3), RangeError, "0 rows");
  assertThrows(() => IsolationForest.fit(new Float64Array(5), 2, 3), RangeError, "expected 2×3");
});
