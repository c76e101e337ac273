import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatFixed } from '../../src/eval/format.js';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { referencePython } from '../helpers/python.js';

/** Five CLI runs per test on a shared machine: minutes, not the default two. */
const TIMEOUT = 900_000;

/**
 * configs/regression.yaml and configs/multilabel.yaml through the whole pipeline, tiny:
 * prepare → train → eval → export (ONNX + SavedModel, parity gate) → predict. The eval metrics
 * equal scikit-learn's / SciPy's on the predictions recsys wrote (within 1e-6), and predict applies
 * the head's activation (identity, or a sigmoid against the run's thresholds).
 */
const root = tempDir('recsys-heads-pipeline-');

function cli(args: string[]): string {
  const r = runCli(args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

function sklearn(predictions: string, task: string, labels: string[], thresholds?: number[]): Record<string, number> {
  const args = [path.join(repoRoot, 'scripts/eval_heads_sklearn.py'), predictions, task, JSON.stringify(labels)];
  if (thresholds) args.push(JSON.stringify(thresholds));
  const r = spawnSync(referencePython(), args, { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

function pipeline(name: string, steps: number) {
  const cfg = path.join(repoRoot, 'configs', `${name}.yaml`);
  const ds = path.join(root, `${name}-ds`);
  const run = path.join(root, `${name}-run`);
  const exp = path.join(root, `${name}-export`);
  const manifest = JSON.parse(cli(['prepare', '-c', cfg, '--out', ds, '--max-length', '32', '--json']));
  cli(['train', '-c', cfg, '--data', ds, '--out', run, '--max-steps', String(steps), '--no-progress']);
  const predictions = path.join(root, `${name}-eval.jsonl`);
  const reportDir = path.join(root, `${name}-report`);
  // Gates off: a tiny run is not a trained model; gating is tested separately below.
  const noGates = ['--set', 'eval.min={}', '--set', 'eval.max={}'];
  cli(['eval', '-c', cfg, '--run', run, '--data', ds, '--predictions', predictions, '--report', reportDir, ...noGates]);
  const report = JSON.parse(readFileSync(path.join(reportDir, 'report.json'), 'utf8'));
  // The HTML page beside it shows the head's numbers from report.json (test/eval/head-html.test.ts for the rest).
  const html = readFileSync(path.join(reportDir, 'index.html'), 'utf8');
  const headline = report.task === 'regression' ? 'rmse' : 'micro_f1';
  expect(html).toContain(`<b>${formatFixed(report.metrics[headline], 4)}</b><span>${headline}</span>`);
  const e = runCli([
    'export',
    '-c',
    cfg,
    '--run',
    run,
    '--out',
    exp,
    '--format',
    'onnx,savedmodel',
    '--check-rows',
    '64',
  ]);
  expect(e.code, e.stderr).toBe(0);
  expect(e.stderr.match(/→ passed/g)).toHaveLength(2);
  return { cfg, ds, run, exp, manifest, predictions, report, noGates };
}

function expectClose(ours: Record<string, number | null>, ref: Record<string, number>): void {
  const keys = Object.keys(ref);
  expect(keys.length).toBeGreaterThan(5);
  for (const k of keys) expect(Math.abs((ours[k] as number) - ref[k]), k).toBeLessThan(1e-6);
}

describe('regression and multi-label sample configs: the whole pipeline', () => {
  it(
    'regression: metrics equal sklearn/scipy, export passes parity, predict writes the raw outputs',
    () => {
      const p = pipeline('regression', 20);
      expect(p.manifest.task).toBe('regression');
      expect(p.manifest.labels).toEqual(['rating']);
      expect(p.report.task).toBe('regression');
      expectClose(p.report.metrics, sklearn(p.predictions, 'regression', ['rating']));
      const input = path.join(root, 'reviews-in.csv');
      const reviews = [
        'Broke after a week.',
        'Works as described.',
        'Best purchase this year!',
        'Meh.',
        'Not bad at all.',
      ];
      writeFileSync(input, `review\n${reviews.join('\n')}\n`);
      const out = path.join(root, 'reg-pred.jsonl');
      cli(['predict', '--model', p.exp, '--input', input, '--text-column', 'review', '--output', out, '--logits']);
      const rows = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rows).toHaveLength(5);
      for (const r of rows) {
        expect(r.values.rating).toBeCloseTo(r.logits[0], 6); // identity
        expect(r.score).toBe(r.values.rating);
      }
      // Gates on the new metrics: an unreachable R² fails with exit 1 and names the metric.
      const g = runCli(['eval', '-c', p.cfg, '--run', p.run, '--data', p.ds, ...p.noGates, '--min', 'r2=0.999']);
      expect(g.code).toBe(1);
      expect(g.stdout).toMatch(/gate FAIL r2 = /);
      const bad = runCli(['eval', '-c', p.cfg, '--run', p.run, '--data', p.ds, ...p.noGates, '--min', 'macro_f1=0.5']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/"macro_f1" is not a regression metric; valid metrics: loss, mae, mse, rmse, r2/);
    },
    TIMEOUT,
  );

  it(
    'multi-label: thresholds from validation, metrics equal sklearn, predict = sigmoid ≥ threshold',
    () => {
      const p = pipeline('multilabel', 30);
      const labels = p.manifest.labels as string[];
      expect(labels).toEqual(['eco', 'electronics', 'gift', 'kids', 'kitchen', 'outdoor', 'sports']);
      const t = JSON.parse(readFileSync(path.join(p.run, 'model/thresholds.json'), 'utf8'));
      expect(p.report.thresholds).toEqual(t.thresholds);
      expectClose(p.report.metrics, sklearn(p.predictions, 'multi_label_classification', labels, t.thresholds));
      // The export carries the thresholds, and eval of the ONNX export reports the same numbers.
      expect(JSON.parse(readFileSync(path.join(p.exp, 'thresholds.json'), 'utf8')).thresholds).toEqual(t.thresholds);
      const onnx = JSON.parse(cli(['eval', '-c', p.cfg, '--model', p.exp, '--data', p.ds, '--json', ...p.noGates]));
      expect(Math.abs(onnx.metrics.micro_f1 - p.report.metrics.micro_f1)).toBeLessThan(0.02);
      const input = path.join(root, 'ml-in.csv');
      writeFileSync(
        input,
        readFileSync(path.join(repoRoot, 'data/products-multilabel.csv'), 'utf8').split('\n').slice(0, 21).join('\n'),
      );
      const out = path.join(root, 'ml-pred.jsonl');
      cli(['predict', '--model', p.exp, '--input', input, '--text-column', 'title', '--output', out, '--logits']);
      const rows = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rows).toHaveLength(20);
      for (const r of rows) {
        const want = labels.filter((_, j) => 1 / (1 + Math.exp(-r.logits[j])) >= t.thresholds[j]);
        expect(r.labels).toEqual(want);
        expect(r.label).toBe(want.join('|'));
        labels.forEach((l, j) => {
          expect(r.scores[l]).toBeCloseTo(1 / (1 + Math.exp(-r.logits[j])), 9);
        });
      }
    },
    TIMEOUT,
  );
});
