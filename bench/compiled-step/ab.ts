/**
 * A/B: the eager training step (tfjs-node, one TFE op at a time: forward, backward, global norm,
 * clipping, AdamW) against the same step compiled into one TensorFlow graph without Python
 * (src/train/compiled/: recsys writes the forward and loss GraphDef, the graph gradients addon built
 * by setup:native adds the backward pass, recsys appends clipping, the finite guard and AdamW) and run
 * with one session call per step through tfjs-node's SavedModel session. Same process, alternating
 * one step of each, so a loaded machine slows both alike.
 *
 * Both start from the same weights and draw the same dropout masks (the graph takes the Philox seed
 * pairs the eager forward derives from the step's seed), so their losses must agree step by step;
 * the largest relative difference is printed, and the parameters read back from the graph's variables
 * are compared with the eager ones.
 *
 *   npx tsx bench/compiled-step/ab.ts [--model tiny|mini] [--rounds 10]
 */
import * as tf from '@tensorflow/tfjs';
import { loadGraphGradients } from '../../src/backend/graph-gradients.js';
import { initBackend, loadedNative } from '../../src/backend/index.js';
import { bertLogits } from '../../src/model/bert.js';
import { parseBertConfig } from '../../src/model/config.js';
import { initParams } from '../../src/model/init.js';
import { paramSpecs, type Params } from '../../src/model/params.js';
import { AdamW, decays } from '../../src/train/adamw.js';
import { CompiledStep } from '../../src/train/compiled/compiled-step.js';
import { clipCoefficient, globalNorm, weightedCrossEntropy } from '../../src/train/loss.js';

const MODELS: Record<string, Record<string, number>> = {
  tiny: { num_hidden_layers: 2, hidden_size: 128, num_attention_heads: 2, intermediate_size: 512 },
  mini: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 },
};
const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i >= 0 ? process.argv[i + 1] : d;
};
const model = arg('model', 'tiny');
const rounds = Number(arg('rounds', '10'));
const [B, S, V, L] = [32, 128, 30522, 3];

await initBackend('tensorflow', { log: () => {} });
const addon = loadGraphGradients(loadedNative());
if (!addon) throw new Error('no graph gradients addon in the setup:native cache: run `npm run setup:native`');
const config = parseBertConfig(
  { ...MODELS[model], vocab_size: V, max_position_embeddings: 512, num_labels: L },
  `bench ${model}`,
);
const init = initParams(config, 0);
const specs = new Map(paramSpecs(config).map((sp) => [sp.name, sp]));
const adamS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decayEmbeddings: false };
const decayed = new Set([...specs.values()].filter((sp) => decays(sp, false)).map((sp) => sp.name));
const tBuild = performance.now();
const compiled = await CompiledStep.create({
  config,
  ...(process.argv.includes('--dynamic') ? {} : { shape: { batch: B, seq: S } }),
  ...adamS,
  decayed,
  addon,
});
compiled.init(init);
console.log(`graph built and loaded in ${(performance.now() - tBuild).toFixed(0)} ms (${compiled.dir})`);
const vars: Params = new Map([...init].map(([k, t]) => [k, tf.variable(t, true, k)]));
tf.dispose([...init.values()]);
const opt = new AdamW(vars as Map<string, tf.Variable>, specs, adamS);
const inputIds = tf.randomUniform([B, S], 1, V, 'int32', 1) as tf.Tensor2D;
const attentionMask = tf.onesLike(inputIds) as tf.Tensor2D;
const tokenTypeIds = tf.zerosLike(inputIds) as tf.Tensor2D;
const labels = tf.randomUniform([B], 0, L, 'int32', 2) as tf.Tensor1D;
const lr = 1e-4;

let step = 0;
async function eagerStep(): Promise<number> {
  const { value, grads } = tf.variableGrads(() =>
    weightedCrossEntropy(
      bertLogits(vars, config, { inputIds, attentionMask, tokenTypeIds }, { training: true, seed: step }),
      labels,
    ),
  );
  const byName = new Map(Object.entries(grads));
  const normT = globalNorm([...byName.values()]);
  const norm = normT.dataSync()[0];
  const coef = clipCoefficient(norm, 1);
  if (coef < 1) for (const [n, g] of byName) byName.set(n, tf.mul(g, coef));
  opt.step(byName, lr);
  const loss = (await value.data())[0];
  tf.dispose([value, normT, ...Object.values(grads), ...(coef < 1 ? [...byName.values()] : [])]);
  step++;
  return loss;
}

