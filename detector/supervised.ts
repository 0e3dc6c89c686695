/**
 * A small random-forest classifier (Breiman 2001: bootstrap samples, √d candidate features per
 * split, CART trees grown on Gini impurity) for the analyst-labelled rows.
 *
 * Why our own and not an npm library: the labelled set is small (hundreds to a few thousand
 * rows), the model must be stored in `ml_models` as JSON and re-run exactly from the run's seed,
 * and the candidates (`ml-random-forest`, which pulls `ml-cart` and `ml-matrix`) use
 * `Math.random` with no seed and serialize whole object graphs; about 150 lines of typed-array
 * code meets the need with nothing to vet or pin.
 *
 * @example
 * ```ts
 * const rf = RandomForest.fit(x, y, nRows, nCols, { seed: 1 });
 * rf.predict(x, nRows); // Float64Array of P(bot)
 * ```
 */
import { createRng } from "../lib/random.ts";

/** Training options. */
export interface RandomForestOptions {
  trees?: number;
  maxDepth?: number;
  minLeaf?: number;
  seed?: number;
}

/** JSON form of a fitted {@link RandomForest}. */
export interface RandomForestJson {
  format: "ja4-rf/1";
  nFeatures: number;
  /** Per tree: flat nodes [feature, threshold, left, right, p] (feature −1 = leaf with P(bot) p). */
  trees: number[][];
}

/** A fitted binary random forest giving P(label = 1). */
export class RandomForest {
  readonly nFeatures: number;
  readonly #trees: Float64Array[];

  private constructor(nFeatures: number, trees: Float64Array[]) {
    this.nFeatures = nFeatures;
    this.#trees = trees;
  }

  /** Fits on row-major `x` (nRows × nCols) and 0/1 labels `y`. */
  static fit(
    x: Float64Array,
    y: Uint8Array,
    nRows: number,
    nCols: number,
    opts: RandomForestOptions = {},
  ): RandomForest {
    if (nRows < 2) throw new RangeError("a random forest needs at least 2 labelled rows");
    const nTrees = opts.trees ?? 50;
    const maxDepth = opts.maxDepth ?? 8;
    const minLeaf = opts.minLeaf ?? 2;
    const mtry = Math.max(1, Math.round(Math.sqrt(nCols)));
    const rng = createRng(opts.seed ?? 1);
    const trees: Float64Array[] = [];
    const order = new Int32Array(nRows);
    for (let t = 0; t < nTrees; t++) {
      const sample = new Int32Array(nRows);
      for (let i = 0; i < nRows; i++) sample[i] = rng.int(nRows);
      const nodes: number[] = [];
      const grow = (idx: Int32Array, depth: number): number => {
        const at = nodes.length / 5;
        nodes.push(-1, 0, 0, 0, 0);
        let pos = 0;
        for (const i of idx) pos += y[i];
        const p = pos / idx.length;
        nodes[at * 5 + 4] = p;
        if (depth >= maxDepth || idx.length < 2 * minLeaf || pos === 0 || pos === idx.length) {
          return at;
        }
        let best = { gini: Infinity, feature: -1, threshold: 0 };
        const feats = new Set<number>();
        while (feats.size < Math.min(mtry, nCols)) feats.add(rng.int(nCols));
        for (const q of feats) {
          const sorted = order.subarray(0, idx.length);
          sorted.set(idx);
          sorted.sort((a, b) => x[a * nCols + q] - x[b * nCols + q]);
          let leftPos = 0;
          for (let k = 0; k < idx.length - 1; k++) {
            leftPos += y[sorted[k]];
            const v = x[sorted[k] * nCols + q], next = x[sorted[k + 1] * nCols + q];
            const nl = k + 1, nr = idx.length - nl;
            if (v === next || nl < minLeaf || nr < minLeaf) continue;
            const pl = leftPos / nl, pr = (pos - leftPos) / nr;
            const gini = nl * 2 * pl * (1 - pl) + nr * 2 * pr * (1 - pr);
            if (gini < best.gini) best = { gini, feature: q, threshold: (v + next) / 2 };
          }
        }
        if (best.feature < 0) return at;
        const left = idx.filter((i) => x[i * nCols + best.feature] < best.threshold);
        const right = idx.filter((i) => x[i * nCols + best.feature] >= best.threshold);
        nodes[at * 5] = best.feature;
        nodes[at * 5 + 1] = best.threshold;
        nodes[at * 5 + 2] = grow(left, depth + 1);
        nodes[at * 5 + 3] = grow(right, depth + 1);
        return at;
      };
      grow(sample, 0);
      trees.push(Float64Array.from(nodes));
    }
    return new RandomForest(nCols, trees);
  }

  /** P(label = 1) for each row of row-major `x`. */
  predict(x: Float64Array, nRows: number): Float64Array {
    const out = new Float64Array(nRows);
    const d = this.nFeatures;
    for (let r = 0; r < nRows; r++) {
      let sum = 0;
      for (const tree of this.#trees) {
        let at = 0;
        while (tree[at * 5] >= 0) {
          const q = tree[at * 5];
          at = x[r * d + q] < tree[at * 5 + 1] ? tree[at * 5 + 2] : tree[at * 5 + 3];
        }
        sum += tree[at * 5 + 4];
      }
      out[r] = sum / this.#trees.length;
    }
    return out;
  }

  /** JSON form; {@link RandomForest.fromJSON} restores it. */
  toJSON(): RandomForestJson {
    return {
      format: "ja4-rf/1",
      nFeatures: this.nFeatures,
      trees: this.#trees.map((t) => Array.from(t)),
    };
  }

  /** Restores a forest from {@link RandomForest.toJSON}; TypeError when malformed. */
  static fromJSON(json: unknown): RandomForest {
    const j = json as Partial<RandomForestJson> | null;
    if (
      !j || j.format !== "ja4-rf/1" || !Number.isInteger(j.nFeatures) || !Array.isArray(j.trees)
    ) {
      throw new TypeError('not a serialized random forest (format must be "ja4-rf/1")');
    }
    const trees = j.trees.map((t, i) => {
      if (!Array.isArray(t) || t.length % 5 !== 0 || t.length === 0) {
        throw new TypeError(`serialized random forest: tree ${i} is malformed`);
      }
      const a = Float64Array.from(t);
      const n = a.length / 5;
      for (let k = 0; k < n; k++) {
        if (
          a[k * 5] >= j.nFeatures! ||
          a[k * 5] >= 0 &&
            !(a[k * 5 + 2] > k && a[k * 5 + 2] < n && a[k * 5 + 3] > k && a[k * 5 + 3] < n)
        ) {
          throw new TypeError(`serialized random forest: tree ${i} node ${k} is malformed`);
        }
      }
      return a;
    });
    return new RandomForest(j.nFeatures!, trees);
  }
}
