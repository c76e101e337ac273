import { describe, expect, it } from 'vitest';
import { formatFixed } from '../../src/eval/format.js';
import {
  analyseLogits,
  binaryCurves,
  defaultTopK,
  flatMetrics,
  metricNames,
  MetricsAccumulator,
} from '../../src/eval/metrics.js';
import { classificationReportText, confusionText, type EvalReport } from '../../src/eval/report.js';

// Expected values below were printed by scikit-learn 1.9 (.venv) on the same inputs; the end-to-end
// agreement on recsys's own predictions is in sklearn.test.ts.

function fromPairs(labels: string[], yTrue: number[], yPred: number[]) {
  const acc = new MetricsAccumulator(labels);
  for (const [i, y] of yTrue.entries()) acc.addPrediction(y, yPred[i]);
  return acc.compute();
}

const asReport = (m: ReturnType<typeof fromPairs>) =>
  ({
    labels: m.labels,
    per_class: Object.fromEntries(m.labels.map((l, i) => [l, m.perClass[i]])),
    accuracy: m.accuracy,
    macro_precision: m.macro.precision,
    macro_recall: m.macro.recall,
    macro_f1: m.macro.f1,
    weighted_precision: m.weighted.precision,
    weighted_recall: m.weighted.recall,
    weighted_f1: m.weighted.f1,
    rows: m.rows,
  }) as unknown as EvalReport;

