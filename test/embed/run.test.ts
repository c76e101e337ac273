import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { runEmbed, type EmbedOptions } from '../../src/embed/run.js';
import { openModel, type InferenceModel } from '../../src/infer/model.js';
import { makeLogger } from '../../src/lib/log.js';
import { repoRoot, tempDir, vocabPath } from '../helpers/cli.js';

/** embed/run.ts in process: no tensor leak across batches, and a model without hidden states refused. */

const root = tempDir('recsys-embed-run-');
const log = makeLogger({ quiet: true });
const modelDir = path.join(root, 'model');
const input = path.join(root, 'rows.csv');

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  // The reference checkpoint (vocab_size 1000) with the first 1000 entries of the WordPiece vocab.
  mkdirSync(modelDir);
  const fixture = path.join(repoRoot, 'test/fixtures/reference/cls-l2-h64');
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(path.join(fixture, f), path.join(modelDir, f));
  const vocab = readFileSync(vocabPath, 'utf8').split('\n').slice(0, 1000);
  writeFileSync(path.join(modelDir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  const texts = ['a', 'a b c d e f g', 'a b', '""', 'a b c d', 'a b c d e f g h i j k', 'a', 'b c', 'd e f'];
  writeFileSync(input, `text\n${texts.join('\n')}\n`);
});

const options = (out: string): EmbedOptions => ({
  ref: modelDir,
  input,
  format: 'auto',
  textColumn: 'text',
  out,
  pooling: 'mean',
  normalize: true,
  batchSize: 2,
  maxBadRows: null,
  overwrite: false,
});

describe('runEmbed', () => {
  it('keeps the tensor count flat across batches and frees the model at the end', async () => {
    const start = tf.memory().numTensors;
    const model = await openModel(modelDir, { backend: 'cpu', log });
    const hidden = model.hidden!;
    const counts: number[] = [];
    model.hidden = async (rows) => {
      const h = await hidden(rows);
      counts.push(tf.memory().numTensors);
      return h;
    };
    const s = await runEmbed(model, options(path.join(root, 'out-memory')));
    expect(s.embedded).toBe(8);
    expect(s.rejected).toBe(1);
    expect(counts.length).toBe(4);
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('refuses a model that has logits only (an ONNX export without last_hidden_state), in one line', async () => {
    let closed = false;
    const onnxOnly = {
      kind: 'export',
      modelPath: '/exports/shop/onnx/model.onnx',
      messages: [],
      close: async () => {
        closed = true;
      },
    } as unknown as InferenceModel;
    const out = path.join(root, 'out-onnx');
    await expect(runEmbed(onnxOnly, options(out))).rejects.toThrow(
      '/exports/shop/onnx/model.onnx: this ONNX file has logits only (no last_hidden_state output); ' +
        'embed with the run or the Hugging Face model dir it was exported from',
    );
    expect(closed).toBe(true);
    expect(existsSync(out)).toBe(false);
  });
});
