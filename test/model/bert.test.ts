import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bertForward, bertLogits } from '../../src/model/bert.js';
import { parseBertConfig, type BertConfig } from '../../src/model/config.js';
import { importHfModel } from '../../src/model/import.js';
import { initParams } from '../../src/model/init.js';
import { disposeParams, paramSpecs, type Params } from '../../src/model/params.js';
import { crossEntropy, FIXTURES, inputsOf, maxAbsDiff, readVectors } from './parity-suite.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tinyConfig = (over: Record<string, unknown> = {}): BertConfig =>
  parseBertConfig(
    {
      vocab_size: 50,
      hidden_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 24,
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
      num_labels: 3,
      ...over,
    },
    'tiny',
  );

function randomInputs(batch: number, seq: number, vocab: number) {
  const ids = tf.randomUniform([batch, seq], 1, vocab, 'int32', 7) as tf.Tensor2D;
  const lens = Array.from({ length: batch }, (_, i) => Math.max(1, seq - 3 * i));
  const mask = tf.tensor2d(
    lens.map((n) => Array.from({ length: seq }, (_, j) => (j < n ? 1 : 0))),
    undefined,
    'int32',
  );
  return { inputIds: ids, attentionMask: mask, tokenTypeIds: tf.zerosLike(ids) as tf.Tensor2D };
}

describe('the reference fixtures can tell a wrong model from a right one', () => {
  // If one of these passed the 1e-4 parity check, the parity tests could not catch that mistake.
  const name = 'cls-l2-h64';
  const ref = readVectors(name);
  type Inp = ReturnType<typeof inputsOf>;
  // The tanh GELU differs from the erf one by at most ~5e-4 per element, so its margin is smaller.
  const mistakes: Array<[string, (c: BertConfig) => BertConfig, (inp: Inp) => Inp, number]> = [
    ['tanh GELU instead of erf', (c) => ({ ...c, hiddenAct: 'gelu_new' }), (i) => i, 5e-4],
    [
      'attention mask ignored',
      (c) => c,
      (i) => ({ ...i, attentionMask: tf.onesLike(i.attentionMask) as tf.Tensor2D }),
      1e-2,
    ],
    [
      'token type ids ignored',
      (c) => c,
      (i) => ({ ...i, tokenTypeIds: tf.zerosLike(i.tokenTypeIds) as tf.Tensor2D }),
      1e-2,
    ],
    ['LayerNorm eps 1e-3 instead of 1e-12', (c) => ({ ...c, layerNormEps: 1e-3 }), (i) => i, 1e-2],
  ];
  for (const [what, cfg, inp, margin] of mistakes) {
    it(`${what} moves logits well past the 1e-4 tolerance`, async () => {
      const { config, params } = await importHfModel(path.join(FIXTURES, name));
      let worst = 0;
      for (const c of ref.cases) {
        const logits = bertLogits(params, cfg(config), inp(inputsOf(c)));
        worst = Math.max(worst, maxAbsDiff((await logits.data()) as Float32Array, c.logits!.flat()));
        logits.dispose();
      }
      disposeParams(params);
      expect(worst).toBeGreaterThan(margin);
    });
  }
});

