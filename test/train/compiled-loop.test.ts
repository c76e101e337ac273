import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { loadGraphGradients } from '../../src/backend/graph-gradients.js';
import { initBackend, loadedNative } from '../../src/backend/index.js';
import { cacheRoot } from '../../src/backend/native.js';
import { loadConfig } from '../../src/config/load.js';
import type { DatasetManifest } from '../../src/data/manifest.js';
import { initParams, parseBertConfig } from '../../src/model/index.js';
import { trainLoop } from '../../src/train/loop.js';
import { tempDir } from '../helpers/cli.js';
import { requirement } from '../helpers/python.js';
import { syntheticSplit } from '../helpers/synthetic-split.js';

/**
 * The trainer on the compiled step against the trainer on the eager step, through the whole loop
 * (micro-batches of several lengths, per-micro-batch dropout seeds, clipping, schedule, evaluation,
 * checkpoints): the same loss at every step and the same weights at the end.
 */

let why: string | null = null;
beforeAll(async () => {
  await initBackend('tensorflow', { log: () => {} });
  if (!loadGraphGradients(loadedNative())) why = 'the graph gradients addon is not built (`npm run setup:native`)';
});

type Head = 'single_label_classification' | 'regression' | 'multi_label_classification';

const modelConfigOf = (head: Head) =>
  parseBertConfig(
    {
      vocab_size: 50,
      hidden_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 32,
      id2label: { 0: 'a', 1: 'b', 2: 'c' },
      problem_type: head,
    },
    'test',
  );

/** A split with the head's targets: class ids, three numbers per row, or three 0/1 labels per row. */
function split(n: number, head: Head) {
  const s = syntheticSplit(n, 3);
  if (head === 'single_label_classification') return s;
  const targets = Float32Array.from({ length: n * 3 }, (_, k) =>
    head === 'regression' ? Math.sin(k) * 2 + 1 : (k * 7) % 5 < 2 ? 1 : 0,
  );
  return { ...s, targets, width: 3 };
}

async function train(compiled: 'on' | 'off', accum: number, head: Head = 'single_label_classification') {
  const modelConfig = modelConfigOf(head);
  const runDir = path.join(tempDir(), 'run');
  const said: string[] = [];
  const result = await trainLoop({
    config: loadConfig({
      sets: [
        'train.max_steps=12',
        'train.epochs=3',
        'train.batch_size=6',
        'train.eval_every=5',
        'train.lr=5e-3',
        'train.clip_norm=0.5',
        `train.grad_accum=${accum}`,
        `train.compiled=${compiled}`,
        `task=${head}`,
        ...(head === 'multi_label_classification' ? ['train.pos_weight=balanced'] : []),
      ],
    }),
    manifest: { tokenizer: { special_ids: { pad: 0 } } } as unknown as DatasetManifest,
    runDir,
    modelConfig,
    params: initParams(modelConfig, 2),
    train: split(90, head),
    validation: split(20, head),
    resume: false,
    events: { log: (m) => said.push(m) },
  });
  const records = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const losses = records.filter((r) => r.type === 'train').map((r) => r.loss as number);
  const validation = records.filter((r) => r.type === 'eval').map((r) => r.loss as number); // flat on disk
  return { result, losses, validation, said };
}

it.each([
  { accum: 1, head: 'single_label_classification' as const },
  { accum: 3, head: 'single_label_classification' as const },
  { accum: 1, head: 'regression' as const },
  { accum: 2, head: 'multi_label_classification' as const },
])(
  '$head, grad_accum $accum: compiled and eager trainers give the same losses and weights',
  async ({ accum, head }) => {
    requirement(why).require();
    const eager = await train('off', accum, head);
    const before = Date.now() - 1000;
    const compiled = await train('on', accum, head);
    // its validation passes ran the compiled forward graph: the graph cache has an entry used since
    const infer = path.join(cacheRoot(), 'compiled-infer');
    const used = readdirSync(infer).map((d) => statSync(path.join(infer, d)).mtimeMs);
    expect(Math.max(...used)).toBeGreaterThanOrEqual(before);
    expect(compiled.said.some((m) => m.startsWith('compiled training step'))).toBe(true);
    expect(eager.said.some((m) => m.startsWith('compiled training step'))).toBe(false);
    expect(compiled.losses.length).toBe(12);
    // validation: the compiled forward graph on the compiled run, the eager pass on the eager one
    expect(compiled.validation.length).toBeGreaterThan(1);
    for (const [i, loss] of compiled.validation.entries())
      expect(Math.abs(loss - eager.validation[i]) / Math.abs(eager.validation[i]), `eval ${i}`).toBeLessThan(1e-4);
    for (const [i, loss] of compiled.losses.entries())
      expect(Math.abs(loss - eager.losses[i]) / Math.abs(eager.losses[i]), `step ${i + 1}`).toBeLessThan(1e-5);
    for (const [name, w] of compiled.result.params) {
      if (name.endsWith('attention.self.key.bias')) continue; // zero true gradient: rounding noise (see compiled-step)
      const [a, b] = tf.tidy(() => [tf.norm(w).dataSync()[0], tf.norm(eager.result.params.get(name)!).dataSync()[0]]);
      expect(Math.abs(a - b) / Math.max(b, 1e-3), name).toBeLessThan(1e-4);
    }
    tf.dispose([...compiled.result.params.values(), ...eager.result.params.values()]);
  },
  120_000,
);
