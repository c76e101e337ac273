import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';

/**
 * Preemption before the first checkpoint: a scheduler re-runs the same command line with --resume.
 * kill -9 inside step 3 (the first checkpoint is at step 8), then --resume must start from step 0 and
 * end with the weights and metrics of the uninterrupted run, for train and for pretrain (and from a
 * checkpoint, as before). A run dir made with another config is still refused.
 */
let dir = '';
let dataset = '';
let tiny = '';
const COMMON = ['--backend', 'tensorflow', '--max-steps', '12', '--set', 'train.checkpoint_every=8', '--no-progress'];
const trainArgs = (out: string) => [
  'train',
  '-c',
  path.join(repoRoot, 'configs/intent.yaml'),
  '--data',
  dataset,
  '--model',
  tiny,
  '--out',
  out,
  '--batch-size',
  '16',
  '--lr',
  '1e-3',
  '--set',
  'train.eval_every=6',
  ...COMMON,
];
const pretrainArgs = (out: string) => [
  'pretrain',
  '-c',
  path.join(repoRoot, 'configs/intent.yaml'),
  '--input',
  path.join(repoRoot, 'data/intent.csv'),
  '--text-column',
  'query',
  '--model',
  tiny,
  '--out',
  out,
  '--max-length',
  '32',
  '--batch-size',
  '16',
  '--lr',
  '1e-3',
  '--set',
  'train.eval_every=6',
  '--set',
  'pretrain.whole_word_masking=true',
  ...COMMON,
];

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const metricLines = (run: string) =>
  readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .map(({ samples_per_s: _s, time_s: _t, ...rest }) => rest);

beforeAll(() => {
  dir = tempDir('recsys-kill-first-');
  dataset = path.join(dir, 'ds');
  const prep = runCli([
    'prepare',
    '-c',
    path.join(repoRoot, 'configs/intent.yaml'),
    '--out',
    dataset,
    '--max-length',
    '24',
  ]);
  if (prep.code !== 0) throw new Error(prep.stderr);
  tiny = path.join(dir, 'tiny.json');
  writeFileSync(
    tiny,
    JSON.stringify({
      model_type: 'bert',
      vocab_size: 30522,
      hidden_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 64,
      max_position_embeddings: 64,
    }),
  );
});

describe.each([
  ['train', trainArgs],
  ['pretrain', pretrainArgs],
])('kill -9 before the first checkpoint of %s, then --resume', (_name, args) => {
  it('starts from step 0 with a note and ends with the weights of the uninterrupted run', () => {
    const reference = path.join(dir, `${_name}-reference`);
    const full = runCli(args(reference));
    expect(full.code, full.stderr).toBe(0);

    const cut = path.join(dir, `${_name}-cut`);
    const killed = runCli(args(cut), { env: { RECSYS_FAULT: 'step:3' } });
    expect(killed.code, 'the run was not killed').not.toBe(0);
    expect(existsSync(path.join(cut, 'config.yaml')), 'the run had started').toBe(true);
    expect(existsSync(path.join(cut, 'last'))).toBe(false);

    const resumed = runCli([...args(cut), '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`${cut}: no checkpoint yet; starting from step 0`);
    expect(sha(path.join(cut, 'model/weights.bin'))).toBe(sha(path.join(reference, 'model/weights.bin')));
    expect(metricLines(cut)).toEqual(metricLines(reference));
  });

  it('killed after a checkpoint (step 10 of 12), --resume continues from it to the same weights', () => {
    const reference = path.join(dir, `${_name}-reference`);
    const cut = path.join(dir, `${_name}-late`);
    const killed = runCli(args(cut), { env: { RECSYS_FAULT: 'step:10' } });
    expect(killed.code, 'the run was not killed').not.toBe(0);
    expect(existsSync(path.join(cut, 'last'))).toBe(true);
    const resumed = runCli([...args(cut), '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resuming from step 8');
    expect(sha(path.join(cut, 'model/weights.bin'))).toBe(sha(path.join(reference, 'model/weights.bin')));
    expect(metricLines(cut)).toEqual(metricLines(reference));
  });

  it('a run dir made with another config is refused, naming the key', () => {
    const cut = path.join(dir, `${_name}-other`);
    const killed = runCli(args(cut), { env: { RECSYS_FAULT: 'step:2' } });
    expect(killed.code).not.toBe(0);
    const r = runCli([...args(cut), '--lr', '2e-3', '--resume']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds a run made with another config \((pretrain|train)\.lr: [^ ]+ there, 0\.002 now/);
  });
});