describe('MetricsAccumulator (sklearn precision_recall_fscore_support, zero_division default)', () => {
  it('scores a never-predicted class and an absent class 0, and counts them in the macro average', () => {
    const m = fromPairs(['a', 'bb', 'c', 'd'], [0, 1, 1, 2], [0, 0, 1, 1]);
    expect(m.perClass.map((c) => c.precision)).toEqual([0.5, 0.5, 0, 0]);
    expect(m.perClass.map((c) => c.recall)).toEqual([1, 0.5, 0, 0]);
    expect(m.perClass[0].f1).toBeCloseTo(2 / 3, 15);
    expect(m.perClass.map((c) => c.support)).toEqual([1, 2, 1, 0]);
    expect(m.accuracy).toBe(0.5);
    expect(m.macro.precision).toBe(0.25);
    expect(m.macro.recall).toBe(0.375);
    expect(m.macro.f1).toBeCloseTo(0.2916666666666667, 15);
    expect(m.weighted.precision).toBe(0.375);
    expect(m.weighted.f1).toBeCloseTo(0.4166666666666667, 15);
    expect(m.confusion).toEqual([
      [1, 0, 0, 0],
      [1, 1, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(m.notes.join('\n')).toMatch(/never predicted .*: c, d/);
    expect(m.notes.join('\n')).toMatch(/no rows in the data .*: d/);
    expect(m.loss).toBeNull();
  });

  it('prints the classification report exactly as sklearn does (digits 4 and 2, half-even rounding)', () => {
    const m = fromPairs(['a', 'bb', 'c', 'd'], [0, 1, 1, 2], [0, 0, 1, 1]);
    expect(classificationReportText(asReport(m), 4)).toBe(
      '              precision    recall  f1-score   support\n\n           a     0.5000    1.0000    0.6667         1\n          bb     0.5000    0.5000    0.5000         2\n           c     0.0000    0.0000    0.0000         1\n           d     0.0000    0.0000    0.0000         0\n\n    accuracy                         0.5000         4\n   macro avg     0.2500    0.3750    0.2917         4\nweighted avg     0.3750    0.5000    0.4167         4\n',
    );
    const m2 = fromPairs(['x', 'yy', 'zzz'], [0, 1, 1, 2, 0, 0, 1, 1], [0, 0, 1, 1, 0, 1, 1, 1]);
    expect(classificationReportText(asReport(m2), 2)).toBe(
      '              precision    recall  f1-score   support\n\n           x       0.67      0.67      0.67         3\n          yy       0.60      0.75      0.67         4\n         zzz       0.00      0.00      0.00         1\n\n    accuracy                           0.62         8\n   macro avg       0.42      0.47      0.44         8\nweighted avg       0.55      0.62      0.58         8\n',
    );
  });

  it('gives the same numbers however the rows are batched', () => {
    const n = 5;
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const rows = 503;
    const logits = Float32Array.from({ length: rows * n }, () => rand() * 6 - 3);
    const labels = Array.from({ length: rows }, () => Math.floor(rand() * (n - 1))); // class 4 never true
    const once = new MetricsAccumulator(['a', 'b', 'c', 'd', 'e']);
    once.addLogits(logits, labels);
    const many = new MetricsAccumulator(['a', 'b', 'c', 'd', 'e']);
    for (let s = 0; s < rows; s += 37)
      many.addLogits(logits.subarray(s * n, Math.min(rows, s + 37) * n), labels.slice(s, s + 37));
    const a = once.compute();
    const b = many.compute();
    expect(b.confusion).toEqual(a.confusion);
    expect(b.topK).toEqual(a.topK);
    expect(b.loss!).toBeCloseTo(a.loss!, 12);
    expect(Object.keys(a.topK!)).toEqual(['2', '3']);
    expect(a.perClass[4].support).toBe(0);
  });

  it('computes loss, argmax and the true class rank from logits (sklearn top-k tie rule)', () => {
    const r = analyseLogits([1, 3, 2], 0, 3, 2);
    expect(r.pred).toBe(1);
    const lse = Math.log(Math.exp(1) + Math.exp(3) + Math.exp(2));
    expect(r.loss).toBeCloseTo(lse - 2, 14);
    expect(r.rank).toBe(1);
    expect(r.score).toBeCloseTo(Math.exp(3 - lse), 14);
    // ties: equal scores rank the higher class index first, as sklearn's reversed stable argsort
    const scores = [
      [1, 2, 2, 0],
      [3, 1, 1, 1],
      [0, 0, 0, 0],
    ];
    const topk = (ys: number[]) => {
      const acc = new MetricsAccumulator(['p', 'q', 'r', 's'], { topK: [2] });
      acc.addLogits(scores.flat(), ys);
      return acc.compute().topK!['2'];
    };
    expect(topk([1, 2, 3])).toBeCloseTo(2 / 3, 15);
    expect(topk([2, 1, 0])).toBeCloseTo(1 / 3, 15);
    expect(topk([3, 0, 0])).toBeCloseTo(1 / 3, 15);
    // argmax takes the first of equal logits
    expect(analyseLogits([0, 0, 0, 0], 0, 4, 3).pred).toBe(0);
  });

  it('ROC-AUC and average precision with tied scores match sklearn', () => {
    const c = binaryCurves([0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.9], [0, 0, 1, 1, 1, 0, 1]);
    expect(c.rocAuc).toBeCloseTo(0.75, 14);
    expect(c.averagePrecision).toBeCloseTo(0.8166666666666667, 14);
    const none = binaryCurves([0.1, 0.5], [0, 0]);
    expect(none.rocAuc).toBeNull();
    expect(none.averagePrecision).toBe(0);
    expect(binaryCurves([0.1, 0.5], [1, 1]).averagePrecision).toBe(1);
  });

  it('binary tasks report ROC/PR-AUC for label index 1 and no top-k; one-class data leaves ROC-AUC undefined', () => {
    const acc = new MetricsAccumulator(['neg', 'pos']);
    acc.addLogits([0, 1, 1, 0, 0, 2, 3, 0], [1, 0, 1, 0]);
    const m = acc.compute();
    expect(m.positiveLabel).toBe('pos');
    expect(m.topK).toBeNull();
    expect(m.rocAuc).toBe(1);
    expect(m.prAuc).toBe(1);
    const one = new MetricsAccumulator(['neg', 'pos']);
    one.addLogits([0, 1, 1, 0], [0, 0]);
    const m1 = one.compute();
    expect(m1.rocAuc).toBeNull();
    expect(m1.notes.join('\n')).toMatch(/ROC-AUC undefined: only one class present/);
    expect(m1.notes.join('\n')).toMatch(/PR-AUC is 0: no positive \(pos\) rows/);
  });

  it('names every metric the gates can use', () => {
    expect(defaultTopK(2)).toEqual([]);
    expect(defaultTopK(4)).toEqual([2, 3]);
    expect(defaultTopK(14)).toEqual([2, 3, 5]);
    const names = metricNames({ labels: ['a', 'b', 'c'], topK: [2] });
    expect(names).toContain('top_2_accuracy');
    expect(names).toContain('recall:c');
    expect(names).not.toContain('roc_auc');
    const acc = new MetricsAccumulator(['a', 'b', 'c']);
    acc.addLogits([3, 1, 0, 0, 2, 1], [0, 2]);
    const flat = flatMetrics(acc.compute());
    expect(Object.keys(flat).sort()).toEqual([...metricNames({ labels: ['a', 'b', 'c'], topK: [2] })].sort());
    expect(flat['recall:c']).toBe(0);
    expect(flat.top_2_accuracy).toBe(1);
  });

  it('rejects label ids outside the label set', () => {
    const acc = new MetricsAccumulator(['a', 'b']);
    expect(() => acc.addPrediction(2, 0)).toThrow(/true label id 2 outside 0..1/);
    expect(() => acc.addLogits([0, 1], [5])).toThrow(/outside 0..1/);
  });
});

describe('text formatting', () => {
  it('rounds exact ties half to even like Python, everything else like toFixed', () => {
    const cases: [number, number, string][] = [
      [0.125, 2, '0.12'],
      [0.375, 2, '0.38'],
      [0.625, 2, '0.62'],
      [0.875, 2, '0.88'],
      [2.5, 0, '2'],
      [0.5, 0, '0'],
      [1.5, 0, '2'],
      [0.0625, 3, '0.062'],
      [0.3125, 3, '0.312'],
      [2 / 3, 4, '0.6667'],
      [0.1 + 0.2, 1, '0.3'],
      [1, 4, '1.0000'],
    ];
    for (const [x, d, want] of cases) expect(formatFixed(x, d), `${x} .${d}f`).toBe(want);
  });

  it('names the confusion-matrix columns when they fit, indexes them otherwise', () => {
    const t = confusionText(
      ['cat', 'dog'],
      [
        [3, 1],
        [0, 12],
      ],
    );
    expect(t).toBe(
      'confusion matrix (rows: true label, columns: predicted label)\n     cat  dog\ncat    3    1\ndog    0   12\n',
    );
    const long = Array.from({ length: 12 }, (_, i) => `category_number_${i}`);
    const wide = confusionText(
      long,
      long.map((_, i) => long.map((_, j) => (i === j ? 5 : 0))),
    );
    expect(wide).toMatch(/^\[0\] category_number_0 +5/m);
    expect(wide.split('\n')[1]).toMatch(/^\s+\[0\]\s+\[1\]/);
  });
});
