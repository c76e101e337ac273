import { describe, expect, it } from 'vitest';
import { normalizeRows, poolBatch } from '../../src/embed/pooling.js';

// Two rows, seq 3, hidden 2: row 0 has 3 real tokens, row 1 has 1 (then padding that must not count).
const lastHidden = Float32Array.from([1, 2, 3, 4, 5, 6, 10, 20, 99, 99, 99, 99]);
const pooled = Float32Array.from([0.5, -0.5, 3, 4]);
const h = { hiddenSize: 2, lastHidden, pooled };

describe('poolBatch', () => {
  it('mean averages over the real tokens only', () => {
    expect(Array.from(poolBatch(h, [3, 1], 'mean', false))).toEqual([3, 4, 10, 20]);
  });

  it('cls takes the first token, pooler the pooled output', () => {
    expect(Array.from(poolBatch(h, [3, 1], 'cls', false))).toEqual([1, 2, 10, 20]);
    expect(Array.from(poolBatch(h, [3, 1], 'pooler', false))).toEqual([0.5, -0.5, 3, 4]);
  });

  it('normalize makes unit rows, and leaves a zero row zero', () => {
    const v = poolBatch(h, [3, 1], 'pooler', true);
    expect(v[2]).toBeCloseTo(0.6, 6);
    expect(v[3]).toBeCloseTo(0.8, 6);
    const z = Float32Array.from([0, 0]);
    normalizeRows(z, 2);
    expect(Array.from(z)).toEqual([0, 0]);
  });
});
