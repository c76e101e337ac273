/**
 * bench/step-profile: where the milliseconds of one training step go, per TensorFlow kernel type,
 * split into forward, forward+backward, gradient norm and the AdamW update (tf.profile on the
 * tensorflow backend; a kernel's time includes tfjs-node's per-op dispatch).
 *
 *   npx tsx bench/step-profile.ts [--model tiny|mini] [--steps 3] [--top 14] [--json]
 *
 * Same shapes as bench/train.ts: seq 128, batch 32, vocab 30522, dropout on.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';
import { bertLogits } from '../src/model/bert.js';
import { parseBertConfig } from '../src/model/config.js';
import { initParams } from '../src/model/init.js';
import { paramSpecs } from '../src/model/params.js';
import { AdamW } from '../src/train/adamw.js';
import { globalNorm, weightedCrossEntropy } from '../src/train/loss.js';

const MODELS: Record<string, Record<string, number>> = {
  tiny: { num_hidden_layers: 2, hidden_size: 128, num_attention_heads: 2, intermediate_size: 512 },
  mini: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 },
};
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const model = arg('model', 'tiny');
const steps = Number(arg('steps', '3'));
const top = Number(arg('top', '14'));

await initBackend('tensorflow', { log: () => {} });
const config = parseBertConfig(
  { ...MODELS[model], vocab_size: 30522, max_position_embeddings: 512, num_labels: 4 },
  `profile ${model}`,
);
const init = initParams(config, 0);
const vars = new Map([...init].map(([k, t]) => [k, tf.variable(t, true, k)]));
tf.dispose([...init.values()]);
const specs = new Map(paramSpecs(config).map((s) => [s.name, s]));
const adam = new AdamW(vars, specs, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decayEmbeddings: false });
const inputIds = tf.randomUniform([32, 128], 1, 30522, 'int32', 1) as tf.Tensor2D;
const attentionMask = tf.onesLike(inputIds) as tf.Tensor2D;
const labels = tf.randomUniform([32], 0, 4, 'int32', 2) as tf.Tensor1D;
const inputs = { inputIds, attentionMask };

type Phase = 'forward' | 'forward+backward' | 'grad norm' | 'adamw';
const phases: Record<Phase, { ms: number; wall: number; kernels: Map<string, { ms: number; n: number }> }> = {
  forward: { ms: 0, wall: 0, kernels: new Map() },
  'forward+backward': { ms: 0, wall: 0, kernels: new Map() },
  'grad norm': { ms: 0, wall: 0, kernels: new Map() },
  adamw: { ms: 0, wall: 0, kernels: new Map() },
};

async function measure(phase: Phase, f: () => tf.TensorContainer, record: boolean): Promise<tf.TensorContainer> {
  let out: tf.TensorContainer = [];
  const t0 = performance.now();
  const info = await tf.profile(() => {
    out = f();
    return out;
  });
  const wall = performance.now() - t0;
  if (!record) return out;
  const p = phases[phase];
  p.wall += wall;
  for (const k of info.kernels) {
    const e = p.kernels.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += k.kernelTimeMs as number;
    e.n++;
    p.kernels.set(k.name, e);
    p.ms += k.kernelTimeMs as number;
  }
  return out;
}

for (let s = 0; s <= steps; s++) {
  const record = s > 0; // step 0 warms up
  const opts = { training: true, seed: s };
  const fwd = await measure(
    'forward',
    () => weightedCrossEntropy(bertLogits(vars, config, inputs, opts), labels),
    record,
  );
  tf.dispose(fwd);
  const { value, grads } = (await measure(
    'forward+backward',
    () =>
      tf.variableGrads(() => weightedCrossEntropy(bertLogits(vars, config, inputs, opts), labels), [...vars.values()]),
    record,
  )) as unknown as { value: tf.Scalar; grads: tf.NamedTensorMap };
  const byName = new Map([...vars].map(([n, v]) => [n, grads[v.name]]));
  const norm = (await measure('grad norm', () => globalNorm([...byName.values()]), record)) as tf.Scalar;
  norm.dataSync();
  await measure(
    'adamw',
    () => {
      adam.step(byName, 1e-4);
      return [];
    },
    record,
  );
  tf.dispose([value, norm, ...Object.values(grads)]);
}

const rows: Record<string, unknown>[] = [];
console.log(`BERT-${model}, seq 128, batch 32: ms per step (mean of ${steps}), tf.profile kernel times`);
for (const [name, p] of Object.entries(phases)) {
  const n = [...p.kernels.values()].reduce((a, k) => a + k.n, 0) / steps;
  console.log(
    `\n${name}: wall ${(p.wall / steps).toFixed(1)} ms, kernels ${(p.ms / steps).toFixed(1)} ms, ${n.toFixed(0)} kernel calls`,
  );
  const sorted = [...p.kernels].sort((a, b) => b[1].ms - a[1].ms);
  for (const [k, e] of sorted.slice(0, top)) {
    console.log(
      `  ${k.padEnd(22)} ${(e.ms / steps).toFixed(1).padStart(7)} ms ${String(e.n / steps).padStart(5)} calls`,
    );
    rows.push({ phase: name, kernel: k, ms: e.ms / steps, calls: e.n / steps });
  }
}
if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
