import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { htmlReport, readTrainingCurves } from '../../src/eval/html.js';
import { MetricsAccumulator } from '../../src/eval/metrics.js';
import { buildReport } from '../../src/eval/report.js';
import { tempDir } from '../helpers/cli.js';

describe('HTML report', () => {
  it('reads training curves in the format recsys train writes (type train / split validation records)', () => {
    const file = path.join(tempDir('recsys-eval-html-'), 'metrics.jsonl');
    const lines = [
      { type: 'train', step: 1, epoch: 0, loss: 2.6, lr: 1e-5, grad_norm: 3, samples_per_s: 100, time_s: 0.3 },
      { type: 'train', step: 2, epoch: 0, loss: 2.4, lr: 2e-5, grad_norm: 2.5, samples_per_s: 110, time_s: 0.6 },
      {
        type: 'eval',
        step: 2,
        epoch: 0,
        split: 'validation',
        loss: 2.5,
        accuracy: 0.2,
        macro_f1: 0.1,
        weighted_f1: 0.15,
        rows: 300,
        best: 0.1,
        best_step: 2,
      },
    ];
    writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"step": 3, "loss": 2.`); // a torn last line is skipped
    const charts = readTrainingCurves(file);
    expect(charts.map((c) => c.title)).toEqual(['loss', 'macro_f1', 'accuracy', 'weighted_f1', 'lr', 'grad_norm']);
    expect(charts[0].xLabel).toBe('step');
    expect(charts[0].series).toEqual([
      {
        name: 'train.loss',
        points: [
          [1, 2.6],
          [2, 2.4],
        ],
      },
      { name: 'validation.loss', points: [[2, 2.5]] },
    ]);
    expect(readTrainingCurves(path.join(path.dirname(file), 'missing.jsonl'))).toEqual([]);
  });

  it('escapes label names and stays self-contained', () => {
    const labels = ['<script>alert(1)</script>', 'a & "b"'];
    const acc = new MetricsAccumulator(labels);
    acc.addLogits([2, 0, 0, 1, 1, 0], [0, 1, 0]);
    const report = buildReport(acc.compute(), {
      split: 'test',
      run: null,
      model: 'm',
      dataset: 'd',
      datasetSha256: 'x',
      splitFile: 'test.arrow',
      splitSha256: 'f'.repeat(64),
      backend: 'cpu',
      seconds: 1,
    });
    const html = htmlReport(report);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a &amp; &quot;b&quot;');
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(|src=|href=/i);
    expect(html).toContain('ROC-AUC (a &amp; &quot;b&quot;)');
    expect(html).not.toContain('Training curves');
  });
});
