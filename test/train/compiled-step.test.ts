import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type GraphGradients, loadGraphGradients } from '../../src/backend/graph-gradients.js';
import { initBackend, loadedNative } from '../../src/backend/index.js';
import type { LoadedNative } from '../../src/backend/native.js';
import { bertLogits } from '../../src/model/bert.js';
import { parseBertConfig } from '../../src/model/config.js';
import { initParams } from '../../src/model/init.js';
import { paramSpecs } from '../../src/model/params.js';
import { AdamW, decays } from '../../src/train/adamw.js';
import { CompiledStep } from '../../src/train/compiled/compiled-step.js';
import { compiledTrainerStep, type TrainerSettings } from '../../src/train/compiled/trainer-step.js';
import { dropoutRates, emitForwardGraph } from '../../src/train/compiled/forward-graph.js';
import { clipCoefficient, globalNorm, weightedCrossEntropy } from '../../src/train/loss.js';
import { requirement } from '../helpers/python.js';

/**
 * The compiled training step, built without Python (recsys's forward GraphDef + the graph gradients
 * addon's TF_AddGradients + recsys's update nodes), against the eager step the trainer takes (same
 * loss, global-norm clipping, AdamW): same losses step by step, same parameters after.
 */

const config = parseBertConfig(
  {
    num_hidden_layers: 2,
    hidden_size: 32,
    num_attention_heads: 2,
    intermediate_size: 64,
    vocab_size: 120,
    max_position_embeddings: 64,
    num_labels: 3,
  },
  'tiny random BERT',
);
const [B, S] = [4, 16];

describe('compiled step graph (no native code)', () => {
  it('has a variable and a forward read per parameter and one seed row per dropout', () => {
    const g = emitForwardGraph(config, { shape: { batch: B, seq: S } });
    const specs = paramSpecs(config);
    expect(g.nodes.filter((n) => n.op === 'VarHandleOp').length).toBe(specs.length);
    expect(g.params.map((p) => p.read)).toEqual(specs.map((s) => `${s.name}/read`));
    expect(g.dropouts).toBe(1 + 3 * config.numHiddenLayers + 1);
    expect(g.nodes.filter((n) => n.op === 'StatelessRandomUniform').length).toBe(g.dropouts);
    const noDropout = { ...config, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 };
    expect(dropoutRates(noDropout)).toEqual([]);
    expect(emitForwardGraph(noDropout, { shape: { batch: B, seq: S } }).dropouts).toBe(0);
  });
});

describe('graph gradients addon loader', () => {
  it('returns undefined, never throws, when the cached build has no addon or it cannot load', () => {
    const loaded = (graphGradients?: string) =>
      ({
        status: {
          source: 'cache',
          cacheEntry: { dir: os.tmpdir(), manifest: { graphGradients } },
        },
      }) as unknown as LoadedNative;
    expect(loadGraphGradients(undefined)).toBeUndefined();
    expect(loadGraphGradients(loaded())).toBeUndefined();
    expect(loadGraphGradients(loaded('lib/no-such-addon.node'))).toBeUndefined();
  });
});

let addon: GraphGradients | undefined;
let why = '';
try {
  await initBackend('tensorflow', { log: () => {} });
  addon = loadGraphGradients(loadedNative());
  why = 'the graph gradients addon is not in the setup:native cache; run `npm run setup:native`';
} catch (e) {
  why = `tensorflow backend unavailable: ${(e as Error).message}`;
}
// CI builds the addon with setup:native: its absence fails here (a local opt-in may skip)
const native = requirement(addon ? null : why);

