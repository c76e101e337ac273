import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { referencePython } from '../helpers/python.js';

/**
 * recsys's trainer against Hugging Face BERT + torch AdamW on the same checkpoint, the same
 * batches in the same order (recsys writes them with --dump-batches), dropout off.
 */
const STEPS = 20;
let dir = '';
let dataset = '';
let checkpoint = '';
let labels: string[] = [];

function python(args: string[]): void {
  const r = spawnSync(referencePython(), args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(r.stderr);
}

beforeAll(() => {
  dir = tempDir('recsys-fidelity-');
  dataset = path.join(dir, 'ds');
  const prep = runCli([
    'prepare',
    '-c',
    path.join(repoRoot, 'configs/intent.yaml'),
    '--out',
    dataset,
    '--max-length',
    '24',
    '--json',
  ]);
  if (prep.code !== 0) throw new Error(prep.stderr);
  labels = JSON.parse(prep.stdout).labels;
  checkpoint = path.join(dir, 'ckpt');
  python([path.join(repoRoot, 'scripts/make_small_checkpoint.py'), checkpoint, '--labels', labels.join(',')]);
});

function trainBoth(name: string, extra: string[], classWeights?: number[]) {
  const run = path.join(dir, name);
  const batches = path.join(dir, `${name}.batches.jsonl`);
  const r = runCli([
    'train',
    '-c',
    path.join(repoRoot, 'configs/intent.yaml'),
    '--data',
    dataset,
    '--model',
    checkpoint,
    '--out',
    run,
    '--max-steps',
    String(STEPS),
    '--batch-size',
    '16',
    '--lr',
    '3e-4',
    '--backend',
    'tensorflow',
    '--dump-batches',
    batches,
    '--set',
    'train.dropout=false',
    '--set',
    'train.warmup=2',
    '--set',
    'train.clip_norm=1.0',
    ...extra,
  ]);
  expect(r.code, r.stderr).toBe(0);
  const out = path.join(dir, `${name}.ref.json`);
  python([
    path.join(repoRoot, 'scripts/train_reference.py'),
    checkpoint,
    dataset,
    batches,
    out,
    '--total-steps',
    String(STEPS),
    '--warmup',
    '2',
    ...(classWeights ? ['--class-weights', classWeights.join(',')] : []),
  ]);
  const ref = JSON.parse(readFileSync(out, 'utf8')) as { losses: number[]; norms: Record<string, number> };
  const ours = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((m) => m.type === 'train')
    .map((m) => m.loss as number);
  return { run, ref, ours };
}

function weightNorms(run: string): Record<string, number> {
  const code =
    'import sys, json\nfrom safetensors.numpy import load_file\nimport numpy as np\n' +
    'print(json.dumps({k: float(np.linalg.norm(v.astype(np.float64))) for k, v in load_file(sys.argv[1]).items()}))';
  const r = spawnSync(referencePython(), ['-c', code, path.join(run, 'model/model.safetensors')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe('training fidelity vs Hugging Face + torch AdamW (tensorflow backend)', () => {
  it(`matches every step's loss within 1e-3 (relative) for ${STEPS} steps, and the final weights`, () => {
    const { run, ref, ours } = trainBoth('plain', []);
    expect(ours).toHaveLength(STEPS);
    expect(ref.losses).toHaveLength(STEPS);
    const rel = ours.map((l, i) => Math.abs(l - ref.losses[i]) / Math.abs(ref.losses[i]));
    console.info(`[fidelity] max relative loss difference over ${STEPS} steps: ${Math.max(...rel).toExponential(2)}`);
    expect(Math.max(...rel)).toBeLessThan(1e-3);
    expect(ours[STEPS - 1]).toBeLessThan(ours[0]); // it learns
    const norms = weightNorms(run);
    const names = Object.keys(ref.norms);
    expect(names.length).toBeGreaterThan(30);
    const worst = Math.max(...names.map((n) => Math.abs(norms[n] - ref.norms[n]) / Math.max(1e-6, ref.norms[n])));
    console.info(`[fidelity] max relative weight-norm difference after ${STEPS} steps: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-3);
  });

  it('class weights (balanced) weight the loss exactly as torch CrossEntropyLoss(weight=…)', () => {
    const m = JSON.parse(readFileSync(path.join(dataset, 'manifest.json'), 'utf8'));
    const counts = labels.map((l) => m.splits.train.label_counts[l] as number);
    const total = counts.reduce((a, b) => a + b, 0);
    const balanced = counts.map((c) => total / (labels.length * c));
    const { ref, ours } = trainBoth('balanced', ['--set', 'train.class_weights=balanced'], balanced);
    const rel = ours.map((l, i) => Math.abs(l - ref.losses[i]) / Math.abs(ref.losses[i]));
    expect(Math.max(...rel)).toBeLessThan(1e-3);
    const plain = readFileSync(path.join(dir, 'plain', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((x) => x.type === 'train');
    expect(Math.abs(plain[0].loss - ours[0])).toBeGreaterThan(1e-3); // the weights do change the loss
  });
});
