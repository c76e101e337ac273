import { describe, expect, it } from 'vitest';
import { forwardGrouped, lengthGroups } from '../../src/serve/groups.js';

/** Padded positions plus the run cost: what lengthGroups minimises. */
const cost = (lengths: number[], groups: number[][], runCost: number) =>
  groups.reduce((sum, g) => sum + runCost + g.length * Math.max(...g.map((i) => lengths[i])), 0);

describe('length groups of a micro-batch', () => {
  it('keeps rows of one length together and covers every row once', () => {
    expect(lengthGroups([])).toEqual([]);
    expect(lengthGroups([7])).toEqual([[0]]);
    expect(lengthGroups([5, 5, 5, 5])).toEqual([[0, 1, 2, 3]]);
    const lengths = [6, 16, 5, 6, 15, 4, 6, 5];
    const groups = lengthGroups(lengths, 8);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
  });

  it('splits off long rows only when that saves more padding than a run costs', () => {
    const lengths = [...Array(30).fill(5), 16, 16];
    expect(lengthGroups(lengths, 8)).toEqual([Array.from({ length: 30 }, (_, i) => i), [30, 31]]);
    // One 6-token row among 5-token ones: 31 positions saved would not pay for a run of 40.
    expect(lengthGroups([...Array(31).fill(5), 6], 40)).toHaveLength(1);
  });

  it('finds the cheapest split (checked against every split of a small batch)', () => {
    const lengths = [3, 9, 4, 12, 5, 5, 7, 3, 11, 6];
    const sorted = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
    let best = Number.POSITIVE_INFINITY;
    for (let mask = 0; mask < 1 << (sorted.length - 1); mask++) {
      const groups: number[][] = [[sorted[0]]];
      for (let k = 1; k < sorted.length; k++) {
        if (mask & (1 << (k - 1))) groups.push([]);
        groups[groups.length - 1].push(sorted[k]);
      }
      best = Math.min(best, cost(lengths, groups, 8));
    }
    expect(cost(lengths, lengthGroups(lengths, 8), 8)).toBe(best);
  });

  it('forwardGrouped answers each row in the order given, one copy per row', async () => {
    const rows = [3, 12, 4, 11].map((n) => ({ ids: Array(n).fill(1), typeIds: Array(n).fill(0) }));
    const seen: number[][] = [];
    // A fake model whose two logits are the row's length and its position in its group.
    const out = await forwardGrouped(async (groups) => {
      seen.push(...groups.map((g) => g.map((r) => r.ids.length)));
      return groups.map((g) => Float32Array.from(g.flatMap((r, j) => [r.ids.length, j])));
    }, rows);
    expect(seen).toEqual([
      [3, 4],
      [11, 12],
    ]);
    expect(out.map((o) => o[0])).toEqual([3, 12, 4, 11]);
    expect(out[0].buffer).not.toBe(out[2].buffer);
  });
});
