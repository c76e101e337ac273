import { describe, expect, it } from 'vitest';
import { MultiLabelAccumulator } from '../../src/eval/multilabel.js';
import { averageRanks, RegressionAccumulator } from '../../src/eval/regression.js';
import { chooseThresholds } from '../../src/eval/thresholds.js';

const logit = (p: number) => Math.log(p / (1 - p));

describe('head metrics on hand-checked cases', () => {
  it('regression: sklearn values, r2 of a constant target, scipy average ranks', () => {
    const acc = new RegressionAccumulator(['y']);
    acc.add([1, 2, 4], [1, 3, 3]);
    const m = acc.compute();
    expect(m.mae).toBeCloseTo(2 / 3, 12);
    expect(m.mse).toBeCloseTo(2 / 3, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(m.r2).toBeCloseTo(0.25, 12); // 1 − 2 / (8/3)
    expect(m.spearman).toBeCloseTo(Math.sqrt(3) / 2, 12); // ranks 1,2.5,2.5 vs 1,2,3
    expect(Array.from(averageRanks(Float64Array.from([3, 1, 3, 2])))).toEqual([3.5, 1, 3.5, 2]);
    const flat = new RegressionAccumulator(['y']);
    flat.add([2, 2], [2, 2]);
    expect(flat.compute()).toMatchObject({ r2: 1, pearson: null, spearman: null });
  });

  it('multi-label: a row with no true and no predicted label scores 0 in samples F1 (sklearn)', () => {
    const acc = new MultiLabelAccumulator(['a', 'b', 'c'], [0.5, 0.5, 0.5]);
    const l = (on: boolean) => (on ? 2 : -2);
    acc.add(
      [l(true), l(false), l(false), l(false), l(false), l(false), l(false), l(false), l(false)],
      [1, 0, 0, 0, 0, 0, 0, 1, 0],
    );
    const m = acc.compute();
    expect(m).toMatchObject({ micro_precision: 1, micro_recall: 0.5, subset_accuracy: 2 / 3 });
    expect(m.micro_f1).toBeCloseTo(2 / 3, 12);
    expect(m.macro_f1).toBeCloseTo(1 / 3, 12);
    expect(m.samples_f1).toBeCloseTo(1 / 3, 12);
    expect(m.weighted_f1).toBeCloseTo(0.5, 12);
  });

  it('thresholds: the best F1 per label, between scores; 0.5 for a label never positive', () => {
    const probs = [0.9, 0.35, 0.3, 0.1];
    const logits = probs.flatMap((p) => [logit(p), logit(p)]);
    const targets = [1, 0, 1, 0, 0, 0, 0, 0];
    const c = chooseThresholds(logits, targets, 2);
    expect(c.thresholds[0]).toBeCloseTo(0.325, 9); // rows 0 and 1 positive: between 0.35 and 0.3, F1 = 1
    expect(c.f1[0]).toBe(1);
    expect(c.thresholds[1]).toBe(0.5);
  });
});

describe('thresholds against an exhaustive search', () => {
  it('no candidate threshold gives a label a higher F1 than the one chosen', () => {
    let seed = 11;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const rows = 60;
    const logits = Array.from({ length: rows * 2 }, () => Math.round((rand() * 6 - 3) * 4) / 4); // ties
    const targets = logits.map((x) => (rand() < 1 / (1 + Math.exp(-x)) ? 1 : 0));
    const c = chooseThresholds(logits, targets, 2);
    for (let j = 0; j < 2; j++) {
      const f1 = (t: number) => {
        let [tp, fp, fn] = [0, 0, 0];
        for (let i = 0; i < rows; i++) {
          const p = 1 / (1 + Math.exp(-logits[i * 2 + j])) >= t;
          const y = targets[i * 2 + j] === 1;
          if (p && y) tp++;
          else if (p) fp++;
          else if (y) fn++;
        }
        return (2 * tp) / (2 * tp + fp + fn);
      };
      expect(f1(c.thresholds[j])).toBeCloseTo(c.f1[j], 12);
      for (let t = 0.001; t < 1; t += 0.001) expect(f1(t)).toBeLessThanOrEqual(c.f1[j] + 1e-12);
    }
  });
});
