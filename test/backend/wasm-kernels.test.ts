// The kernels recsys adds to the wasm backend, each checked against the cpu backend, and
// forward+backward of a small transformer-like graph (embedding gather, attention, GELU(erf),
// LayerNorm via moments, tanh, dropout, concat/slice, mean, softmax cross-entropy) on wasm.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { initBackend } from '../../src/backend/index.js';
import { expectClose, expectWasmMatchesCpu, rand, randTensor, runOn } from './helpers.js';

let tensorsBefore = 0;

beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
});

beforeEach(() => {
  tensorsBefore = tf.memory().numTensors;
});

afterEach(() => {
  expect(tf.memory().numTensors, 'tensors leaked by the test').toBe(tensorsBefore);
});

describe('wasm UnsortedSegmentSum', () => {
  it('is registered for wasm (stock tfjs-backend-wasm 4.22 has none)', () => {
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
  });

  it('matches cpu for float32 rows with repeated ids', async () => {
    await expectWasmMatchesCpu(() =>
      tf.unsortedSegmentSum(randTensor([6, 4], 1), tf.tensor1d([0, 2, 2, 4, 0, 1], 'int32'), 5),
    );
  });

  it('keeps int32 values int32 (TensorFlow semantics; cpu returns float32) with the same sums', async () => {
    const f = () =>
      tf.unsortedSegmentSum(tf.tensor1d([5, -3, 7, 11, 2], 'int32'), tf.tensor1d([1, 1, 0, 3, 1], 'int32'), 4);
    const [cpu] = await runOn('cpu', f);
    const [wasm] = await runOn('wasm', f);
    expect(wasm.dtype).toBe('int32');
    expect(wasm.values).toEqual(cpu.values);
    expect(wasm.values).toEqual([7, 4, 0, 11]);
  });

  it('handles n-D segment ids (cpu only takes 1-D: compared with the flattened cpu result)', async () => {
    const ids = [
      [0, 1, 0],
      [2, 2, 1],
    ];
    const [cpu] = await runOn('cpu', () =>
      tf.unsortedSegmentSum(randTensor([2, 3, 5], 2).reshape([6, 5]), tf.tensor1d(ids.flat(), 'int32'), 3),
    );
    const [wasm] = await runOn('wasm', () =>
      tf.unsortedSegmentSum(randTensor([2, 3, 5], 2), tf.tensor2d(ids, [2, 3], 'int32') as unknown as tf.Tensor1D, 3),
    );
    expectClose([wasm], [cpu]);
  });

  it('drops ids outside [0, numSegments) like cpu, and leaves empty segments at 0', async () => {
    const out = await expectWasmMatchesCpu(() =>
      tf.unsortedSegmentSum(randTensor([5, 3], 3), tf.tensor1d([-1, 0, 7, 2, 6], 'int32'), 6),
    );
    expect(out[0].values.slice(3, 6)).toEqual([0, 0, 0]); // segment 1 is empty
  });

  it('gives the gradient of gather (embedding lookup) on wasm, equal to cpu', async () => {
    const ids = [
      [3, 1, 3, 0],
      [9, 3, 2, 2],
    ];
    await expectWasmMatchesCpu(() => {
      const emb = randTensor([10, 6], 4);
      const w = randTensor([2, 4, 6], 5);
      const g = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(tf.gather(e, tf.tensor2d(ids, [2, 4], 'int32')), w)))(emb);
      const g1 = tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.gather(x, tf.tensor1d([2, 0, 2], 'int32'), 1))))(
        randTensor([3, 4], 6),
      );
      return [g, g1];
    });
  });
});

describe('wasm matmul kernels (explicit transposes, per-batch fast path)', () => {
  const cases: [string, number[], number[]][] = [
    ['2-D', [5, 7], [7, 3]],
    ['3-D batched', [4, 5, 7], [4, 7, 3]],
    ['a batch 1, b batched', [1, 5, 7], [4, 7, 3]],
    ['b batch 1 (folded into rows)', [4, 5, 7], [1, 7, 3]],
    ['4-D attention-like', [2, 3, 5, 7], [2, 3, 7, 4]],
    ['broadcast batch dims (stock kernel)', [2, 1, 5, 7], [1, 3, 7, 4]],
  ];
  for (const [name, aShape, bShape] of cases) {
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      it(`BatchMatMul ${name} transposeA=${ta} transposeB=${tb}`, async () => {
        const swap = (s: number[]) => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];
        await expectWasmMatchesCpu(() =>
          tf.matMul(randTensor(ta ? swap(aShape) : aShape, 7), randTensor(tb ? swap(bShape) : bShape, 8), ta, tb),
        );
      });
    }
  }

  it('BatchMatMul gradients through transposes match cpu', async () => {
    await expectWasmMatchesCpu(() => {
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, b, false, true)));
      const [ga, gb] = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)([
        randTensor([3, 6, 8], 9),
        randTensor([3, 5, 8], 10),
      ]);
      return [ga, gb];
    });
  });

  it('_FusedMatMul with transposes, bias and relu matches cpu', async () => {
    for (const [ta, tb] of [
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      await expectWasmMatchesCpu(() =>
        tf.fused.matMul({
          a: randTensor(ta ? [7, 5] : [5, 7], 11),
          b: randTensor(tb ? [3, 7] : [7, 3], 12),
          transposeA: ta,
          transposeB: tb,
          bias: randTensor([3], 13),
          activation: 'relu',
        }),
      );
    }
  });
});

