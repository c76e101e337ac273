import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { exportOnnx, intentCsv, prepare, trainRun } from './fixtures.js';

/**
 * `recsys eval --model EXPORT_DIR`: the exported ONNX file in onnxruntime-node, against
 * `recsys eval --run` of the same run (tfjs) on the same split: every prediction agrees, and so
 * do the metrics. One real run per task (recsys train --max-steps 1 on a from-scratch BERT with a
 * wide init, so predictions spread over the classes) and its export, shared by every test here.
 */

interface Fixture {
  dataset: string;
  run: string;
  exp: string;
}

let dir: string;
let multi: Fixture;
let binary: Fixture;

function fixture(name: string, opts: { binary?: boolean }): Fixture {
  const csv = path.join(dir, `${name}.csv`);
  intentCsv(csv, { rows: 450, binary: opts.binary });
  const dataset = path.join(dir, `${name}-dataset`);
  prepare(csv, dataset);
  const run = path.join(dir, `${name}-run`);
  trainRun(dataset, run, { seed: 3 });
  const exp = path.join(dir, `${name}-export`);
  exportOnnx(run, exp);
  return { dataset, run, exp };
}

beforeAll(() => {
  dir = tempDir('recsys-eval-onnx-');
  multi = fixture('intent', {});
  binary = fixture('binary', { binary: true });
});

interface PredictionLine {
  row: number;
  label: string;
  pred: string;
  label_id: number;
  pred_id: number;
  score: number;
  loss: number;
  positive_score?: number;
  logits: number[];
}