/** A batch [b, s]: padding at the end of every other row, a second segment in the second half. */
function makeBatch(b: number, s: number, seed: number) {
  return {
    inputIds: tf.randomUniform([b, s], 1, config.vocabSize, 'int32', seed) as tf.Tensor2D,
    attentionMask: tf.tensor2d(
      Array.from({ length: b * s }, (_, i) => (i % s < s - (Math.floor(i / s) % 2) * 5 ? 1 : 0)),
      [b, s],
      'int32',
    ),
    tokenTypeIds: tf.tensor2d(
      Array.from({ length: b * s }, (_, i) => (i % s >= s / 2 ? 1 : 0)),
      [b, s],
      'int32',
    ),
    labels: tf.tensor1d(
      Array.from({ length: b }, (_, i) => (i * 7 + seed) % 3),
      'int32',
    ),
  };
}

/** The eager step's parameters (`vars`) against the graph's (`read`, by `names`), by norm. */
function expectSameParameters(vars: Map<string, tf.Variable>, names: string[], read: tf.Tensor[], lr: number) {
  for (const [i, n] of names.entries()) {
    const [a, b] = tf.tidy(() => [tf.norm(vars.get(n)!).dataSync()[0], tf.norm(read[i]).dataSync()[0]]);
    // The key biases' true gradient is zero (softmax ignores a constant added to every score): their
    // gradients are rounding noise, different on each path, which Adam scales up to steps of ~lr.
    if (n.endsWith('attention.self.key.bias')) expect(Math.abs(a - b)).toBeLessThan(4 * lr * Math.sqrt(32));
    else expect(Math.abs(a - b) / Math.max(Math.abs(a), 1e-3), n).toBeLessThan(1e-5);
  }
}

describe.skipIf(native.skip)('compiled step against the eager step (tensorflow)', () => {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'recsys-compiled-'));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  const cases = [
    { what: 'static shape', dynamic: false, weights: undefined },
    { what: 'any shape, batches of two shapes, class weights', dynamic: true, weights: [1, 2.5, 0.5] },
  ];
  it.each(cases)(
    '$what: same losses and parameters; a non-finite step changes nothing',
    async (c) => {
      native.require();
      const init = initParams(config, 3);
      const vars = new Map([...init].map(([k, t]) => [k, tf.variable(t, true, k)]));
      const specs = new Map(paramSpecs(config).map((s) => [s.name, s]));
      const adam = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decayEmbeddings: false };
      const opt = new AdamW(vars, specs, adam);
      const decayed = new Set([...specs.values()].filter((s) => decays(s, false)).map((s) => s.name));
      const classWeights = c.weights ? tf.tensor1d(c.weights) : undefined;
      const step = await CompiledStep.create({
        config,
        ...(c.dynamic ? {} : { shape: { batch: B, seq: S } }),
        classWeights: classWeights !== undefined,
        ...adam,
        decayed,
        addon: addon!,
        cacheDir,
      });
      step.init(init);
      tf.dispose([...init.values()]);
      const batches = [makeBatch(B, S, 5), c.dynamic ? makeBatch(3, 10, 6) : makeBatch(B, S, 6)];
      const [lr, maxGradNorm] = [5e-3, 0.5];

      const eagerStep = (batch: ReturnType<typeof makeBatch>, seed: number) => {
        const { value, grads } = tf.variableGrads(() =>
          weightedCrossEntropy(bertLogits(vars, config, batch, { training: true, seed }), batch.labels, classWeights),
        );
        const byName = new Map(Object.entries(grads));
        const norm = globalNorm([...byName.values()]);
        const coef = clipCoefficient(norm.dataSync()[0], maxGradNorm);
        const clipped = coef < 1 ? [...byName].map(([n, g]) => [n, tf.mul(g, coef)] as const) : [];
        for (const [n, g] of clipped) byName.set(n, g);
        opt.step(byName, lr);
        const loss = value.dataSync()[0];
        tf.dispose([value, norm, ...Object.values(grads), ...clipped.map(([, g]) => g)]);
        return loss;
      };
      const settings = { lr, eps: adam.eps, weightDecay: adam.weightDecay, maxGradNorm };
      const seeds = [11, 0x9e3779b9, 7, 123456789]; // one above 2^31: both halves of the Philox seed pair
      let before = 0; // counted after the first step: the eager AdamW makes its variables then
      for (const [i, seed] of seeds.entries()) {
        if (i === 1) before = tf.memory().numTensors;
        const batch = batches[i % 2];
        const eager = eagerStep(batch, seed);
        const compiled = await step.step({ ...batch, classWeights }, { ...settings, seed, t: i + 1 });
        expect(compiled.applied).toBe(true);
        expect(Math.abs(compiled.loss - eager) / Math.abs(eager)).toBeLessThan(1e-6);
      }
      expect(tf.memory().numTensors).toBe(before);

      const names = [...vars.keys()];
      const read = step.read(names);
      expectSameParameters(vars, names, read, lr);
      const moments = step.read([`${names[0]}/m`, `${names[0]}/v`]);
      const [mEager, mGraph] = tf.tidy(() => [
        tf.norm(opt.m.get(names[0])!).dataSync()[0],
        tf.norm(moments[0]).dataSync()[0],
      ]);
      expect(Math.abs(mEager - mGraph) / mEager).toBeLessThan(1e-4);

      const poisoned = await step.step(
        { ...batches[0], classWeights },
        { ...settings, seed: 99, t: 5, lossScale: Number.NaN },
      );
      expect(poisoned.applied).toBe(false);
      expect(poisoned.loss).toBeNaN();
      const after = step.read(names);
      const unchanged = read.every((x, i) => tf.tidy(() => tf.all(tf.equal(x, after[i])).dataSync()[0] === 1));
      expect(unchanged).toBe(true);
      tf.dispose([...read, ...after, ...moments, ...vars.values(), ...batches.flatMap((x) => Object.values(x))]);
      classWeights?.dispose();
      opt.dispose();
      step.dispose();
    },
    120_000,
  );
});

