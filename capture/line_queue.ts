/**
 * The bounded queue between the capture loop and the output: NDJSON lines wait here while the
 * consumer (the correlator on network.socket) is slow or away. It is bounded in lines and in
 * characters; when either bound is reached the OLDEST lines are dropped and counted, because a
 * fresh handshake is worth more to the correlator than one whose HTTP requests are long gone,
 * and because the capture loop must never wait for the consumer.
 *
 * @example
 * ```ts
 * const q = new LineQueue({ maxLines: 100_000, maxChars: 128 << 20 });
 * q.push(JSON.stringify(event));
 * const chunk = q.peek(64 * 1024); // write them, then:
 * q.shift(chunk.length);
 * ```
 */

/** Bounds of a {@link LineQueue}. */
export interface LineQueueLimits {
  maxLines: number;
  /** Bound on the sum of line lengths (UTF-16 code units, ≈ bytes for JSON lines). */
  maxChars: number;
}

/** A FIFO ring of lines with drop-oldest overflow. */
export class LineQueue {
  readonly #limits: LineQueueLimits;
  #ring: (string | undefined)[];
  #head = 0;
  #size = 0;
  #chars = 0;
  #dropped = 0;

  constructor(limits: LineQueueLimits) {
    if (limits.maxLines < 1 || limits.maxChars < 1) {
      throw new RangeError("LineQueue limits must be at least 1");
    }
    this.#limits = limits;
    // Start small and grow to maxLines so that a large bound costs nothing until it is used.
    this.#ring = new Array(Math.min(limits.maxLines, 1024));
  }

  /** Lines waiting. */
  get length(): number {
    return this.#size;
  }

  /** Characters waiting. */
  get chars(): number {
    return this.#chars;
  }

  /** Lines dropped since creation because a bound was reached. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Appends a line (without its newline); drops the oldest lines if a bound is exceeded. */
  push(line: string): void {
    if (line.length > this.#limits.maxChars) {
      // A line larger than the whole queue can never be kept; dropping it keeps the rest.
      this.#dropped++;
      return;
    }
    while (
      this.#size > 0 &&
      (this.#size >= this.#limits.maxLines || this.#chars + line.length > this.#limits.maxChars)
    ) {
      this.#removeHead();
      this.#dropped++;
    }
    if (this.#size === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#size) % this.#ring.length] = line;
    this.#size++;
    this.#chars += line.length;
  }

  /**
   * The oldest lines, in order, up to `maxChars` characters (always at least one line when the
   * queue is not empty). They stay queued until {@link shift} confirms they were written.
   */
  peek(maxChars: number): string[] {
    const out: string[] = [];
    let chars = 0;
    for (let i = 0; i < this.#size; i++) {
      const line = this.#ring[(this.#head + i) % this.#ring.length]!;
      if (out.length > 0 && chars + line.length > maxChars) break;
      out.push(line);
      chars += line.length + 1;
    }
    return out;
  }

  /** Removes the `n` oldest lines (after they were written). */
  shift(n: number): void {
    for (let i = 0; i < n && this.#size > 0; i++) this.#removeHead();
  }

  #removeHead(): void {
    const line = this.#ring[this.#head]!;
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#size--;
    this.#chars -= line.length;
  }

  #grow(): void {
    const next: (string | undefined)[] = new Array(
      Math.min(this.#limits.maxLines, this.#ring.length * 2),
    );
    for (let i = 0; i < this.#size; i++) next[i] = this.#ring[(this.#head + i) % this.#ring.length];
    this.#ring = next;
    this.#head = 0;
  }
}
