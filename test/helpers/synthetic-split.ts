import type { SplitArrays } from '../../src/data/split-reader.js';

/** A tokenized split of `n` rows of 3–11 tokens ([CLS]=2 … [SEP]=3, ids 5–44) and `labels` classes. */
export function syntheticSplit(n: number, labels: number): SplitArrays {
  const offsets = new Int32Array(n + 1);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const len = 3 + (i % 9);
    ids.push(2, ...Array.from({ length: len - 2 }, (_, j) => 5 + ((i * 7 + j) % 40)), 3);
    offsets[i + 1] = ids.length;
  }
  return {
    size: n,
    ids: Int32Array.from(ids),
    typeIds: new Int8Array(ids.length),
    offsets,
    labels: Int32Array.from({ length: n }, (_, i) => i % labels),
    rows: Float64Array.from({ length: n }, (_, i) => i + 1),
  };
}