describe('bertForward', () => {
  it('rejects bad inputs with messages that say what was passed', () => {
    const config = tinyConfig();
    const params = initParams(config, 1);
    const ids = tf.zeros([2, 5], 'int32') as tf.Tensor2D;
    const call = (inputs: Partial<Parameters<typeof bertForward>[2]>) => () =>
      bertForward(params, config, { inputIds: ids, attentionMask: ids, ...inputs } as Parameters<
        typeof bertForward
      >[2]);
    expect(call({ inputIds: tf.zeros([2, 5]) as tf.Tensor2D })).toThrow(
      'bertForward: inputIds must be int32, got float32',
    );
    expect(call({ attentionMask: tf.zeros([2, 4], 'int32') as tf.Tensor2D })).toThrow(
      'bertForward: attentionMask has shape [2, 4] but inputIds has [2, 5]',
    );
    const long = tf.zeros([1, 25], 'int32') as tf.Tensor2D;
    expect(call({ inputIds: long, attentionMask: long })).toThrow(
      'sequence length 25 exceeds max_position_embeddings 24',
    );
    const p2 = new Map(params);
    p2.delete('bert.encoder.layer.1.output.dense.bias');
    expect(() => bertForward(p2, config, { inputIds: ids, attentionMask: ids })).toThrow(
      'BERT parameter bert.encoder.layer.1.output.dense.bias is missing',
    );
    disposeParams(params);
  });

  it('returns logits, pooled and hidden with the right shapes; headless drops logits', () => {
    const config = tinyConfig();
    const params = initParams(config, 1);
    const inputs = randomInputs(3, 7, 50);
    const out = bertForward(params, config, inputs, { returnHidden: true });
    expect(out.logits!.shape).toEqual([3, 3]);
    expect(out.pooled.shape).toEqual([3, 16]);
    expect(out.lastHidden!.shape).toEqual([3, 7, 16]);
    const headless = bertForward(params, config, inputs, { headless: true });
    expect(headless.logits).toBeUndefined();
    tf.dispose([out, headless] as unknown as tf.TensorContainer);
    disposeParams(params);
  });

  it('dropout is off unless training, seeded when training', async () => {
    const config = tinyConfig();
    const params = initParams(config, 1);
    const inputs = randomInputs(2, 9, 50);
    const values = async (opts: Parameters<typeof bertLogits>[3]) => {
      const t = bertLogits(params, config, inputs, opts);
      const v = Array.from(await t.data());
      t.dispose();
      return v;
    };
    const evalA = await values({});
    expect(await values({ seed: 5 })).toEqual(evalA);
    const trainA = await values({ training: true, seed: 5 });
    expect(await values({ training: true, seed: 5 })).toEqual(trainA);
    const trainB = await values({ training: true, seed: 6 });
    expect(maxAbsDiff(trainA, evalA)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(trainA, trainB)).toBeGreaterThan(1e-3);
    // zero dropout rates: training equals eval
    const noDrop = { ...config, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 };
    const t = bertLogits(params, noDrop, inputs, { training: true, seed: 5 });
    expect(Array.from(await t.data())).toEqual(evalA);
    t.dispose();
    disposeParams(params);
  });

  it('padding does not change the logits of the real tokens', async () => {
    const config = tinyConfig();
    const params = initParams(config, 3);
    const ids = [[2, 17, 33, 9, 41]];
    const short = bertLogits(params, config, {
      inputIds: tf.tensor2d(ids, undefined, 'int32'),
      attentionMask: tf.ones([1, 5], 'int32') as tf.Tensor2D,
    });
    const padded = bertLogits(params, config, {
      inputIds: tf.tensor2d([[...ids[0], 7, 8, 9]], undefined, 'int32'),
      attentionMask: tf.tensor2d([[1, 1, 1, 1, 1, 0, 0, 0]], undefined, 'int32'),
    });
    expect(maxAbsDiff((await padded.data()) as Float32Array, Array.from(await short.data()))).toBeLessThan(1e-5);
    disposeParams(params);
  });
});