describe.skipIf(native.skip)('compiled step with gradient accumulation (train.grad_accum > 1)', () => {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'recsys-compiled-acc-'));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it("two micro-batches per step: the eager step's losses and parameters; NaN in any micro-batch stops", async () => {
    native.require();
    const init = initParams(config, 4);
    const vars = new Map([...init].map(([k, t]) => [k, tf.variable(t, true, k)]));
    const specs = new Map(paramSpecs(config).map((s) => [s.name, s]));
    const adam = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decayEmbeddings: false };
    const opt = new AdamW(vars, specs, adam);
    const decayed = new Set([...specs.values()].filter((s) => decays(s, false)).map((s) => s.name));
    const step = await CompiledStep.create({ config, ...adam, decayed, addon: addon!, cacheDir, accumulate: true });
    expect(step.variableNames().filter((n) => n.endsWith('/acc')).length).toBe(specs.size);
    step.init(init);
    tf.dispose([...init.values()]);
    const [lr, maxGradNorm] = [5e-3, 0.5];
    // the trainer's eager step over micro-batches: each loss divided by their number, gradients summed
    const eagerStep = (micro: Array<ReturnType<typeof makeBatch>>, seeds: number[]) => {
      let sum: Map<string, tf.Tensor> | null = null;
      let loss = 0;
      micro.forEach((batch, k) => {
        const { value, grads } = tf.variableGrads(
          () =>
            tf.div(
              weightedCrossEntropy(bertLogits(vars, config, batch, { training: true, seed: seeds[k] }), batch.labels),
              micro.length,
            ) as tf.Scalar,
        );
        loss += value.dataSync()[0];
        value.dispose();
        if (!sum) sum = new Map(Object.entries(grads));
        else {
          for (const [n, g] of Object.entries(grads)) {
            const next = tf.add(sum.get(n)!, g);
            tf.dispose([sum.get(n)!, g]);
            sum.set(n, next);
          }
        }
      });
      const byName = sum!;
      const norm = globalNorm([...byName.values()]);
      const coef = clipCoefficient(norm.dataSync()[0], maxGradNorm);
      const clipped = coef < 1 ? new Map([...byName].map(([n, g]) => [n, tf.mul(g, coef)] as const)) : byName;
      opt.step(clipped, lr);
      tf.dispose([norm, ...byName.values(), ...(coef < 1 ? [...clipped.values()] : [])]);
      return loss;
    };
    const batches = [makeBatch(B, S, 5), makeBatch(3, 10, 6), makeBatch(B, 12, 7), makeBatch(2, S, 8)];
    const settings = { lr, eps: adam.eps, weightDecay: adam.weightDecay, maxGradNorm };
    let before = 0;
    for (let i = 0; i < 3; i++) {
      if (i === 1) before = tf.memory().numTensors;
      const micro = [batches[(2 * i) % 4], batches[(2 * i + 1) % 4]];
      const seeds = [100 + 2 * i, 101 + 2 * i];
      const eager = eagerStep(micro, seeds);
      const first = await step.accumulate(micro[0], { seed: seeds[0], lossScale: 0.5 });
      const r = await step.step(micro[1], { ...settings, seed: seeds[1], t: i + 1, lossScale: 0.5, priorLoss: first });
      expect(r.applied).toBe(true);
      expect(Math.abs(r.loss - eager) / Math.abs(eager)).toBeLessThan(1e-6);
    }
    expect(tf.memory().numTensors).toBe(before);
    const names = [...vars.keys()];
    const read = step.read(names);
    expectSameParameters(vars, names, read, lr);
    // the accumulators are zero between steps
    const acc = step.read(names.map((n) => `${n}/acc`));
    expect(acc.every((x) => tf.tidy(() => tf.max(tf.abs(x)).dataSync()[0]) === 0)).toBe(true);

    // a non-finite loss in an earlier micro-batch reaches the guard through prior_loss and its gradients
    const poisoned = await step.accumulate(batches[0], { seed: 1, lossScale: Number.NaN });
    expect(poisoned).toBeNaN();
    const r = await step.step(batches[1], { ...settings, seed: 2, t: 4, lossScale: 0.5, priorLoss: poisoned });
    expect(r.applied).toBe(false);
    const after = step.read(names);
    const unchanged = read.every((x, i) => tf.tidy(() => tf.all(tf.equal(x, after[i])).dataSync()[0] === 1));
    expect(unchanged).toBe(true);
    tf.dispose([...read, ...after, ...acc, ...vars.values(), ...batches.flatMap((x) => Object.values(x))]);
    opt.dispose();
    step.dispose();
  }, 120_000);
});

