import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MATCH_MARKING_KEY } from '../../../src/data/tokenizer/match-marking.js';
import { readJsonLines, repoRoot, runCli, tempDir, vocabPath } from '../../helpers/cli.js';

/**
 * tokenizer.mark_matches through the pipeline: prepare marks the pairs, train starts from a model whose
 * own tokenizer does not mark (marking adds no token), and every way of scoring raw text afterwards marks
 * the same way prepare did: `predict` on the run and on its ONNX export give the logits `eval` gives on
 * the prepared split. The same weights without the marks give other logits, so the marks are in the input.
 */

const root = tempDir('recsys-marking-cli-');
const modelDir = path.join(root, 'model');
const pairs = path.join(root, 'pairs.csv');
const testPairs = path.join(root, 'test-pairs.csv');
const run = path.join(root, 'run');
const data = path.join(root, 'dataset');
const LABELS = ['Exact', 'Substitute', 'Complement', 'Irrelevant'];

beforeAll(() => {
  // The fixture's 1,000-token model gets a vocabulary of the sample shop's words: [PAD], [unused0…], the
  // specials, then the commonest words of the first pairs (the rest are [UNK]).
  mkdirSync(modelDir);
  const fixture = path.join(repoRoot, 'test/fixtures/reference/cls-l2-h64');
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(path.join(fixture, f), path.join(modelDir, f));
  const [header, ...lines] = readFileSync(path.join(repoRoot, 'data/pairs.csv'), 'utf8').trim().split('\n');
  const sample = lines.slice(0, 400);
  const counts = new Map<string, number>();
  for (const w of sample
    .join(' ')
    .toLowerCase()
    .match(/[a-z0-9]+/g) ?? [])
    counts.set(w, (counts.get(w) ?? 0) + 1);
  const bert = readFileSync(vocabPath, 'utf8').split('\n');
  const words = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([w]) => w);
  const vocab = [...bert.slice(0, 104), ...words.filter((w) => !bert.slice(0, 104).includes(w))].slice(0, 1000);
  writeFileSync(path.join(modelDir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  // Train and validation rows as the shop splits them; a test split of rows that are not trained on.
  const rows = sample.map((l, i) => l.replace(/,(train|validation|test)$/, i >= 340 ? ',test' : `,$1`));
  writeFileSync(pairs, `${[header, ...rows].join('\n')}\n`);
  writeFileSync(testPairs, `${[header, ...rows.slice(340)].join('\n')}\n`);
});

function prepare(extra: string[] = []) {
  return runCli([
    'prepare',
    '--input',
    pairs,
    '--text-column',
    'query',
    '--pair-column',
    'product_title',
    '--label-column',
    'esci_label',
    '--split-column',
    'split',
    '--tokenizer',
    path.join(modelDir, 'vocab.txt'),
    '--max-length',
    '48',
    '--set',
    `data.labels=${JSON.stringify(LABELS)}`,
    '--set',
    'tokenizer.mark_matches=true',
    '--out',
    data,
    '--no-progress',
    ...extra,
  ]);
}

function predict(model: string, out: string) {
  const r = runCli([
    'predict',
    '--model',
    model,
    '--input',
    testPairs,
    '--text-column',
    'query',
    '--pair-column',
    'product_title',
    '--output',
    out,
    '--logits',
    '--no-progress',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return readJsonLines(out).map((l) => l.logits as number[]);
}

const maxDiff = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((row, i) => row.map((x, j) => Math.abs(x - b[i][j]))));

describe('tokenizer.mark_matches', () => {
  it('prepare marks pairs; train, eval, predict and the ONNX export all see the same marked input', () => {
    const p = prepare();
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr + p.stdout).toContain('pairs: [unused0] marks each word the two texts share');
    const manifest = JSON.parse(readFileSync(path.join(data, 'manifest.json'), 'utf8'));
    expect(manifest.tokenizer.mark_matches).toBe(true);

    const t = runCli([
      'train',
      '--data',
      data,
      '--model',
      modelDir,
      '--out',
      run,
      '--max-steps',
      '3',
      '--batch-size',
      '16',
      '--seed',
      '3',
      '--no-progress',
    ]);
    expect(t.code, t.stderr).toBe(0);
    const runTokConfig = JSON.parse(readFileSync(path.join(run, 'model/tokenizer_config.json'), 'utf8'));
    expect(runTokConfig[MATCH_MARKING_KEY]).toBe(true);

    const evalPreds = path.join(root, 'eval.jsonl');
    const e = runCli([
      'eval',
      '--run',
      run,
      '--data',
      data,
      '--split',
      'test',
      '--predictions',
      evalPreds,
      '--no-progress',
    ]);
    expect(e.code, e.stderr).toBe(0);
    const fromEval = readJsonLines(evalPreds).map((l) => l.logits as number[]);
    expect(fromEval).toHaveLength(60);

    const fromRun = predict(run, path.join(root, 'pred-run.jsonl'));
    expect(maxDiff(fromRun, fromEval)).toBeLessThan(1e-5);

    const x = runCli(['export', '--run', run, '--out', path.join(root, 'export'), '--format', 'onnx']);
    expect(x.code, x.stderr).toBe(0);
    const exportTok = JSON.parse(readFileSync(path.join(root, 'export/tokenizer_config.json'), 'utf8'));
    expect(exportTok[MATCH_MARKING_KEY]).toBe(true);
    expect(maxDiff(predict(path.join(root, 'export'), path.join(root, 'pred-onnx.jsonl')), fromEval)).toBeLessThan(
      1e-4,
    );

    // The same weights with the marking key taken out of the tokenizer: other input, other logits.
    const unmarked = path.join(root, 'unmarked');
    cpSync(path.join(run, 'model'), unmarked, { recursive: true });
    const { [MATCH_MARKING_KEY]: _, ...rest } = runTokConfig;
    writeFileSync(path.join(unmarked, 'tokenizer_config.json'), JSON.stringify(rest));
    expect(maxDiff(predict(unmarked, path.join(root, 'pred-unmarked.jsonl')), fromEval)).toBeGreaterThan(1e-3);
  });

  it('refuses marking where there is no pair to compare, in one line', () => {
    const r = runCli([
      'prepare',
      '--input',
      pairs,
      '--text-column',
      'query',
      '--label-column',
      'esci_label',
      '--tokenizer',
      vocabPath,
      '--set',
      'tokenizer.mark_matches=true',
      '--out',
      path.join(root, 'single'),
      '--no-progress',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'recsys: error: tokenizer.mark_matches marks the words a text pair shares: ' +
        'it needs a pair classifier (data.pair_column)',
    );
  });
});
