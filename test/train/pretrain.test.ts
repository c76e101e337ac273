import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { referencePython } from '../helpers/python.js';

/**
 * `recsys pretrain` against Hugging Face BertForMaskedLM + torch AdamW: the same checkpoint, the
 * same blocks and masks (recsys writes them with --dump-batches), dropout off. Then the result loads
 * in BertForMaskedLM.from_pretrained and fine-tunes with `recsys train --model RUN/model`.
 */
const STEPS = 20;
const reviews = path.join(repoRoot, 'configs/reviews.yaml');
let dir = '';

function python(args: string[]): string {
  const r = spawnSync(referencePython(), args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

const pretrainArgs = (model: string, out: string, ...extra: string[]) => [
  'pretrain',
  '-c',
  reviews,
  '--input',
  path.join(repoRoot, 'data/reviews.csv'),
  '--text-column',
  'review',
  '--model',
  model,
  '--out',
  out,
  '--max-length',
  '48',
  '--batch-size',
  '8',
  '--lr',
  '3e-4',
  '--backend',
  'tensorflow',
  '--no-progress',
  '--set',
  'pretrain.validation_split=0.02',
  ...extra,
];

const trainLosses = (run: string) =>
  readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((m) => m.type === 'train')
    .map((m) => m.loss as number);

let checkpoint = '';
let run = '';

beforeAll(() => {
  dir = tempDir('recsys-pretrain-');
  checkpoint = path.join(dir, 'mlm');
  python([path.join(repoRoot, 'scripts/pretrain_reference.py'), 'make', checkpoint]);
  run = path.join(dir, 'run');
  const batches = path.join(dir, 'batches.jsonl');
  const r = runCli([
    ...pretrainArgs(checkpoint, run, '--max-steps', String(STEPS), '--dump-batches', batches),
    '--set',
    'train.dropout=false',
    '--set',
    'train.warmup=2',
  ]);
  if (r.code !== 0) throw new Error(r.stderr);
});

describe('masked-LM pretraining vs Hugging Face BertForMaskedLM + torch AdamW (tensorflow backend)', () => {
  it(`the loss on fixed masks equals BertForMaskedLM's within 1e-4, and ${STEPS} steps within 1e-3`, () => {
    const out = path.join(dir, 'ref.json');
    python([
      path.join(repoRoot, 'scripts/pretrain_reference.py'),
      'train',
      checkpoint,
      path.join(dir, 'batches.jsonl'),
      out,
      '--total-steps',
      String(STEPS),
      '--warmup',
      '2',
    ]);
    const ref = JSON.parse(readFileSync(out, 'utf8')) as { losses: number[]; norms: Record<string, number> };
    const ours = trainLosses(run);
    expect(ours).toHaveLength(STEPS);
    expect(ref.losses).toHaveLength(STEPS);
    // step 1 is the same weights on the same masks: the masked-LM loss itself
    expect(Math.abs(ours[0] - ref.losses[0])).toBeLessThan(1e-4);
    const rel = ours.map((l, i) => Math.abs(l - ref.losses[i]) / Math.abs(ref.losses[i]));
    console.info(`[pretrain fidelity] max relative loss difference over ${STEPS} steps: ${Math.max(...rel)}`);
    expect(Math.max(...rel)).toBeLessThan(1e-3);
    expect(ours[STEPS - 1]).toBeLessThan(ours[0]);
    const norms = JSON.parse(
      python([
        '-c',
        'import sys, json\nfrom safetensors.numpy import load_file\nimport numpy as np\n' +
          'print(json.dumps({k: float(np.linalg.norm(v.astype(np.float64))) for k, v in ' +
          'load_file(sys.argv[1]).items()}))',
        path.join(run, 'model/model.safetensors'),
      ]),
    ) as Record<string, number>;
    const names = Object.keys(ref.norms);
    expect(names).toContain('cls.predictions.transform.dense.weight');
    const worst = Math.max(...names.map((n) => Math.abs(norms[n] - ref.norms[n]) / Math.max(1e-6, ref.norms[n])));
    expect(worst).toBeLessThan(1e-3);
  });

  it('the run reports masked-token loss and perplexity on the held-out text', () => {
    const summary = JSON.parse(readFileSync(path.join(run, 'train_summary.json'), 'utf8'));
    expect(summary.best_metric).toBe('loss');
    expect(summary.validation_perplexity).toBeCloseTo(Math.exp(summary.validation_loss), 6);
    expect(summary.last_eval.masked_tokens).toBeGreaterThan(50);
  });

  it('RUN/model loads in BertForMaskedLM.from_pretrained with every weight, the decoder tied', () => {
    const code =
      'import sys, json\nfrom transformers import BertForMaskedLM\n' +
      'm, info = BertForMaskedLM.from_pretrained(sys.argv[1], output_loading_info=True)\n' +
      'tied = m.cls.predictions.decoder.weight.data_ptr() == m.bert.embeddings.word_embeddings.weight.data_ptr()\n' +
      'print(json.dumps({k: sorted(v) for k, v in info.items()} | {"tied": tied, ' +
      '"arch": m.config.architectures}))';
    const info = JSON.parse(
      python(['-c', code, path.join(run, 'model')])
        .trim()
        .split('\n')
        .pop()!,
    );
    expect(info.missing_keys).toEqual([]);
    expect(info.unexpected_keys).toEqual([]);
    expect(info.mismatched_keys).toEqual([]);
    expect(info.tied).toBe(true);
    expect(info.arch).toEqual(['BertForMaskedLM']);
  });

  it('recsys train --model RUN/model fine-tunes the encoder and says the masked-LM head is dropped', () => {
    const ds = path.join(dir, 'ds');
    const prep = runCli(['prepare', '-c', reviews, '--out', ds, '--max-length', '32', '--no-progress']);
    expect(prep.code, prep.stderr).toBe(0);
    const r = runCli([
      'train',
      '-c',
      reviews,
      '--data',
      ds,
      '--model',
      path.join(run, 'model'),
      '--out',
      path.join(dir, 'fine-tuned'),
      '--max-steps',
      '2',
      '--backend',
      'tensorflow',
      '--no-progress',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("the checkpoint's masked-LM head (5 cls.predictions.* tensors) is dropped");
    expect(r.stderr).toContain('initialised a fresh head for 3 labels');
  });

  it('a BertForPreTraining checkpoint continues pretraining (its NSP head and pooler are dropped)', () => {
    const pt = path.join(dir, 'pretraining');
    python([path.join(repoRoot, 'scripts/pretrain_reference.py'), 'make', pt, '--arch', 'BertForPreTraining']);
    const r = runCli(pretrainArgs(pt, path.join(dir, 'continued'), '--max-steps', '1'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('no masked-LM head');
    expect(r.stderr).toMatch(/dropped 2 tensor\(s\) this head does not use: bert\.pooler\.dense\./);
    expect(r.stderr).toMatch(/ignored 2 unused tensor\(s\): cls\.seq_relationship/);
  });
});
