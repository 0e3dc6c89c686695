import { assertEquals } from "../lib/testing.ts";
import { LineQueue } from "./line_queue.ts";

Deno.test("LineQueue: FIFO order, peek does not remove, shift does", () => {
  const q = new LineQueue({ maxLines: 10, maxChars: 1000 });
  for (const l of ["a", "bb", "ccc"]) q.push(l);
  assertEquals(q.peek(1000), ["a", "bb", "ccc"]);
  assertEquals(q.length, 3);
  assertEquals(q.chars, 6);
  q.shift(2);
  assertEquals(q.peek(1000), ["ccc"]);
  assertEquals(q.chars, 3);
});

Deno.test("LineQueue: the line bound drops the oldest and counts them", () => {
  const q = new LineQueue({ maxLines: 3, maxChars: 1000 });
  for (let i = 0; i < 5; i++) q.push(`e${i}`);
  assertEquals(q.peek(1000), ["e2", "e3", "e4"]);
  assertEquals(q.dropped, 2);
});

Deno.test("LineQueue: the character bound drops the oldest; an oversize line is dropped alone", () => {
  const q = new LineQueue({ maxLines: 100, maxChars: 10 });
  q.push("aaaa");
  q.push("bbbb");
  q.push("cccc"); // 12 > 10: "aaaa" goes
  assertEquals(q.peek(100), ["bbbb", "cccc"]);
  q.push("x".repeat(11));
  assertEquals(q.peek(100), ["bbbb", "cccc"]);
  assertEquals(q.dropped, 2);
});

Deno.test("LineQueue: peek respects the chunk size but always returns one line", () => {
  const q = new LineQueue({ maxLines: 100, maxChars: 1000 });
  q.push("x".repeat(50));
  q.push("y".repeat(50));
  assertEquals(q.peek(10).length, 1);
  assertEquals(q.peek(102).length, 2);
  assertEquals(q.peek(60).length, 1);
});

Deno.test("LineQueue: grows past its initial ring and wraps around correctly", () => {
  const q = new LineQueue({ maxLines: 5000, maxChars: 1 << 20 });
  for (let i = 0; i < 1500; i++) q.push(String(i));
  q.shift(1000);
  for (let i = 1500; i < 4000; i++) q.push(String(i));
  const all = q.peek(1 << 20);
  assertEquals(all.length, 3000);
  assertEquals(all[0], "1000");
  assertEquals(all[2999], "3999");
  assertEquals(q.dropped, 0);
});
