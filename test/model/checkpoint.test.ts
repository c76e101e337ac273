import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/lib/errors.js';
import { bertForward } from '../../src/model/bert.js';
import { loadCheckpoint, saveCheckpoint, saveHfModel } from '../../src/model/checkpoint.js';
import { importHfModel } from '../../src/model/import.js';
import { disposeParams, type Params } from '../../src/model/params.js';
import { parseSafetensors } from '../../src/model/safetensors.js';
import { py, reference, referencePython } from '../helpers/python.js';
import { FIXTURES, inputsOf, maxAbsDiff, readVectors, ROOT } from './parity-suite.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
const tmp = mkdtempSync(path.join(os.tmpdir(), 'recsys-ckpt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function bytesOf(params: Params): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const [k, t] of params) out.set(k, Buffer.from(((await t.data()) as Float32Array).buffer));
  return out;
}

async function expectBitEqual(a: Params, b: Params): Promise<void> {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  const ba = await bytesOf(a);
  const bb = await bytesOf(b);
  for (const [k, buf] of ba) {
    expect(b.get(k)!.shape, k).toEqual(a.get(k)!.shape);
    expect(buf.equals(bb.get(k)!), k).toBe(true);
  }
}

describe('native checkpoint (model.json + weights.bin)', () => {
  it('round-trips config, labels, metadata and every weight bit for bit', async () => {
    const m = await importHfModel(path.join(FIXTURES, 'cls-gelu-new'), { id2label: ['bad', 'good'] });
    const dir = path.join(tmp, 'native');
    await saveCheckpoint(dir, m.config, m.params, { step: 17, dataset: 'abc' });
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']); // no temp files left
    const manifest = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(manifest.format).toBe('recsys-bert');
    expect(manifest.modelTopology.config.hidden_act).toBe('gelu_new');
    expect(manifest.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(manifest.weightsManifest[0].weights[0]).toEqual({
      name: 'bert.embeddings.word_embeddings.weight',
      shape: [300, 32],
      dtype: 'float32',
    });
    const before = tf.memory().numTensors;
    const back = await loadCheckpoint(dir);
    expect(tf.memory().numTensors - before).toBe(m.params.size); // exactly the parameters, nothing else
    expect(back.config).toEqual(m.config);
    expect(back.metadata).toEqual({ step: 17, dataset: 'abc' });
    await expectBitEqual(m.params, back.params);
    disposeParams(m.params);
    disposeParams(back.params);
  });

  it('refuses a weights.bin that does not belong to its model.json', async () => {
    const m = await importHfModel(path.join(FIXTURES, 'cls-relu'));
    const dir = path.join(tmp, 'mismatch');
    await saveCheckpoint(dir, m.config, m.params);
    const bin = path.join(dir, 'weights.bin');
    const bytes = readFileSync(bin);
    bytes[100] ^= 1;
    writeFileSync(bin, bytes);
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      `${dir}: weights.bin does not match the sha256 in model.json: corrupt or from another save`,
    );
    writeFileSync(bin, bytes.subarray(0, 1000));
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      `${dir}: weights.bin has 1000 bytes, model.json says ${bytes.length}: incomplete or from another save`,
    );
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ format: 'layers-model' }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      'not a recsys checkpoint (format "layers-model", expected "recsys-bert")',
    );
    const modelJson = path.join(dir, 'model.json');
    const notObject = 'not a recsys checkpoint (not a JSON object)';
    for (const [text, why] of [
      ['null', notObject],
      ['7', notObject],
      ['{"format": "recsys-bert",', 'cannot read the checkpoint ('],
    ]) {
      writeFileSync(modelJson, text);
      const err = await loadCheckpoint(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message.startsWith(`${modelJson}: ${why}`), (err as Error).message).toBe(true);
    }
    disposeParams(m.params);
  });
});

