import { describe, expect, it } from 'vitest';
import { DECODERS } from '../../src/predict/decode.js';

describe('predict decodes logits by the head', () => {
  const labels = ['a', 'b', 'c'];
  it('single-label: softmax, the top class', () => {
    const d = DECODERS.single_label_classification([0, 2, 1], { labels, topK: 2, thresholds: null });
    expect(d.label).toBe('b');
    expect(d.score).toBeCloseTo(Math.exp(2) / (1 + Math.exp(2) + Math.exp(1)), 12);
    expect(d.top_k!.map((t) => t.label)).toEqual(['b', 'c']);
  });
  it('multi-label: a sigmoid per label against its threshold', () => {
    const d = DECODERS.multi_label_classification([0, 2, -1], { labels, topK: 1, thresholds: [0.4, 0.9, 0.2] });
    expect(d.labels).toEqual(['a', 'c']);
    expect(d.label).toBe('a|c');
    expect(d.scores!.b).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
  });
  it('regression: the raw outputs', () => {
    const d = DECODERS.regression([3.25, -1], { labels: ['rating', 'fav'], topK: 1, thresholds: null });
    expect(d.values).toEqual({ rating: 3.25, fav: -1 });
    expect(d.score).toBe(3.25);
  });
});