describe('no tensor leaks', () => {
  it('inference mode frees each block as the next starts: same outputs bit for bit, lower peak, no leak', async () => {
    const config = tinyConfig({
      num_hidden_layers: 6,
      hidden_size: 32,
      intermediate_size: 128,
      num_attention_heads: 4,
    });
    const params = initParams(config, 3);
    const inputs = randomInputs(8, 24, config.vocabSize);
    const before = tf.memory().numTensors;
    const base = tf.memory().numBytes; // weights and inputs, in both peaks
    let full: tf.Tensor | undefined;
    let lean: tf.Tensor | undefined;
    const fullPeak = (await tf.profile(() => (full = bertLogits(params, config, inputs)))).peakBytes;
    const leanPeak = (await tf.profile(() => (lean = bertLogits(params, config, inputs, { inference: true }))))
      .peakBytes;
    expect(Array.from(await lean!.data())).toEqual(Array.from(await full!.data()));
    // the activations of 12 blocks against those of about one
    expect(leanPeak - base).toBeLessThan((fullPeak - base) / 4);
    tf.dispose([full!, lean!]);
    expect(tf.memory().numTensors).toBe(before);
    const out = bertForward(params, config, inputs, { inference: true, returnHidden: true });
    const ref = bertForward(params, config, inputs, { returnHidden: true });
    expect(Array.from(await out.lastHidden!.data())).toEqual(Array.from(await ref.lastHidden!.data()));
    tf.dispose([out.logits!, out.pooled, out.lastHidden!, ref.logits!, ref.pooled, ref.lastHidden!]);
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(params);
    tf.dispose(Object.values(inputs));
  });

  it('forward and backward passes (variableGrads over the params, dropout on) keep numTensors constant', async () => {
    const config = tinyConfig();
    const init = initParams(config, 2);
    const vars: Params = new Map([...init].map(([k, t]) => [k, tf.variable(t, true, `leak/${k}`)]));
    disposeParams(init);
    const inputs = randomInputs(4, 12, 50);
    const labels = [0, 1, 2, 1];
    const step = (seed: number) => {
      const { value, grads } = tf.variableGrads(() =>
        crossEntropy(bertLogits(vars, config, inputs, { training: true, seed }), labels),
      );
      expect(Object.keys(grads)).toHaveLength(paramSpecs(config).length);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step(0); // warm-up: backends may cache a few tensors on first use
    const before = tf.memory().numTensors;
    for (let i = 1; i <= 5; i++) step(i);
    const fwd = bertForward(vars, config, inputs, { returnHidden: true });
    tf.dispose(fwd as unknown as tf.TensorContainer);
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(vars);
  });

  it('tf.grads over the parameter tensors (functional style) also leaks nothing', () => {
    const config = tinyConfig({ hidden_act: 'gelu_new' });
    const params = initParams(config, 4);
    const names = [...params.keys()];
    const inputs = randomInputs(2, 6, 50);
    const f = tf.grads((...ts: tf.Tensor[]) =>
      crossEntropy(bertLogits(new Map(names.map((n, i) => [n, ts[i]])), config, inputs), [1, 2]),
    );
    tf.dispose(f(names.map((n) => params.get(n)!)));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(f(names.map((n) => params.get(n)!)));
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(params);
  });
});

describe('initParams', () => {
  it('is seeded per parameter, follows HF init rules, and zeroes the pad row', async () => {
    const config = tinyConfig({ initializer_range: 0.1, pad_token_id: 3 });
    const a = initParams(config, 42);
    const b = initParams(config, 42);
    const c = initParams(config, 43);
    const head = initParams(config, 42, ['head']);
    const q = 'bert.encoder.layer.0.attention.self.query.weight';
    expect(Array.from(await a.get(q)!.data())).toEqual(Array.from(await b.get(q)!.data()));
    expect(Array.from(await a.get(q)!.data())).not.toEqual(Array.from(await c.get(q)!.data()));
    expect(Array.from(await head.get('classifier.weight')!.data())).toEqual(
      Array.from(await a.get('classifier.weight')!.data()),
    );
    const w = (await a.get(q)!.data()) as Float32Array;
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    expect(std).toBeGreaterThan(0.07); // truncated at 2σ: std ≈ 0.088
    expect(std).toBeLessThan(0.1);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.2 + 1e-6);
    expect(
      Array.from(await a.get('bert.encoder.layer.0.attention.self.query.bias')!.data()).every((x) => x === 0),
    ).toBe(true);
    expect(Array.from(await a.get('bert.embeddings.LayerNorm.weight')!.data()).every((x) => x === 1)).toBe(true);
    const emb = (await a.get('bert.embeddings.word_embeddings.weight')!.array()) as number[][];
    expect(emb[3].every((x) => x === 0)).toBe(true);
    expect(emb[2].some((x) => x !== 0)).toBe(true);
    for (const spec of paramSpecs(config)) expect(a.get(spec.name)!.shape).toEqual(spec.shape);
    [a, b, c, head].forEach(disposeParams);
  });
});