describe('Hugging Face export (config.json + model.safetensors)', () => {
  it('writes PyTorch layout under HF names and re-imports bit for bit', async () => {
    const m = await importHfModel(path.join(FIXTURES, 'cls-l2-h64'), { id2label: ['a', 'b', 'c', 'd'], seed: 3 });
    const dir = path.join(tmp, 'hf');
    await saveHfModel(dir, m.config, m.params);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors']);
    const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({
      architectures: ['BertForSequenceClassification'],
      model_type: 'bert',
      id2label: { 0: 'a', 3: 'd' },
      label2id: { a: 0, d: 3 },
    });
    const st = parseSafetensors(readFileSync(path.join(dir, 'model.safetensors')), 'x');
    expect(st.tensors.get('bert.encoder.layer.0.intermediate.dense.weight')!.shape).toEqual([256, 64]); // [out, in]
    expect(st.tensors.get('classifier.weight')!.shape).toEqual([4, 64]);
    // Kernels are the transposes of the original file's (untouched tensors compare exactly).
    const orig = parseSafetensors(readFileSync(path.join(FIXTURES, 'cls-l2-h64', 'model.safetensors')), 'y');
    for (const [name, e] of orig.tensors) {
      if (name.startsWith('classifier.')) continue;
      expect(Buffer.from(st.tensors.get(name)!.values.buffer).equals(Buffer.from(e.values.buffer)), name).toBe(true);
    }
    const back = await importHfModel(dir);
    expect(back.report.initialized).toEqual([]);
    expect(back.config).toEqual(m.config);
    await expectBitEqual(m.params, back.params);
    disposeParams(m.params);
    disposeParams(back.params);
  });
});

// --- Hugging Face loads what recsys saved (needs the reference venv; see scripts/make_reference.py) ---

// The reference venv (scripts/setup-python.sh, run by `npm run test:full`): missing, the check fails.
const transformers = reference(py('torch', 'transformers'));
describe.skipIf(transformers.skip)('BertForSequenceClassification.from_pretrained on recsys output', () => {
  it('loads the directory saveHfModel wrote and computes the same logits (≤ 1e-4) with the same labels', async () => {
    transformers.require();
    // A relabelled model with a fresh head: weights no Python script has seen.
    const m = await importHfModel(path.join(FIXTURES, 'cls-l2-h64'), {
      id2label: ['shoes', 'phones', 'sofas', 'toys'],
      seed: 11,
    });
    const dir = path.join(tmp, 'hf-python');
    await saveHfModel(dir, m.config, m.params);
    const ref = readVectors('cls-l2-h64');
    const casesFile = path.join(tmp, 'cases.json');
    writeFileSync(
      casesFile,
      JSON.stringify(
        ref.cases.map(({ name, input_ids, attention_mask, token_type_ids }) => ({
          name,
          input_ids,
          attention_mask,
          token_type_ids,
        })),
      ),
    );
    const stdout = execFileSync(
      referencePython(),
      [path.join(ROOT, 'scripts', 'make_reference.py'), 'predict', '--model', dir, '--inputs', casesFile],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      },
    );
    const hf = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      id2label: Record<string, string>;
      cases: Array<{ logits: number[][]; pooled: number[][] }>;
    };
    expect(hf.id2label).toEqual({ 0: 'shoes', 1: 'phones', 2: 'sofas', 3: 'toys' });
    let worst = 0;
    for (let i = 0; i < ref.cases.length; i++) {
      const inputs = inputsOf(ref.cases[i]);
      const out = bertForward(m.params, m.config, inputs);
      worst = Math.max(worst, maxAbsDiff((await out.logits!.data()) as Float32Array, hf.cases[i].logits.flat()));
      worst = Math.max(worst, maxAbsDiff((await out.pooled.data()) as Float32Array, hf.cases[i].pooled.flat()));
      tf.dispose([out, inputs] as unknown as tf.TensorContainer);
    }
    console.log(`[checkpoint] transformers vs recsys on recsys-saved weights: max |Δ| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-4);
    disposeParams(m.params);
  });
});
