import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { loadConfig } from '../../src/config/load.js';
import type { MaskVocab } from '../../src/data/mlm-texts.js';
import type { SplitArrays } from '../../src/data/split-reader.js';
import { initParams, parseBertConfig } from '../../src/model/index.js';
import { trainLoop } from '../../src/train/loop.js';
import { mlmObjective } from '../../src/train/mlm-objective.js';
import { pretrainTrainConfig } from '../../src/train/pretrain.js';
import { tempDir } from '../helpers/cli.js';

beforeAll(async () => {
  await initBackend('tensorflow', { log: () => {} });
});

function blocks(n: number): SplitArrays {
  const offsets = Int32Array.from({ length: n + 1 }, (_, i) => i * 12);
  const ids = Int32Array.from({ length: n * 12 }, (_, k) => (k % 12 === 0 ? 2 : 5 + ((k * 7) % 40)));
  return {
    size: n,
    ids,
    typeIds: new Int8Array(ids.length),
    offsets,
    labels: new Int32Array(n),
    rows: new Float64Array(n),
  };
}

it('masked-LM pretraining: numTensors is the same after step 10 as after 60, and the loss falls', async () => {
  const model = {
    ...parseBertConfig(
      { vocab_size: 50, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32 },
      'test',
    ),
    head: 'masked_lm' as const,
  };
  const config = pretrainTrainConfig(
    loadConfig({
      sets: ['pretrain.max_steps=60', 'pretrain.epochs=50', 'pretrain.batch_size=8', 'pretrain.lr=0.01'].concat([
        'train.eval_every=5',
        'train.checkpoint_every=20',
        'train.grad_accum=2',
        'train.early_stopping.patience=1000',
      ]),
    }),
  );
  const vocab: MaskVocab = {
    maskId: 4,
    vocabSize: 50,
    special: Uint8Array.from({ length: 50 }, (_, i) => (i < 5 ? 1 : 0)),
    continuation: new Uint8Array(50),
  };
  const mask = { probability: 0.15, maskReplace: 0.8, randomReplace: 0.1, wholeWord: false };
  const train = blocks(64);
  const validation = blocks(16);
  const counts: Record<number, number> = {};
  const losses: number[] = [];
  const result = await trainLoop({
    config,
    runDir: path.join(tempDir(), 'run'),
    modelConfig: model,
    params: initParams(model, 1),
    train,
    validation,
    resume: false,
    objective: mlmObjective({
      modelConfig: model,
      train,
      validation,
      vocab,
      mask,
      seed: 1,
      padId: 0,
      evalBatchSize: 8,
    }),
    events: {
      step: ({ step, loss }) => {
        counts[step] = tf.memory().numTensors;
        losses.push(loss);
      },
    },
  });
  expect(result.steps).toBe(60);
  expect(result.best.metric).toBe('loss');
  expect(counts[60]).toBe(counts[10]);
  expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses.slice(0, 5).reduce((a, b) => a + b) / 5);
  expect([...result.params.keys()]).toContain('cls.predictions.bias');
  expect([...result.params.keys()]).not.toContain('bert.pooler.dense.weight');
  tf.dispose([...result.params.values()]);
});
