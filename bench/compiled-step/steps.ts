/**
 * The compiled training step alone (src/train/compiled/: one TensorFlow graph per step), run N times on
 * one fixed batch of 32 × 128 after two warm-up steps, printing its median wall time and CPU time per
 * step. Made to be sampled by a profiler, which sees inside the session call where tfjs's own profiler
 * cannot:
 *
 *   perf record -e cpu-clock -F 499 -o step.data -- node --import tsx bench/compiled-step/steps.ts --model tiny
 *   perf report -i step.data --no-children --sort dso,sym --time 30%-100%
 *
 * (oneDNN's kernels are generated at run time, so perf lists them as `[JIT]`; --time skips the graph build.)
 */
import * as tf from '@tensorflow/tfjs';
import { loadGraphGradients } from '../../src/backend/graph-gradients.js';
import { initBackend, loadedNative } from '../../src/backend/index.js';
import { parseBertConfig } from '../../src/model/config.js';
import { initParams } from '../../src/model/init.js';
import { paramSpecs } from '../../src/model/params.js';
import { decays } from '../../src/train/adamw.js';
import { CompiledStep } from '../../src/train/compiled/compiled-step.js';

const MODELS: Record<string, Record<string, number>> = {
  tiny: { num_hidden_layers: 2, hidden_size: 128, num_attention_heads: 2, intermediate_size: 512 },
  mini: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 },
};
const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i >= 0 ? process.argv[i + 1] : d;
};
const model = arg('model', 'tiny');
const rounds = Number(arg('rounds', '30'));
const [B, S, V, L] = [32, 128, 30522, 3];

await initBackend('tensorflow', { log: () => {} });
const addon = loadGraphGradients(loadedNative());
if (!addon) throw new Error('no graph gradients addon in the setup:native cache: run `npm run setup:native`');
const config = parseBertConfig({ ...MODELS[model], vocab_size: V, max_position_embeddings: 512, num_labels: L }, model);
const specs = paramSpecs(config);
const decayed = new Set(specs.filter((sp) => decays(sp, false)).map((sp) => sp.name));
const step = await CompiledStep.create({ config, beta1: 0.9, beta2: 0.999, decayed, addon });
step.init(initParams(config, 0));
const batch = {
  inputIds: tf.randomUniform([B, S], 1000, V, 'int32', 1) as tf.Tensor2D,
  attentionMask: tf.ones([B, S], 'int32') as tf.Tensor2D,
  tokenTypeIds: tf.zeros([B, S], 'int32') as tf.Tensor2D,
  labels: tf.tensor1d(
    Array.from({ length: B }, (_, i) => i % L),
    'int32',
  ),
};
const settings = { lr: 1e-4, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };
const wall: number[] = [];
let cpu0 = process.cpuUsage();
for (let r = 0; r < rounds + 2; r++) {
  if (r === 2) cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await step.step(batch, { ...settings, seed: r, t: r + 1 });
  if (r >= 2) wall.push(performance.now() - t0);
}
const cpu = process.cpuUsage(cpu0);
wall.sort((a, b) => a - b);
const cpuMs = (cpu.user + cpu.system) / 1000 / rounds;
console.log(
  `${model}: ${rounds} steps, median ${wall[rounds >> 1].toFixed(1)} ms, CPU ${cpuMs.toFixed(1)} ms per step`,
);
step.dispose();
