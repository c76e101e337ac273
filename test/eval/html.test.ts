import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { htmlReport, readTrainingCurves } from '../../src/eval/html.js';
import { MetricsAccumulator } from '../../src/eval/metrics.js';
import { type MetricsRecord, metricsLine, parseMetricsLine, readMetricsLog } from '../../src/eval/metrics-record.js';
import { DataError } from '../../src/lib/errors.js';
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
    // a torn last line (a run still writing it) is skipped
    writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"step": 3, "loss": 2.`);
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

  it('refuses a complete line that is not a metrics record, naming the file and the line', () => {
    const file = path.join(tempDir('recsys-eval-html-'), 'metrics.jsonl');
    const train = {
      type: 'train',
      step: 1,
      epoch: 0,
      loss: 2.6,
      lr: 1e-5,
      grad_norm: 3,
      samples_per_s: 1,
      time_s: 0.3,
    };
    const cases: [unknown, string][] = [
      ['{"type": "train", "step": 2', 'not valid JSON ('], // then V8's parser message, which varies by Node version
      [[1, 2], 'expected a JSON object, one metrics record per line'],
      [{ ...train, loss: 'low' }, '"loss" must be a number, got "low"'],
      [{ ...train, lr: undefined }, '"lr" is missing'],
      [{ step: 2, split: 'train', loss: 1 }, '"type" must be "train" or "eval", got nothing'],
      [{ type: 'eval', step: 2, epoch: 0, split: 'test', loss: 1 }, '"split" must be "validation", got "test"'],
      [{ type: 'eval', step: 2, epoch: 0, split: 'validation', rows: 3 }, '"loss" is missing'],
    ];
    for (const [bad, message] of cases) {
      const line = typeof bad === 'string' ? bad : JSON.stringify(bad);
      writeFileSync(file, `${JSON.stringify(train)}\n\n${line}\n`);
      const err = (() => {
        try {
          readTrainingCurves(file);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err).toBeInstanceOf(DataError);
      const want = `${file} line 3: ${message}`;
      if (message.endsWith('(')) expect(err?.message.startsWith(want), err?.message).toBe(true);
      else expect(err?.message).toBe(want);
      expect(err?.message).not.toContain('\n');
    }
  });

  it('reads back what the trainer writes, a non-finite number (null in JSON) as NaN', () => {
    const records: MetricsRecord[] = [
      { type: 'train', step: 1, epoch: 0, loss: Number.NaN, lr: 1e-5, grad_norm: 3, samples_per_s: 9, time_s: 0.3 },
      {
        type: 'eval',
        step: 1,
        epoch: 0,
        split: 'validation',
        metrics: { rows: 4, accuracy: 0.5, loss: 1.2, macro_f1: 0.4, weighted_f1: 0.45, 'recall:a b': 1 },
        best: 0.4,
        best_step: 1,
      },
    ];
    const lines = records.map(metricsLine);
    expect(lines[0]).toBe(
      '{"type":"train","step":1,"epoch":0,"loss":null,"lr":0.00001,"grad_norm":3,"samples_per_s":9,"time_s":0.3}\n',
    );
    expect(lines[1]).toBe(
      '{"type":"eval","step":1,"epoch":0,"split":"validation","rows":4,"accuracy":0.5,"loss":1.2,"macro_f1":0.4,' +
        '"weighted_f1":0.45,"recall:a b":1,"best":0.4,"best_step":1}\n',
    );
    expect(lines.map((l, i) => parseMetricsLine(l.trimEnd(), `line ${i + 1}`))).toEqual(records);
    const file = path.join(tempDir('recsys-eval-html-'), 'metrics.jsonl');
    writeFileSync(file, lines.join(''));
    expect(readMetricsLog(file)).toEqual(records);
    const loss = readTrainingCurves(file).find((c) => c.title === 'loss')!;
    expect(loss.series).toEqual([{ name: 'validation.loss', points: [[1, 1.2]] }]);
  });

  it("reads a bi-encoder run's evaluations (retrieval metrics, no accuracy) but not a record missing both", () => {
    const line = (metrics: string) =>
      `{"type":"eval","step":5,"epoch":1,"split":"validation","rows":4,"loss":0.5,${metrics}` +
      '"best":null,"best_step":null}';
    const r = parseMetricsLine(line('"ndcg@10":0.8,"recall@10":0.9,'), 'line 1');
    expect(r.type === 'eval' && r.metrics['ndcg@10']).toBe(0.8);
    expect(() => parseMetricsLine(line(''), 'line 2')).toThrow(/line 2: "accuracy" is missing/);
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