/** A 1-layer, 2-head transformer classifier on 3×6 tokens; returns loss and every gradient. */
function transformerLossAndGrads(): tf.Tensor[] {
  const V = 50;
  const H = 16;
  const S = 6;
  const B = 3;
  const heads = 2;
  const C = 4;
  const emb = tf.variable(randTensor([V, H], 21), true, 'emb');
  const pos = tf.variable(randTensor([S, H], 22), true, 'pos');
  const wq = tf.variable(randTensor([H, H], 23), true, 'wq');
  const wk = tf.variable(randTensor([H, H], 24), true, 'wk');
  const wv = tf.variable(randTensor([H, H], 25), true, 'wv');
  const w1 = tf.variable(randTensor([H, 2 * H], 26), true, 'w1');
  const w2 = tf.variable(randTensor([2 * H, H], 27), true, 'w2');
  const gamma = tf.variable(tf.add(1, randTensor([H], 28).mul(0.1)), true, 'gamma');
  const beta = tf.variable(randTensor([H], 29).mul(0.1), true, 'beta');
  const wc = tf.variable(randTensor([H, C], 30), true, 'wc');
  const bc = tf.variable(randTensor([C], 31).mul(0.1), true, 'bc');
  const ids = tf.tensor2d(
    [
      [1, 5, 7, 2, 0, 0],
      [3, 3, 9, 49, 12, 0],
      [4, 8, 15, 16, 23, 42],
    ],
    [B, S],
    'int32',
  );
  const mask = tf.tensor2d([
    [1, 1, 1, 1, 0, 0],
    [1, 1, 1, 1, 1, 0],
    [1, 1, 1, 1, 1, 1],
  ]);
  const labels = tf.tensor1d([0, 3, 1], 'int32');
  const vars = [emb, pos, wq, wk, wv, w1, w2, gamma, beta, wc, bc];
  const loss = (): tf.Scalar => {
    const x = tf.add(tf.gather(emb, ids), pos).reshape([B * S, H]);
    const split = (t: tf.Tensor) => t.reshape([B, S, heads, H / heads]).transpose([0, 2, 1, 3]);
    const q = split(tf.matMul(x, wq));
    const k = split(tf.matMul(x, wk));
    const v = split(tf.matMul(x, wv));
    const scores = tf
      .matMul(q, k, false, true)
      .div(Math.sqrt(H / heads))
      .add(tf.sub(1, mask).mul(-1e4).reshape([B, 1, 1, S]));
    const ctx = tf
      .matMul(tf.softmax(scores), v)
      .transpose([0, 2, 1, 3])
      .reshape([B * S, H]);
    const h0 = x.add(ctx);
    const { mean, variance } = tf.moments(h0, -1, true);
    const h = h0
      .sub(mean)
      .div(tf.sqrt(variance.add(1e-12)))
      .mul(gamma)
      .add(beta);
    const ff = tf.matMul(h, w1);
    const gelu = ff.mul(0.5).mul(tf.erf(ff.div(Math.SQRT2)).add(1));
    const t = tf.tanh(tf.matMul(gelu, w2));
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(t.shape, 0, 1, 'float32', 7), 0.1), 'float32');
    const dropped = t.mul(keep).div(0.9);
    const cat = tf.concat([dropped, h], 1).slice([0, 0], [B * S, H + 2]);
    const pooled = cat
      .reshape([B, S, H + 2])
      .mean(1)
      .slice([0, 0], [B, H]);
    const logits = tf.matMul(pooled, wc).add(bc);
    return tf.neg(tf.sum(tf.oneHot(labels, C).mul(tf.logSoftmax(logits)), -1)).mean() as tf.Scalar;
  };
  const { value, grads } = tf.variableGrads(loss, vars);
  const out = [value, ...vars.map((v) => grads[v.name])];
  tf.dispose(vars);
  return out;
}

describe('training graph on wasm', () => {
  it('forward + backward of a small transformer through gather matches cpu', async () => {
    const out = await expectWasmMatchesCpu(transformerLossAndGrads, 2e-4, 1e-3);
    expect(out).toHaveLength(12);
    expect(out[0].values[0]).toBeGreaterThan(0);
    // gradients are not trivially zero
    for (const g of out.slice(1)) expect(g.values.some((v) => Math.abs(v) > 1e-6)).toBe(true);
  });

  it('a few gradient-descent steps on wasm reduce the loss without leaking tensors', async () => {
    await initBackend('wasm', { log: () => {} });
    const init = [tf.tensor(rand(20 * 8, 40), [20, 8]), tf.tensor(rand(8 * 3, 41), [8, 3])];
    const emb = tf.variable(init[0]);
    const w = tf.variable(init[1]);
    tf.dispose(init); // the variables hold their own reference to the data
    const ids = tf.tensor2d(
      [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
        [1, 5, 9],
      ],
      [4, 3],
      'int32',
    );
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3));
    // Plain SGD by hand: tfjs 4.22's optimizers keep one tensor after dispose() on every backend,
    // which would hide a leak of our own.
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.gather(emb, ids).mean(1), w)) as tf.Scalar,
          [emb, w],
        );
        emb.assign(emb.sub(grads[emb.name].mul(0.5)));
        w.assign(w.sub(grads[w.name].mul(0.5)));
        losses.push(value.dataSync()[0]);
      });
    }
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    tf.dispose([emb, w, ids, y]);
    expect(tf.getBackend()).toBe('wasm');
  });
});
