import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { loadConfig } from '../../src/config/load.js';
import type { DatasetManifest } from '../../src/data/manifest.js';
import type { TokenColumn, TripletSplit } from '../../src/data/triplet-shards.js';
import { initParams, parseBertConfig } from '../../src/model/index.js';
import { trainLoop } from '../../src/train/loop.js';
import { embeddingObjective } from '../../src/train/embedding-objective.js';
import { tempDir } from '../helpers/cli.js';
import { syntheticSplit } from '../helpers/synthetic-split.js';

beforeAll(async () => {
  await initBackend('tensorflow', { log: () => {} });
});

// train.compiled=off takes the eager step, on the compiled one (one graph per step), with and without accumulation
it.each([
  { accum: 2, compiled: 'off' },
  { accum: 1, compiled: 'on' },
  { accum: 2, compiled: 'on' },
])(
  'numTensors is the same after step 10 as after 100 (training, evaluation, best weights, checkpoints), ' +
    'grad_accum $accum, compiled $compiled',
  async ({ accum, compiled }) => {
    const config = parseBertConfig(
      {
        vocab_size: 50,
        hidden_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        intermediate_size: 32,
        max_position_embeddings: 32,
        id2label: { 0: 'a', 1: 'b', 2: 'c' },
      },
      'test',
    );
    const recsys = loadConfig({
      sets: [
        'train.max_steps=100',
        'train.epochs=10',
        'train.early_stopping.patience=1000',
        'train.batch_size=8',
        'train.eval_every=5',
        'train.checkpoint_every=25',
        `train.grad_accum=${accum}`,
        `train.compiled=${compiled}`,
        'train.class_weights=balanced',
      ],
    });
    const manifest = { tokenizer: { special_ids: { pad: 0 } } } as unknown as DatasetManifest;
    const counts: Record<number, number> = {};
    const bytes: Record<number, number> = {};
    const params = initParams(config, 1);
    const paramBytes = [...params.values()].reduce((a, p) => a + p.size * 4, 0);
    const result = await trainLoop({
      config: recsys,
      manifest,
      runDir: path.join(tempDir(), 'run'),
      modelConfig: config,
      params,
      train: syntheticSplit(200, 3),
      validation: syntheticSplit(40, 3),
      resume: false,
      events: {
        step: ({ step }) => {
          counts[step] = tf.memory().numTensors;
          bytes[step] = tf.memory().numBytes;
        },
      },
    });
    expect(result.steps).toBe(100);
    expect(counts[10]).toBeGreaterThan(0);
    expect(counts[100]).toBe(counts[10]);
    // The compiled step's graph owns the moments: tfjs holds the weights and the best weights, and no
    // eager AdamW moments beside them (two more copies of every weight).
    if (compiled === 'on') expect(bytes[100] / paramBytes).toBeLessThan(2.5);
    tf.dispose([...result.params.values()]);
  },
);

function syntheticTriplets(n: number): TripletSplit {
  const column = (salt: number, everyOther = false): TokenColumn => {
    const offsets = new Int32Array(n + 1);
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      if (!everyOther || i % 2 === 0) {
        const len = 3 + ((i + salt) % 7);
        // i % 10: duplicate texts meet in batches, so the exclusion masks are built too
        ids.push(2, ...Array.from({ length: len - 2 }, (_, j) => 5 + (((i % 10) * 7 + j + salt) % 40)), 3);
      }
      offsets[i + 1] = ids.length;
    }
    return { ids: Int32Array.from(ids), offsets };
  };
  return {
    size: n,
    anchor: column(0),
    positive: column(1),
    negative: column(2, true),
    rows: Float64Array.from({ length: n }, (_, i) => i + 1),
  };
}

it('task embedding: numTensors is the same after step 10 as after 60 (in-batch loss, retrieval eval)', async () => {
  const config = parseBertConfig(
    {
      vocab_size: 50,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 32,
      id2label: { 0: 'LABEL_0' },
    },
    'test',
  );
  const recsys = loadConfig({
    sets: [
      'task=embedding',
      'train.max_steps=60',
      'train.epochs=10',
      'train.early_stopping.patience=1000',
      'train.batch_size=8',
      'train.eval_every=5',
      'train.checkpoint_every=25',
      'train.grad_accum=2',
      'train.mnrl_symmetric=true',
    ],
  });
  const manifest = { tokenizer: { special_ids: { pad: 0 } } } as unknown as DatasetManifest;
  const counts: Record<number, number> = {};
  const empty = syntheticSplit(0, 1);
  const result = await trainLoop({
    config: recsys,
    manifest,
    runDir: path.join(tempDir(), 'run'),
    modelConfig: config,
    params: initParams(config, 1),
    train: empty,
    validation: null,
    objective: embeddingObjective(recsys, config, 0, {
      train: syntheticTriplets(120),
      validation: syntheticTriplets(30),
    }),
    resume: false,
    events: {
      step: ({ step }) => {
        counts[step] = tf.memory().numTensors;
      },
    },
  });
  expect(result.steps).toBe(60);
  expect(result.lastEval?.['ndcg@10']).toBeTypeOf('number');
  expect(counts[10]).toBeGreaterThan(0);
  expect(counts[60]).toBe(counts[10]);
  tf.dispose([...result.params.values()]);
});