describe.skipIf(native.skip)('the trainer seam (train.compiled)', () => {
  const settings: TrainerSettings = {
    compiled: 'auto',
    grad_accum: 1,
    dropout: true,
    adam_beta1: 0.9,
    adam_beta2: 0.999,
    adam_eps: 1e-8,
    weight_decay: 0.01,
    decay_embeddings: false,
    clip_norm: 1,
  };
  const specs = new Map(paramSpecs(config).map((s) => [s.name, s]));
  const head = { batch: () => new Map<string, tf.Tensor>(), constants: new Map<string, tf.Tensor>() };
  const make = (over: Partial<TrainerSettings>, log?: (m: string) => void) =>
    compiledTrainerStep({ ...settings, ...over }, config, specs, new Map(), undefined, head, log);

  it('off is the eager step; auto falls back to it (saying why) where the graph cannot run; on refuses', async () => {
    native.require();
    expect(await make({ compiled: 'off' })).toBeUndefined();
    // An objective without a compiled loss keeps the eager step, and `on` says why, in its words.
    const said: string[] = [];
    const eagerOnly = { eagerOnly: 'the in-batch loss is not compiled yet' };
    const other = await compiledTrainerStep(settings, config, specs, new Map(), undefined, eagerOnly, (m) =>
      said.push(m),
    );
    expect(other).toBeUndefined();
    expect(said).toEqual(['eager training step (the in-batch loss is not compiled yet)']);
    await expect(
      compiledTrainerStep({ ...settings, compiled: 'on' }, config, specs, new Map(), undefined, eagerOnly),
    ).rejects.toThrow(/train.compiled: on, but the in-batch loss is not compiled yet/);
  });
});
