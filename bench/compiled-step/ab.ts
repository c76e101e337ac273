/**
 * Spike A/B: the eager training step (tfjs-node, one TFE op at a time: forward, backward, global norm,
 * clipping, AdamW) against the same step compiled into one TensorFlow graph (a SavedModel whose `train`
 * signature runs forward, loss, gradients, clipping and ResourceApplyAdam, built by build_train_graph.py)
 * and run with one session call per step through tfjs-node's own SavedModel path. Same process,
 * alternating one step of each, so a loaded machine slows both alike.
 *
 * Both start from the same weights (written here, read by the builder) and draw the same dropout masks
 * (the graph takes the Philox seed pairs the eager forward derives from the step's seed), so their
 * losses must agree step by step; the largest relative difference is printed.
 *
 *   npx tsx bench/compiled-step/ab.ts [--model tiny|mini] [--rounds 10] [--python .venv/bin/python]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index.js';
import { bertLogits } from '../../src/model/bert.js';
import { parseBertConfig } from '../../src/model/config.js';
import { initParams } from '../../src/model/init.js';
import { paramSpecs, type Params } from '../../src/model/params.js';
import { encodeSafetensors } from '../../src/model/safetensors.js';
import { seedStream } from '../../src/lib/rng.js';
import { AdamW } from '../../src/train/adamw.js';
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
const python = arg('python', '.venv/bin/python');
const rounds = Number(arg('rounds', '10'));
const [B, S, V, L] = [32, 128, 30522, 3];

await initBackend('tensorflow', { log: () => {} });
const node = createRequire(import.meta.url)('@tensorflow/tfjs-node') as {
  node: { loadSavedModel(p: string, tags: string[], sig: string): Promise<tf.InferenceModel & { dispose(): void }> };
};
const config = parseBertConfig(
  { ...MODELS[model], vocab_size: V, max_position_embeddings: 512, num_labels: L },
  `bench ${model}`,
);
const init = initParams(config, 0);
const dir = mkdtempSync(path.join(os.tmpdir(), 'compiled-step-'));
const entries = [...init].map(([name, t]) => ({ name, shape: t.shape, values: t.dataSync() as Float32Array }));
writeFileSync(path.join(dir, 'init.safetensors'), encodeSafetensors(entries));
const m = MODELS[model];
const built = spawnSync(
  python,
  [
    path.join(path.dirname(new URL(import.meta.url).pathname), 'build_train_graph.py'),
    path.join(dir, 'graph'),
    ...['--init', path.join(dir, 'init.safetensors'), '--layers', `${m.num_hidden_layers}`],
    ...['--hidden', `${m.hidden_size}`, '--heads', `${m.num_attention_heads}`, '--inter', `${m.intermediate_size}`],
  ],
  { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } },
);
if (built.status !== 0) throw new Error(`build_train_graph.py failed: ${built.stderr.trim().split('\n').at(-1)}`);
const graph = path.join(dir, 'graph');
const vars: Params = new Map([...init].map(([k, t]) => [k, tf.variable(t, true, k)]));
tf.dispose([...init.values()]);
const specs = new Map(paramSpecs(config).map((sp) => [sp.name, sp]));
const adamS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decayEmbeddings: false };
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

const compiled = await node.node.loadSavedModel(graph, ['serve'], 'train');
// tfjs-node's session call, by tensor names: what TFSavedModel.predict does, plus inputs and outputs
// outside the signature (the poisoned step below, parameter reads)
const session = compiled as unknown as { sessionId: number };
const be = tf.backend() as unknown as {
  runSavedModel(
    id: number,
    inputs: tf.Tensor[],
    inInfo: { name: string; tfDtype: string }[],
    out: string[],
  ): tf.Tensor[];
};
const run = (feeds: Record<string, tf.Tensor>, outputs: string[]) =>
  be.runSavedModel(
    session.sessionId,
    Object.values(feeds),
    Object.entries(feeds).map(([k, x]) => ({ name: `${k}:0`, tfDtype: x.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' })),
    outputs.map((k) => `${k}:0`),
  );
const nDrop = 1 + config.numHiddenLayers * 3 + 1;
let t = 0;
/** One compiled step; `lossScale` NaN poisons it (the graph must then leave every variable alone). */
async function compiledStep(lossScale = 1): Promise<number> {
  const next = seedStream(t); // the eager step t uses seed t
  t++;
  const feeds = tf.tidy(() => ({
    input_ids: inputIds,
    attention_mask: attentionMask,
    token_type_ids: tokenTypeIds,
    labels,
    // the pairs native-ops.ts's statelessUniform makes from each seed the eager forward draws
    seeds: tf.tensor2d(
      Array.from({ length: nDrop }, () => [next(), 0x5eed]),
      [nDrop, 2],
      'int32',
    ),
    lr: tf.scalar(lr),
    beta1_power: tf.scalar(0.9 ** t),
    beta2_power: tf.scalar(0.999 ** t),
    eps_hat: tf.scalar(1e-8 * Math.sqrt(1 - 0.999 ** t)),
    decay: tf.scalar(lr * 0.01),
    clip_norm: tf.scalar(1),
    ...(lossScale !== 1 ? { loss_scale: tf.scalar(lossScale) } : {}),
  }));
  const out = run(feeds, ['loss', 'applied']);
  const loss = (await out[0].data())[0];
  const applied = (await out[1].data())[0];
  if (!applied !== Number.isNaN(loss)) throw new Error(`step ${t}: loss ${loss} but applied=${applied}`);
  const fed = [inputIds, attentionMask, tokenTypeIds, labels] as tf.Tensor[];
  tf.dispose([...Object.values(feeds).filter((x) => !fed.includes(x)), ...out]);
  return loss;
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
const readParams = () =>
  run(
    {},
    names.map((n) => `${n.replaceAll('.', '/')}/Read/ReadVariableOp`),
  );
const fetched = readParams();
let worstParam = 0;
let worstName = '';
names.forEach((n, i) => {
  const a = tf.tidy(() => tf.norm(vars.get(n)!).dataSync()[0]);
  const b = tf.tidy(() => tf.norm(fetched[i]).dataSync()[0]);
  // relative, absolute below 1e-3: the key biases' true gradient is zero (softmax ignores a constant
  // added to every score), so they move only by rounding noise, differently on each path
  const rel = Math.abs(a - b) / Math.max(Math.abs(a), 1e-3);
  if (rel > worstParam) [worstParam, worstName] = [rel, `${n} (${a} vs ${b})`];
});
console.log(
  `largest difference of a parameter's norm (relative, absolute below 1e-3) after ${rounds + 1} steps: ` +
    `${worstParam.toExponential(2)} ${worstName}`,
);
// The finite guard: a poisoned step reports a NaN loss and changes no parameter.
const poisoned = await compiledStep(Number.NaN);
const after = readParams();
const unchanged = fetched.every((x, i) => tf.tidy(() => tf.all(tf.equal(x, after[i])).dataSync()[0] === 1));
tf.dispose([...fetched, ...after]);
console.log(`poisoned step: loss ${poisoned}, every parameter unchanged: ${unchanged}`);
compiled.dispose();
rmSync(dir, { recursive: true, force: true });
