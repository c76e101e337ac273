import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { referencePython } from '../helpers/python.js';

/**
 * The regression and multi-label heads against Hugging Face BertForSequenceClassification (its own
 * MSE / BCE-with-logits loss, picked from problem_type) + torch AdamW: the same checkpoint, the same
 * batches in the same order (--dump-batches), dropout off. The checkpoint carries its problem_type,
 * so this is also the import of such checkpoints.
 */
const STEPS = 20;
/** Two CLI runs and a torch run per test on a shared machine: minutes, not the default two. */
const TIMEOUT = 900_000;
let dir = '';

function python(args: string[]): string {
  const r = spawnSync(referencePython(), args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

interface Case {
  config: string;
  task: string;
  dataset: string;
  checkpoint: string;
  labels: string[];
}
const cases: Record<string, Case> = {};

function prepareCase(name: string, config: string, task: string, maxLength: number): void {
  const dataset = path.join(dir, `${name}-ds`);
  const prep = runCli([
    'prepare',
    '-c',
    path.join(repoRoot, config),
    '--out',
    dataset,
    '--max-length',
    String(maxLength),
    '--json',
  ]);
  if (prep.code !== 0) throw new Error(prep.stderr);
  const labels = JSON.parse(prep.stdout).labels as string[];
  const checkpoint = path.join(dir, `${name}-ckpt`);
  python([
    path.join(repoRoot, 'scripts/make_small_checkpoint.py'),
    checkpoint,
    '--labels',
    labels.join(','),
    '--problem-type',
    task,
  ]);
  cases[name] = { config, task, dataset, checkpoint, labels };
}

beforeAll(() => {
  dir = tempDir('recsys-fidelity-heads-');
  prepareCase('regression', 'configs/regression.yaml', 'regression', 24);
  prepareCase('multilabel', 'configs/multilabel.yaml', 'multi_label_classification', 24);
});

function trainBoth(c: Case, name: string, extra: string[], refExtra: string[] = []) {
  const run = path.join(dir, name);
  const batches = path.join(dir, `${name}.batches.jsonl`);
  const r = runCli([
    'train',
    '-c',
    path.join(repoRoot, c.config),
    '--data',
    c.dataset,
    '--model',
    c.checkpoint,
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
    c.checkpoint,
    c.dataset,
    batches,
    out,
    '--total-steps',
    String(STEPS),
    '--warmup',
    '2',
    ...refExtra,
  ]);
  const ref = JSON.parse(readFileSync(out, 'utf8')) as { losses: number[]; norms: Record<string, number> };
  const ours = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((m) => m.type === 'train')
    .map((m) => m.loss as number);
  const rel = ours.map((l, i) => Math.abs(l - ref.losses[i]) / Math.abs(ref.losses[i]));
  console.info(
    `[fidelity ${name}] max relative loss difference over ${STEPS} steps: ${Math.max(...rel).toExponential(2)}`,
  );
  return { run, ref, ours, rel };
}

/** What Hugging Face reads back from the run's model dir. */
function hfConfig(run: string): { problem_type: string; num_labels: number } {
  const code =
    'import sys, json\nfrom transformers import AutoConfig\nc = AutoConfig.from_pretrained(sys.argv[1])\n' +
    'print(json.dumps({"problem_type": c.problem_type, "num_labels": c.num_labels}))';
  return JSON.parse(python(['-c', code, path.join(run, 'model')]));
}

describe('regression and multi-label training fidelity vs Hugging Face + torch (tensorflow backend)', () => {
  it(
    `regression (MSE): every step's loss within 1e-3 relative for ${STEPS} steps; HF reloads it as regression`,
    () => {
      const { run, ours, ref, rel } = trainBoth(cases.regression, 'regression', []);
      expect(ours).toHaveLength(STEPS);
      expect(ref.losses).toHaveLength(STEPS);
      expect(Math.max(...rel)).toBeLessThan(1e-3);
      expect(ours[STEPS - 1]).toBeLessThan(ours[0]);
      expect(hfConfig(run)).toEqual({ problem_type: 'regression', num_labels: 1 });
    },
    TIMEOUT,
  );

  it(
    `multi-label (BCE-with-logits): every step's loss within 1e-3 relative for ${STEPS} steps`,
    () => {
      const c = cases.multilabel;
      const { run, ours, ref, rel } = trainBoth(c, 'multilabel', []);
      expect(ours).toHaveLength(STEPS);
      expect(Math.max(...rel)).toBeLessThan(1e-3);
      expect(ours[STEPS - 1]).toBeLessThan(ours[0]);
      expect(hfConfig(run)).toEqual({ problem_type: 'multi_label_classification', num_labels: c.labels.length });
      const t = JSON.parse(readFileSync(path.join(run, 'model/thresholds.json'), 'utf8'));
      expect(t.labels).toEqual(c.labels);
      expect(t.thresholds).toHaveLength(c.labels.length);
      expect(ref.losses).toHaveLength(STEPS);
    },
    TIMEOUT,
  );

  it(
    'multi-label pos_weight (balanced) weighs the loss exactly as BCEWithLogitsLoss(pos_weight=…)',
    () => {
      const c = cases.multilabel;
      const m = JSON.parse(readFileSync(path.join(c.dataset, 'manifest.json'), 'utf8'));
      const rows = m.splits.train.rows as number;
      const posWeight = c.labels.map((l) => (rows - m.splits.train.label_counts[l]) / m.splits.train.label_counts[l]);
      const { ours, rel } = trainBoth(
        c,
        'multilabel-pw',
        ['--set', 'train.pos_weight=balanced'],
        ['--pos-weight', posWeight.join(',')],
      );
      expect(Math.max(...rel)).toBeLessThan(1e-3);
      const plain = readFileSync(path.join(dir, 'multilabel', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((x) => x.type === 'train');
      expect(Math.abs(plain[0].loss - ours[0])).toBeGreaterThan(1e-3); // the weights do change the loss
    },
    TIMEOUT,
  );
});