const readLines = (file: string): PredictionLine[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** Gap between the best and second-best logit: a prediction may only differ on a near-tie. */
function topGap(logits: number[]): number {
  const s = [...logits].sort((a, b) => b - a);
  return s[0] - s[1];
}

function evalBoth(f: Fixture, tag: string) {
  const pRun = path.join(dir, `${tag}-run.jsonl`);
  const pOnnx = path.join(dir, `${tag}-onnx.jsonl`);
  const a = runCli(['eval', '--run', f.run, '--backend', 'cpu', '--batch-size', '32', '--predictions', pRun, '--json']);
  expect(a.code, a.stderr).toBe(0);
  const b = runCli(['eval', '--model', f.exp, '--batch-size', '32', '--predictions', pOnnx, '--json']);
  expect(b.code, b.stderr).toBe(0);
  return {
    run: JSON.parse(a.stdout),
    onnx: JSON.parse(b.stdout),
    runLines: readLines(pRun),
    onnxLines: readLines(pOnnx),
    stderr: b.stderr,
  };
}

/**
 * Row by row: same rows in the same order, same prediction; logits within 1e-4. Returns the rows
 * decided by a near-tie.
 */
function compareRows(runLines: PredictionLine[], onnxLines: PredictionLine[]): number {
  expect(onnxLines.length).toBe(runLines.length);
  let ties = 0;
  let maxDiff = 0;
  runLines.forEach((r, i) => {
    const o = onnxLines[i];
    expect({ row: o.row, label: o.label, label_id: o.label_id }).toEqual({
      row: r.row,
      label: r.label,
      label_id: r.label_id,
    });
    for (let j = 0; j < r.logits.length; j++) maxDiff = Math.max(maxDiff, Math.abs(r.logits[j] - o.logits[j]));
    if (o.pred_id !== r.pred_id) {
      // Only a near-tie (logits ~1e-6 apart across runtimes) may flip; none is expected here.
      expect(topGap(r.logits), `row ${r.row}: --run predicts ${r.pred}, --model ${o.pred}`).toBeLessThan(1e-5);
      ties++;
    } else {
      expect(o.pred).toBe(r.pred);
    }
    expect(Math.abs(o.score - r.score)).toBeLessThan(1e-5);
    expect(Math.abs(o.loss - r.loss)).toBeLessThan(1e-5);
  });
  expect(maxDiff).toBeLessThan(1e-4);
  return ties;
}

const METRICS = [
  'accuracy',
  'macro_precision',
  'macro_recall',
  'macro_f1',
  'weighted_precision',
  'weighted_recall',
  'weighted_f1',
];

describe('recsys eval --model: the ONNX export agrees with the run', () => {
  it('14 classes: every prediction, the counts and every metric (loss and top-k within 1e-6)', () => {
    const { run, onnx, runLines, onnxLines, stderr } = evalBoth(multi, 'multi');
    expect(compareRows(runLines, onnxLines)).toBe(0);
    expect(new Set(runLines.map((l) => l.pred)).size).toBeGreaterThan(3); // the fixture's predictions do vary
    expect(onnx.rows).toBe(300);
    expect(onnx.confusion_matrix).toEqual(run.confusion_matrix);
    expect(onnx.per_class).toEqual(run.per_class);
    for (const k of METRICS) expect(onnx[k], k).toBe(run[k]);
    expect(Math.abs(onnx.loss - run.loss)).toBeLessThan(1e-6);
    expect(Object.keys(onnx.top_k_accuracy)).toEqual(['2', '3', '5']);
    for (const k of ['2', '3', '5'])
      expect(Math.abs(onnx.top_k_accuracy[k] - run.top_k_accuracy[k])).toBeLessThan(1e-6);

    expect(onnx.backend).toBe('onnxruntime');
    expect(onnx.source).toMatchObject({
      run: null,
      export: multi.exp,
      model: path.join(multi.exp, 'onnx', 'model.onnx'),
      dataset: multi.dataset,
      split_file: 'test.arrow',
    });
    expect(onnx.source.model_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(run.source).toMatchObject({ run: multi.run, export: null, model_sha256: null });
    expect(stderr).toContain(`dataset: ${multi.dataset} (recorded in ${multi.exp})`);
    expect(stderr).toMatch(/model: .*model\.onnx in onnxruntime-node \d+\.\d+\.\d+ \(cpu\)/);
    expect(stderr).not.toMatch(/backend: /); // no tfjs backend is initialised for --model
  });

  it('binary: every prediction and positive score, ROC-AUC and PR-AUC within 1e-6', () => {
    const { run, onnx, runLines, onnxLines } = evalBoth(binary, 'binary');
    expect(compareRows(runLines, onnxLines)).toBe(0);
    for (const [i, r] of runLines.entries()) {
      expect(Math.abs(onnxLines[i].positive_score! - r.positive_score!)).toBeLessThan(1e-5);
    }
    expect(onnx.confusion_matrix).toEqual(run.confusion_matrix);
    for (const k of METRICS) expect(onnx[k], k).toBe(run[k]);
    for (const k of ['loss', 'roc_auc', 'pr_auc']) expect(Math.abs(onnx[k] - run[k]), k).toBeLessThan(1e-6);
    expect(onnx.positive_label).toBe('other');
  });
});

describe('recsys eval --model: reports, gates and checks', () => {
  it('text report, gates (exit 1 on failure) and the HTML report without training curves', () => {
    const report = path.join(dir, 'onnx-report');
    let r = runCli(['eval', '--model', multi.exp, '--min', 'accuracy=0', '--max', 'loss=100', '--report', report]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^test split: 300 rows, onnxruntime backend/);
    expect(r.stdout).toMatch(/\nquality gate passed: 2 conditions\n$/);
    const html = readFileSync(path.join(report, 'index.html'), 'utf8');
    expect(html).toContain('<h2>Confusion matrix</h2><svg');
    expect(html).not.toContain('Training curves');
    r = runCli(['eval', '--model', multi.exp, '--min', 'macro_f1=0.99']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\ngate FAIL macro_f1 = 0\.\d{6}, needs >= 0\.99 \(--min\)\n/);
    expect(r.stderr).toContain('recsys: error: quality gate failed: 1 of 1 conditions (macro_f1)');
  });

  it("the manifest check: a dataset prepared differently from the exported model's training data (exit 3)", () => {
    const longer = path.join(dir, 'ds-len');
    prepare(path.join(dir, 'intent.csv'), longer, ['--max-length', '32']);
    const r = runCli(['eval', '--model', multi.exp, '--data', longer]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `recsys: error: ${longer} was prepared differently from the data ${multi.exp} was trained on ` +
        `(max_length differs)`,
    );
    expect(r.stderr).toContain('  max_length: the run was trained at 24, the dataset was prepared at 32');
    const labels = runCli(['eval', '--model', binary.exp, '--data', multi.dataset]);
    expect(labels.code).toBe(3);
    expect(labels.stderr).toMatch(/\(labels differs\)/);
    // a truncated split shard: a one-line data error naming it (both paths read the split the same way)
    const cut = path.join(dir, 'ds-truncated');
    cpSync(multi.dataset, cut, { recursive: true });
    writeFileSync(path.join(cut, 'test.arrow'), readFileSync(path.join(cut, 'test.arrow')).subarray(0, 300));
    const truncated = runCli(['eval', '--model', multi.exp, '--data', cut]);
    expect(truncated.code).toBe(3);
    expect(truncated.stderr).toContain(
      `recsys: error: ${path.join(cut, 'test.arrow')}: not a readable Arrow file (truncated or ` +
        `corrupt); re-run recsys prepare`,
    );
  });

  it('refuses an ONNX file changed after export, an incomplete export and directories that are not exports', () => {
    const copy = path.join(dir, 'export-copy');
    cpSync(multi.exp, copy, { recursive: true });
    const onnx = path.join(copy, 'onnx', 'model.onnx');
    writeFileSync(onnx, Buffer.concat([readFileSync(onnx), Buffer.from([0])]));
    let r = runCli(['eval', '--model', copy]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(
        String.raw`model\.onnx: sha256 [0-9a-f]{12}… differs from export\.json's ` +
          String.raw`[0-9a-f]{12}…; the file changed after recsys export \(re-export ` +
          String.raw`the run\)`,
      ),
    );

    rmSync(path.join(copy, 'export.json'));
    r = runCli(['eval', '--model', copy]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `recsys: error: ${copy}: the export is incomplete (interrupted, or still being written; ` +
        `export.json does not record it as complete): re-run recsys export`,
    );

    r = runCli(['eval', '--model', multi.run]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${multi.run} is a run directory; evaluate it with --run ${multi.run}, or export it first`,
    );
    r = runCli(['eval', '--model', multi.dataset]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${multi.dataset}: no onnx/model.onnx; export the run to ONNX first (recsys export --format onnx)`,
    );
    r = runCli(['eval', '--model', path.join(dir, 'nowhere')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nowhere: not found \(--model expects an export directory written by recsys export\)/);
  });

  it('flags that do not apply: --run with --model, --backend with --model, --threads without it', () => {
    let r = runCli(['eval', '--model', multi.exp, '--run', multi.run]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--run and --model are exclusive/);
    r = runCli(['eval', '--model', multi.exp, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--backend chooses the tfjs backend of --run; --model runs the ONNX file in onnxruntime-node/,
    );
    r = runCli(['eval', '--run', multi.run, '--threads', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--threads applies to --model/);
    r = runCli(['eval', '--model', multi.exp, '--threads', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
  });
});
