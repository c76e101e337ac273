import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir, vocabPath } from '../helpers/cli.js';

/**
 * `recsys eval` of a bi-encoder run (task embedding): the retrieval metrics of a split, computed as
 * training's validation computes them, with gates and baselines; and `recsys embed --model RUN`
 * pooling as the run was trained. The run pools by [CLS], so a mean-pooled evaluation would differ.
 */
let dir = '';
let run = '';
let config = '';

const ITEMS = ['shirt', 'shoe', 'lamp', 'chair', 'table', 'kettle', 'backpack', 'mug'];
const COLORS = ['red', 'blue', 'green', 'black', 'white'];

function tripletsTsv(): string {
  const lines = ['query\tproduct\tnegative\tsplit'];
  let n = 0;
  for (const color of COLORS)
    for (const [k, item] of ITEMS.entries()) {
      const split = n % 4 === 3 ? 'validation' : 'train';
      lines.push(`${color} ${item}\tacme ${color} ${item} deluxe\t${color} ${ITEMS[(k + 1) % ITEMS.length]}\t${split}`);
      n++;
    }
  return `${lines.join('\n')}\n`;
}

const evalRun = (...args: string[]) => runCli(['eval', '--run', run, '--split', 'validation', ...args]);

beforeAll(() => {
  dir = tempDir('recsys-embedding-eval-');
  const input = path.join(dir, 'triplets.tsv');
  writeFileSync(input, tripletsTsv());
  config = path.join(dir, 'biencoder.yaml');
  writeFileSync(
    config,
    [
      'task: embedding',
      'data:',
      `  input: ${input}`,
      '  text_column: query',
      '  pair_column: product',
      '  negative_column: negative',
      '  split_column: split',
      '  max_length: 16',
      `  out: ${path.join(dir, 'ds')}`,
      'tokenizer:',
      `  path: ${vocabPath}`,
      'model:',
      `  path: ${path.join(repoRoot, 'data/tiny-bert/config.json')}`,
      'train:',
      `  out: ${path.join(dir, 'run')}`,
      '  batch_size: 8',
      '  epochs: 2',
      '  lr: 1.0e-3',
      '  pooling: cls',
      '',
    ].join('\n'),
  );
  for (const cmd of ['prepare', 'train']) {
    const r = runCli([cmd, '-c', config, '--no-progress']);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  run = path.join(dir, 'run');
}, 600_000);

describe('recsys eval of a bi-encoder run', () => {
  it("reports the split's retrieval metrics as training's validation of the kept weights did", () => {
    const r = evalRun('--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ task: 'embedding', split: 'validation', rows: 10, corpus: 20, pooling: 'cls' });
    const records = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'eval');
    const best = records.find((e) => e.step === records.at(-1).best_step);
    for (const metric of ['ndcg@10', 'recall@5', 'mrr@10', 'map@10', 'precision@1'])
      expect(report.ranking.metrics[metric], metric).toBeCloseTo(best[metric], 5);
    expect(report.ranking.n_queries).toBe(10);
  });

  it('prints the metrics per cut-off, and gates on them (exit 1 below a bar)', () => {
    const ok = evalRun('--min', 'ndcg@10=0.01');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/validation split: 10 rows/);
    expect(ok.stdout).toMatch(/@10 {2}ndcg \d\.\d{4} {2}recall/);
    expect(ok.stdout).toMatch(/gate PASS ndcg@10 = /);
    const fail = evalRun('--min', 'recall@10=1.01');
    expect(fail.code).toBe(1);
    expect(fail.stdout).toMatch(/gate FAIL recall@10 = [\d.]+, needs >= 1.01 \(--min\)/);
  });

  it('refuses classification metrics and cut-offs it does not compute (exit 2)', () => {
    const acc = evalRun('--min', 'accuracy=0.5');
    expect(acc.code).toBe(2);
    expect(acc.stderr).toMatch(/--min accuracy=0.5: accuracy: a bi-encoder run is judged by retrieval metrics only/);
    const k3 = evalRun('--min', 'ndcg@3=0.5');
    expect(k3.code).toBe(2);
    expect(k3.stderr).toMatch(/cut-offs computed on a bi-encoder split are 1, 5, 10/);
  });

  it('compares with a baseline report (--report writes it) and fails on a drop', () => {
    const reportDir = path.join(dir, 'report');
    const first = evalRun('--report', reportDir);
    expect(first.code, first.stderr).toBe(0);
    const baseline = path.join(reportDir, 'report.json');
    const same = evalRun('--baseline', baseline);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/gate PASS ndcg@10 = .*\(baseline/);
    const better = JSON.parse(readFileSync(baseline, 'utf8'));
    better.ranking.metrics['mrr@10'] += 0.5;
    const raised = path.join(dir, 'raised.json');
    writeFileSync(raised, JSON.stringify(better));
    const drop = evalRun('--baseline', raised, '--max-drop', '0.01');
    expect(drop.code).toBe(1);
    expect(drop.stdout).toMatch(/gate FAIL mrr@10 = .*baseline [\d.]+ minus max drop 0.01/);
  });
});

describe('recsys embed --model RUN', () => {
  const TEXTS = 'text\nred shirt\nacme blue lamp deluxe\n';
  const manifestOf = (out: string) => JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));

  it('pools as the run was trained (train.pooling cls) unless --pooling says otherwise', () => {
    const input = path.join(dir, 'texts.csv');
    writeFileSync(input, TEXTS);
    const base = ['embed', '--model', run, '--input', input, '--text-column', 'text', '--no-progress'];
    const own = runCli([...base, '--out', path.join(dir, 'e-own')]);
    expect(own.code, own.stderr).toBe(0);
    expect(manifestOf(path.join(dir, 'e-own')).pooling).toBe('cls');
    const mean = runCli([...base, '--out', path.join(dir, 'e-mean'), '--pooling', 'mean']);
    expect(mean.code, mean.stderr).toBe(0);
    expect(manifestOf(path.join(dir, 'e-mean')).pooling).toBe('mean');
  });
});
