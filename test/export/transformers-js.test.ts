import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { exportRun } from '../../src/export/export.js';
import { makeLogger } from '../../src/lib/log.js';
import { bertLogits } from '../../src/model/index.js';
import { loadModelDir } from '../../src/infer/model-dir.js';
import { tempDir } from '../helpers/cli.js';
import { makeRun, type RunFixture } from './run-fixture.js';

/**
 * The ONNX export dir is a Hugging Face model dir that transformers.js loads as-is
 * (pipeline('text-classification', dir), local files only), with its own tokenizer, padding and
 * post-processing; its scores must equal recsys's own (tokenizer + tfjs forward + softmax).
 */

const root = tempDir('recsys-export-tjs-');
let run: RunFixture;
let out: string;

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  run = await makeRun(root, { sample: 'esci', datasetDir: path.join(root, 'esci-dataset'), seed: 11 });
  out = path.join(root, 'export');
  await exportRun({
    runDir: run.runDir,
    out,
    formats: ['onnx'],
    checkRows: 32,
    quantize: 'int8',
    log: makeLogger({ quiet: true }),
  });
});

async function recsysScores(texts: Array<string | { text: string; text_pair: string }>): Promise<number[][]> {
  const m = await loadModelDir(path.join(run.runDir, 'model'), { maxLength: 64 });
  const rows = texts.map((t) =>
    typeof t === 'string'
      ? m.tokenizer.encode(t, undefined, 64, 'longest_first')!
      : m.tokenizer.encode(t.text, t.text_pair, 64, 'longest_first')!,
  );
  const out: number[][] = [];
  for (const r of rows) {
    const shape: [number, number] = [1, r.ids.length];
    const inputs = {
      inputIds: tf.tensor2d(r.ids, shape, 'int32'),
      attentionMask: tf.ones(shape, 'int32') as tf.Tensor2D,
      tokenTypeIds: tf.tensor2d(r.typeIds, shape, 'int32'),
    };
    const logits = bertLogits(m.params, m.config, inputs);
    out.push(Array.from(tf.softmax(logits).dataSync()));
    tf.dispose([logits, ...Object.values(inputs)]);
  }
  return out;
}

describe('transformers.js loads the ONNX export dir as-is', () => {
  it('pipeline("text-classification", dir, {local_files_only}) recsys\'s labels and scores, padded batch', async () => {
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = path.dirname(out);
    const clf = await pipeline('text-classification', path.basename(out), { local_files_only: true, dtype: 'fp32' });
    const labels = run.labels;
    const texts = ['usb c charger 65w', 'red running shoes for men size 10 waterproof trail', 'gift'];
    const got = (await clf(texts, { top_k: null })) as Array<Array<{ label: string; score: number }>>;
    const want = await recsysScores(texts);
    got.forEach((scores, i) => {
      expect(scores).toHaveLength(labels.length);
      for (const { label, score } of scores) {
        expect(labels).toContain(label);
        expect(Math.abs(score - want[i][labels.indexOf(label)]), `${texts[i]} ${label}`).toBeLessThan(1e-4);
      }
    });
    const spread = Math.max(...want.map((w) => Math.max(...w.map((x, j) => Math.abs(x - want[0][j])))));
    expect(spread, 'scores must differ between inputs').toBeGreaterThan(1e-3);
    await clf.dispose();
  });

  it('AutoTokenizer + AutoModelForSequenceClassification: pairs (the pipeline takes single texts)', async () => {
    const { AutoTokenizer, AutoModelForSequenceClassification, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = path.dirname(out);
    const id = path.basename(out);
    const tokenizer = await AutoTokenizer.from_pretrained(id, { local_files_only: true });
    const model = await AutoModelForSequenceClassification.from_pretrained(id, {
      local_files_only: true,
      dtype: 'fp32',
    });
    const pairs = [
      { text: 'usb c charger', text_pair: 'Anker 65W USB-C wall charger, 2 ports' },
      { text: 'yoga mat', text_pair: 'Cast iron skillet 12 inch' },
    ];
    const inputs = tokenizer(
      pairs.map((p) => p.text),
      { text_pair: pairs.map((p) => p.text_pair), padding: true, truncation: true },
    );
    const { logits } = await model(inputs);
    const flat = Array.from(logits.data as Float32Array);
    const L = run.labels.length;
    const probs: number[] = [];
    for (let r = 0; r < flat.length / L; r++) {
      const row = flat.slice(r * L, (r + 1) * L);
      const m = Math.max(...row);
      const e = row.map((x) => Math.exp(x - m));
      const z = e.reduce((a, b) => a + b, 0);
      probs.push(...e.map((x) => x / z));
    }
    const want = (await recsysScores(pairs)).flat();
    expect(probs).toHaveLength(want.length);
    for (let i = 0; i < want.length; i++) expect(Math.abs(probs[i] - want[i])).toBeLessThan(1e-4);
    await model.dispose();
  });

  it('dtype "q8" loads onnx/model_quantized.onnx from the same dir; scores close to the float model', async () => {
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = path.dirname(out);
    const q8 = await pipeline('text-classification', path.basename(out), { local_files_only: true, dtype: 'q8' });
    const texts = ['usb c charger 65w', 'red running shoes for men size 10 waterproof trail', 'gift'];
    const got = (await q8(texts, { top_k: null })) as Array<Array<{ label: string; score: number }>>;
    const want = await recsysScores(texts);
    let maxDiff = 0;
    got.forEach((scores, i) => {
      for (const { label, score } of scores)
        maxDiff = Math.max(maxDiff, Math.abs(score - want[i][run.labels.indexOf(label)]));
    });
    expect(maxDiff).toBeGreaterThan(0); // the quantized file, not the float one
    expect(maxDiff).toBeLessThan(0.05);
    await q8.dispose();
  });
});
