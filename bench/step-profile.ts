/**
 * bench/step-profile: where the milliseconds of one training step go, per TensorFlow op, split into
 * forward, backward, gradient norm and the AdamW update, on the tensorflow backend. Every op
 * tfjs-node hands to TensorFlow is timed where the backend dispatches it (so ops recsys runs by name, such as
 * MatMul inside the dense layers' gradients or ResourceApplyAdam, are counted too); "JS" is the
 * rest of the phase's wall time: tfjs's tape, tensor bookkeeping and recsys's own code.
 *
 *   npx tsx bench/step-profile.ts [--model tiny|mini] [--steps 3] [--top 12] [--json]
 *
 * Same shapes as bench/train.ts: seq 128, batch 32, vocab 30522, dropout on, AdamW with decay.
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
const top = Number(arg('top', '12'));

await initBackend('tensorflow', { log: () => {} });
type Phase = 'forward' | 'backward' | 'grad norm' | 'adamw';
const phases = new Map<Phase, { wall: number; ops: Map<string, { ms: number; n: number }> }>();
let current: Phase | null = null;
// every TensorFlow op tfjs-node runs goes through one of these two backend methods
type Execute = (name: string, ...rest: unknown[]) => unknown;
const backend = tf.backend() as unknown as Record<'executeSingleOutput' | 'executeMultipleOutputs', Execute>;
for (const method of ['executeSingleOutput', 'executeMultipleOutputs'] as const) {
  const original = backend[method].bind(backend);
  backend[method] = (name, ...rest) => {
    const t0 = performance.now();
    const out = original(name, ...rest);
    if (current) {
      const ops = phases.get(current)!.ops;
      const e = ops.get(name) ?? { ms: 0, n: 0 };
      e.ms += performance.now() - t0;
      e.n++;
      ops.set(name, e);
    }
    return out;
  };
}

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

function timed<T>(phase: Phase, record: boolean, f: () => T): T {
  if (!phases.has(phase)) phases.set(phase, { wall: 0, ops: new Map() });
  current = record ? phase : null;
  const t0 = performance.now();
  const out = f();
  if (record) phases.get(phase)!.wall += performance.now() - t0;
  current = null;
  return out;
}

const loss = (seed: number) =>
  weightedCrossEntropy(bertLogits(vars, config, inputs, { training: true, seed }), labels) as tf.Scalar;
for (let s = 0; s <= steps; s++) {
  const record = s > 0; // step 0 warms up
  // the forward alone, then forward+backward with the same seed; the backward is the difference
  timed('forward', record, () => tf.tidy(() => void loss(s).dataSync()));
  const { value, grads } = timed('backward', record, () => {
    const r = tf.variableGrads(() => loss(s), [...vars.values()]);
    r.value.dataSync();
    return r;
  });
  const byName = new Map([...vars].map(([n, v]) => [n, grads[v.name]]));
  const norm = timed('grad norm', record, () => {
    const t = globalNorm([...byName.values()]);
    t.dataSync();
    return t;
  });
  timed('adamw', record, () => {
    adam.step(byName, 1e-4);
    [...vars.values()][0].dataSync();
  });
  tf.dispose([value, norm, ...Object.values(grads)]);
}

const fwd = phases.get('forward')!;
const bwd = phases.get('backward')!;
bwd.wall -= fwd.wall;
for (const [op, e] of fwd.ops) {
  const b = bwd.ops.get(op)!;
  b.ms -= e.ms;
  b.n -= e.n;
  if (b.n === 0) bwd.ops.delete(op);
}
const rows: { phase: string; op: string; ms: number; calls: number }[] = [];
let total = 0;
for (const p of phases.values()) total += p.wall;
console.log(
  `BERT-${model}, seq 128, batch 32: ms per step, mean of ${steps} steps; step total ${(total / steps).toFixed(1)} ms`,
);
for (const [name, p] of phases) {
  const opMs = [...p.ops.values()].reduce((a, e) => a + e.ms, 0);
  const calls = [...p.ops.values()].reduce((a, e) => a + e.n, 0);
  const js = (p.wall - opMs) / steps;
  console.log(
    `\n${name}: ${(p.wall / steps).toFixed(1)} ms = TensorFlow ops ${(opMs / steps).toFixed(1)} ms` +
      ` (${(calls / steps).toFixed(0)} ops) + JS ${js.toFixed(1)} ms`,
  );
  const sorted = [...p.ops].sort((a, b) => b[1].ms - a[1].ms);
  const shown = sorted.slice(0, top);
  const rest = sorted.slice(top).reduce((a, [, e]) => ({ ms: a.ms + e.ms, n: a.n + e.n }), { ms: 0, n: 0 });
  for (const [op, e] of [...shown, ...(rest.n ? [['(other ops)', rest] as const] : [])]) {
    console.log(
      `  ${op.padEnd(28)} ${(e.ms / steps).toFixed(1).padStart(7)} ms ${(e.n / steps).toFixed(0).padStart(5)} ops`,
    );
    rows.push({ phase: name, op, ms: e.ms / steps, calls: e.n / steps });
  }
  rows.push({ phase: name, op: '(JS)', ms: js, calls: 0 });
}
if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
