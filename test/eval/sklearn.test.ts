import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { type ComparedReport, intentCsv, makeRun, prepare, type SklearnReport, sklearnReference } from './fixtures.js';

/**
 * scikit-learn on recsys's own predictions: `recsys eval --predictions` writes every row's true
 * label, prediction, logits and positive score; scripts/eval_sklearn_reference.py reads that file
 * and computes sklearn's report; every number must agree to 1e-6 (counts exactly), and the text
 * report must be sklearn's classification_report character for character.
 */

const TOL = 1e-6;

function close(got: number | null, want: number | null, what: string): void {
  if (want === null || got === null) {
    expect(got, what).toBe(want);
    return;
  }
  expect(Math.abs(got - want), `${what}: recsys ${got}, sklearn ${want}`).toBeLessThanOrEqual(TOL);
}

function evaluateBoth(opts: { binary?: boolean; trainOnly?: string[]; rows: number; seed: string }) {
  const dir = tempDir('recsys-eval-sk-');
  const csv = path.join(dir, 'data.csv');
  intentCsv(csv, opts);
  const dataset = path.join(dir, 'dataset');
  prepare(csv, dataset);
  const run = path.join(dir, 'run');
  makeRun(dataset, run, ['--seed', opts.seed]);
  const predictions = path.join(dir, 'pred.jsonl');
  const r = runCli([
    'eval',
    '--run',
    run,
    '--backend',
    'cpu',
    '--batch-size',
    '7',
    '--json',
    '--predictions',
    predictions,
  ]);
  expect(r.code, r.stderr).toBe(0);
  const reportFile = path.join(dir, 'report.json');
  writeFileSync(reportFile, r.stdout);
  const ours = JSON.parse(r.stdout);
  const sk = sklearnReference(predictions, reportFile, path.join(dir, 'sklearn.json'));
  const text = runCli(['eval', '--run', run, '--backend', 'cpu', '--digits', '4']);
  expect(text.code, text.stderr).toBe(0);
  return { ours, sk, text: text.stdout, predictions };
}

function compareAll(ours: ComparedReport, sk: SklearnReport): void {
  expect(ours.rows).toBe(sk.rows);
  expect(ours.labels).toEqual(sk.labels);
  for (const key of [
    'accuracy',
    'loss',
    'macro_precision',
    'macro_recall',
    'macro_f1',
    'weighted_precision',
    'weighted_recall',
    'weighted_f1',
  ] as const) {
    close(ours[key], sk[key], key);
  }
  close(ours.accuracy, sk.report_accuracy, 'accuracy vs the classification_report accuracy row');
  for (const label of sk.labels) {
    for (const m of ['precision', 'recall', 'f1'] as const) {
      close(ours.per_class[label][m], sk.per_class[label][m], `${m}:${label}`);
      close(
        ours.per_class[label][m],
        sk.per_class_report[label][m === 'f1' ? 'f1-score' : m],
        `${m}:${label} (classification_report)`,
      );
    }
    expect(ours.per_class[label].support, `support:${label}`).toBe(sk.per_class[label].support);
  }
  expect(ours.confusion_matrix).toEqual(sk.confusion_matrix);
  const oursTopK = ours.top_k_accuracy;
  const skTopK = sk.top_k_accuracy;
  if (skTopK === null) expect(oursTopK).toBeNull();
  else {
    expect(oursTopK, 'top_k_accuracy').not.toBeNull();
    expect(Object.keys(oursTopK!)).toEqual(Object.keys(skTopK));
    for (const k of Object.keys(skTopK)) close(oursTopK![k], skTopK[k], `top-${k} accuracy`);
  }
  close(ours.roc_auc, sk.roc_auc, 'roc_auc');
  close(ours.pr_auc, sk.pr_auc, 'pr_auc');
}

describe('recsys eval agrees with scikit-learn on its own predictions', () => {
  it('14 classes: a class absent from the split, classes never predicted, top-2/3/5, loss', () => {
    const { ours, sk, text, predictions } = evaluateBoth({ rows: 900, trainOnly: ['garden'], seed: '5' });
    compareAll(ours, sk);
    // the case covers what it claims
    expect(ours.labels).toHaveLength(14);
    expect(ours.per_class.garden.support).toBe(0);
    const predicted = ours.confusion_matrix[0].map((_: number, j: number) =>
      ours.confusion_matrix.reduce((a: number, row: number[]) => a + row[j], 0),
    );
    expect(predicted.filter((c: number) => c === 0).length).toBeGreaterThan(0);
    expect(predicted.filter((c: number) => c > 0).length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(ours.top_k_accuracy)).toEqual(['2', '3', '5']);
    expect(ours.roc_auc).toBeNull();
    expect(ours.notes.join('\n')).toMatch(/no rows in the data .*garden/);
    // the text report embeds sklearn's classification_report verbatim
    expect(text).toContain(sk.text);
    // one prediction line per row of the split, carrying the dataset's row numbers
    const lines = readFileSync(predictions, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(ours.rows);
    expect(new Set(lines.map((l) => l.row)).size).toBe(ours.rows);
    expect(lines[0]).toMatchObject({
      row: expect.any(Number),
      label: expect.any(String),
      pred: expect.any(String),
      logits: expect.any(Array),
    });
  });

  it('binary: ROC-AUC and PR-AUC of the positive class, no top-k', () => {
    const { ours, sk, text } = evaluateBoth({ rows: 600, binary: true, seed: '11' });
    compareAll(ours, sk);
    expect(ours.labels).toEqual(['electronics', 'other']);
    expect(ours.positive_label).toBe('other');
    expect(ours.top_k_accuracy).toBeNull();
    expect(ours.roc_auc).toBeGreaterThan(0);
    expect(ours.roc_auc).not.toBe(0.5); // scores vary, so the curve is not a single step
    expect(text).toContain(sk.text);
    expect(text).toMatch(/ROC-AUC \(positive: other\)\s+0\.\d{4}/);
  });
});
