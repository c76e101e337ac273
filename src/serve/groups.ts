import type { EncodedRow } from '../data/batch.js';

/**
 * What one more forward pass costs, in padded token positions: onnxruntime's fixed cost of a run of
 * a small BERT is about that of 5–8 tokens of one row (measured with one intra-op thread). A group
 * is worth splitting off only when it saves more padding than that.
 */
export const RUN_COST_TOKENS = 8;

/**
 * A batch's rows split into groups of similar length, each padded to its own longest row: a forward
 * pass costs about its padded positions (rows × longest), so one 16-token query in a batch of
 * 5-token ones would make every row pay for 16. The split minimises padded positions plus
 * `runCost` per group (an exact dynamic programme over the rows sorted by length; batches are at
 * most a few hundred rows). Returns row indices per group, shortest rows first.
 */
export function lengthGroups(lengths: ArrayLike<number>, runCost = RUN_COST_TOKENS): number[][] {
  const n = lengths.length;
  if (n <= 1) return n ? [[0]] : [];
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  // best[j]: least cost of the first j sorted rows; cut[j]: where the last group of that split starts.
  const best = new Float64Array(n + 1);
  const cut = new Int32Array(n + 1);
  for (let j = 1; j <= n; j++) {
    const longest = lengths[order[j - 1]];
    best[j] = Number.POSITIVE_INFINITY;
    for (let i = 0; i < j; i++) {
      const cost = best[i] + runCost + (j - i) * longest;
      if (cost < best[j]) {
        best[j] = cost;
        cut[j] = i;
      }
    }
  }
  const groups: number[][] = [];
  for (let j = n; j > 0; j = cut[j]) groups.unshift(order.slice(cut[j], j));
  return groups;
}

/** Runs several padded batches; one result per group, in order (worker pools send them in one message). */
export type ForwardMany = (groups: EncodedRow[][]) => Promise<Float32Array[]>;

/**
 * One logits row per row, in the rows' order, through length groups: a row's numbers do not depend
 * on the rows it is batched with (padding is masked; test/serve checks answers against predict
 * whatever the batch composition), and the forward passes cost the groups' padded positions only.
 */
export async function forwardGrouped(forwardMany: ForwardMany, rows: EncodedRow[]): Promise<Float32Array[]> {
  const groups = lengthGroups(rows.map((r) => r.ids.length));
  const outs = await forwardMany(groups.map((g) => g.map((i) => rows[i])));
  const perRow = new Array<Float32Array>(rows.length);
  groups.forEach((g, k) => {
    const width = outs[k].length / g.length;
    // A copy per row: a row outlives its batch in the cache.
    g.forEach((i, j) => {
      perRow[i] = outs[k].slice(j * width, (j + 1) * width);
    });
  });
  return perRow;
}
