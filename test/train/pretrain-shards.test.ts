import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { loadConfig } from '../../src/config/load.js';
import { mlmCorpus } from '../../src/data/mlm-corpus.js';
import { RECORD_ROWS } from '../../src/data/mlm-shards.js';
import { maskVocab } from '../../src/data/mlm-texts.js';
import type { SplitArrays } from '../../src/data/split-reader.js';
import { loadTokenizer } from '../../src/data/tokenizer/index.js';
import { initParams, parseBertConfig, type Params } from '../../src/model/index.js';
import { trainLoop } from '../../src/train/loop.js';
import { mlmObjective, type MlmObjectiveOptions } from '../../src/train/mlm-objective.js';
import { pretrainTrainConfig } from '../../src/train/pretrain.js';
import { repoRoot, tempDir, vocabPath } from '../helpers/cli.js';
import { readMlmTexts } from '../helpers/mlm-texts-in-memory.js';

/**
 * Pretraining on the text streamed into N shards and read back row by row (a few record batches in
 * memory) reaches the same weights, byte for byte, as pretraining on the same text held in memory
 * the way recsys pretrain did before: same rows, same order, same masks, dropout on.
 */
beforeAll(async () => {
  await initBackend('tensorflow', { log: () => {} });
});

const tokenizer = loadTokenizer({ path: vocabPath, lowercase: true, stripAccents: null });
const model = {
  ...parseBertConfig(
    {
      vocab_size: tokenizer.vocabSize,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 64,
    },
    'test',
  ),
  head: 'masked_lm' as const,
};
const config = pretrainTrainConfig(
  loadConfig({
    sets: [
      'pretrain.max_steps=12',
      'pretrain.batch_size=8',
      'pretrain.lr=0.003',
      'train.grad_accum=2',
      'train.eval_every=6',
      'train.checkpoint_every=100',
      'seed=3',
    ],
  }),
);
const text = {
  input: path.join(repoRoot, 'data/reviews.csv'),
  textColumn: 'review',
  maxLength: 32,
  packing: 'group_texts' as const,
  validationShare: 0.03,
  seed: 3,
  tokenizer,
};
const vocab = maskVocab(tokenizer, tokenizer.vocabSize, 'test');
const mask = { probability: 0.15, maskReplace: 0.8, randomReplace: 0.1, wholeWord: true };

async function pretrainOn(
  train: SplitArrays,
  validation: SplitArrays | null,
  rows: Pick<MlmObjectiveOptions, 'train' | 'validation' | 'lengths'>,
) {
  const losses: number[] = [];
  const result = await trainLoop({
    config,
    runDir: path.join(tempDir('recsys-pretrain-shards-'), 'run'),
    modelConfig: model,
    params: initParams(model, 3),
    train,
    validation,
    resume: false,
    objective: mlmObjective({ modelConfig: model, ...rows, vocab, mask, seed: 3, padId: 0, evalBatchSize: 16 }),
    events: { step: ({ loss }) => losses.push(loss) },
  });
  return { result, losses };
}

const bytesOf = (params: Params) =>
  new Map([...params].map(([n, t]) => [n, Buffer.from((t.dataSync() as Float32Array).buffer).toString('base64')]));

it('a corpus tokenized into N shards trains to the same weights as the same text in memory', async () => {
  const memory = await readMlmTexts({ ...text, format: 'auto' });
  const dir = tempDir('recsys-corpus-');
  const corpus = await mlmCorpus({
    ...text,
    inputSha256: 'sha',
    dir,
    shardRows: 600,
    workers: 1,
    maxBadRows: null,
    replace: false,
    cachedBatches: 4,
  });
  expect(corpus.manifest.splits.train.files.length).toBeGreaterThanOrEqual(5);
  const inMemory = await pretrainOn(memory.train, memory.validation, {
    train: memory.train,
    validation: memory.validation,
  });
  const sizeOnly = (size: number): SplitArrays => ({
    size,
    ids: new Int32Array(0),
    typeIds: new Int8Array(0),
    offsets: new Int32Array(1),
    labels: new Int32Array(0),
    rows: new Float64Array(0),
  });
  const sharded = await pretrainOn(sizeOnly(corpus.train.size), sizeOnly(corpus.validation!.size), {
    train: corpus.train,
    validation: corpus.validation,
    lengths: corpus.trainLengths,
  });
  expect(sharded.result.steps).toBe(12);
  expect(sharded.losses).toEqual(inMemory.losses);
  expect(sharded.result.lastEval).toEqual(inMemory.result.lastEval);
  expect(bytesOf(sharded.result.params)).toEqual(bytesOf(inMemory.result.params));
  // the rows came from disk a few record batches at a time, never the whole split
  expect(corpus.train.size).toBeGreaterThan(8 * RECORD_ROWS);
  expect(corpus.train.stats.maxRowsHeld).toBeLessThanOrEqual(4 * RECORD_ROWS);
  expect(corpus.validation!.stats.maxRowsHeld).toBeLessThanOrEqual(4 * RECORD_ROWS);
  corpus.train.close();
  corpus.validation?.close();
  for (const r of [inMemory, sharded]) tf.dispose([...r.result.params.values()]);
}, 60_000);