let t = 0;
const batch = { inputIds, attentionMask, tokenTypeIds, labels };
/** One compiled step; `lossScale` NaN poisons it (the graph must then leave every variable alone). */
async function compiledStep(lossScale = 1): Promise<number> {
  const seed = t; // the eager step t uses seed t
  t++;
  const r = await compiled.step(batch, { seed, lr, t, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1, lossScale });
  if (r.applied === Number.isNaN(r.loss)) throw new Error(`step ${t}: loss ${r.loss} but applied=${r.applied}`);
  return r.loss;
}

/**
 * Wall ms, CPU ms (all threads of the process: the work done, which other jobs on the machine disturb
 * far less than the wall clock) and the loss of one step.
 */
const time = async (f: () => Promise<number>) => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const loss = await f();
  if (!Number.isFinite(loss)) throw new Error(`loss ${loss}`);
  const cpu = process.cpuUsage(c0);
  return [performance.now() - t0, (cpu.user + cpu.system) / 1000, loss];
};
const eager: number[] = [];
const comp: number[] = [];
const eagerCpu: number[] = [];
const compCpu: number[] = [];
let worst = 0;
{
  // warm-up (grappler optimises the graph on its first run); counted in the loss comparison
  const le = await eagerStep();
  const lc = await compiledStep();
  worst = Math.abs(le - lc) / Math.abs(le);
}
for (let r = 0; r < rounds; r++) {
  const [e, ec, le] = await time(eagerStep);
  const [c, cc, lc] = await time(() => compiledStep());
  eager.push(e);
  comp.push(c);
  eagerCpu.push(ec);
  compCpu.push(cc);
  worst = Math.max(worst, Math.abs(le - lc) / Math.abs(le));
  console.log(
    `round ${r}: eager ${e.toFixed(0)} ms, cpu ${ec.toFixed(0)} (loss ${le.toFixed(7)})  ` +
      `compiled ${c.toFixed(0)} ms, cpu ${cc.toFixed(0)} (loss ${lc.toFixed(7)})`,
  );
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `${model}: eager median ${med(eager).toFixed(0)} ms/step, compiled ${med(comp).toFixed(0)} ms/step, ` +
    `ratio ${(med(eager) / med(comp)).toFixed(2)}x; CPU ms/step eager ${med(eagerCpu).toFixed(0)}, compiled ` +
    `${med(compCpu).toFixed(0)}, ratio ${(med(eagerCpu) / med(compCpu)).toFixed(2)}x; ` +
    `largest relative loss difference ${worst.toExponential(2)}; ` +
    `tensors alive ${tf.memory().numTensors}`,
);
// The graph's variables are what a checkpoint would be written from: fetch each parameter's value from
// the session (its variable's own read op) and compare with the eager parameters.
const names = [...vars.keys()];
const readParams = () => compiled.read(names);
const fetched = readParams();
let worstParam = 0;
let worstName = '';
let worstOther = 0; // every parameter but the key biases
let worstOtherName = '';
names.forEach((n, i) => {
  const a = tf.tidy(() => tf.norm(vars.get(n)!).dataSync()[0]);
  const b = tf.tidy(() => tf.norm(fetched[i]).dataSync()[0]);
  // relative, absolute below 1e-3: the key biases' true gradient is zero (softmax ignores a constant
  // added to every score), so they move only by rounding noise, differently on each path
  const rel = Math.abs(a - b) / Math.max(Math.abs(a), 1e-3);
  if (rel > worstParam) [worstParam, worstName] = [rel, `${n} (${a} vs ${b})`];
  if (!n.endsWith('key.bias') && rel > worstOther) [worstOther, worstOtherName] = [rel, n];
});
console.log(
  `largest difference of a parameter's norm (relative, absolute below 1e-3) after ${rounds + 1} steps: ` +
    `${worstParam.toExponential(2)} ${worstName}; all but the key biases: ${worstOther.toExponential(2)} ` +
    worstOtherName,
);
// The finite guard: a poisoned step reports a NaN loss and changes no parameter.
const poisoned = await compiledStep(Number.NaN);
const after = readParams();
const unchanged = fetched.every((x, i) => tf.tidy(() => tf.all(tf.equal(x, after[i])).dataSync()[0] === 1));
tf.dispose([...fetched, ...after]);
console.log(`poisoned step: loss ${poisoned}, every parameter unchanged: ${unchanged}`);
compiled.dispose();
