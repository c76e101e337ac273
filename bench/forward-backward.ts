/**
 * One training step (forward + backward + AdamW-style update) of BERT-tiny and BERT-mini at
 * seq 128, batch 32, vocab 30522, on each available tfjs backend, next to the same step in PyTorch
 * (HF BertForSequenceClassification + torch.optim.AdamW) measured in the same run.
 *
 *   npx tsx bench/forward-backward.ts [--backends compiled,tensorflow,wasm(,cpu)] [--models tiny,mini]
 *       [--batch 32] [--seq 128] [--steps 5] [--warmup 1] [--max-seconds 60] [--python PATH] [--no-torch]
 *       [--torch-threads 1,0] [--json]
 *
 * torch runs in the project venv (.venv from scripts/setup-python.sh, or $RECSYS_REFERENCE_PYTHON).
 *
 * The update is src/train's AdamW (torch semantics, decay on Linear kernels only) and the loss its
 * cross-entropy, i.e. the trainer's own step minus clipping and the schedule. Each (backend, model) runs in its
 * own child process, because a tfjs backend is process-global. Reported: median ms/step over the
 * measured steps, samples/s, and the ratio to the faster torch run (>1 = slower than torch); torch
 * runs with 1 thread and with its default thread count (0), since on a busy 2-core machine OpenMP's
 * spinning threads can make the default several times slower.
 *
 * `compiled` is the step `recsys train` takes on the tensorflow backend by default (train.compiled:
 * src/train/compiled/, one TensorFlow graph per step: forward, loss, gradients, global norm, AdamW),
 * built for any [batch, seq] as the trainer builds it, without clipping (as the eager row and torch).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { bertLogits } from '../src/model/bert.js';
import { parseBertConfig } from '../src/model/config.js';
import { initParams } from '../src/model/init.js';
import { paramSpecs, type Params } from '../src/model/params.js';
import { AdamW, decays } from '../src/train/adamw.js';
import { weightedCrossEntropy } from '../src/train/loss.js';

const MODELS: Record<string, Record<string, number>> = {
  tiny: { num_hidden_layers: 2, hidden_size: 128, num_attention_heads: 2, intermediate_size: 512 },
  mini: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 },
};
const _BACKENDS = ['compiled', 'tensorflow', 'wasm', 'cpu'] as const;
/**
 * cpu is left out unless asked for: tfjs-backend-cpu's UnsortedSegmentSum (the gradient of the
 * embedding gather) loops over every one of the 30522 vocabulary rows with full-size temporaries,
 * which takes minutes per step and >14 GB at batch 32 × 128.
 */
const DEFAULT_BACKENDS = ['compiled', 'tensorflow', 'wasm'];
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

interface Opts {
  backends: string[];
  models: string[];
  batch: number;
  seq: number;
  vocab: number;
  labels: number;
  steps: number;
  warmup: number;
  maxSeconds: number;
  python: string;
  torch: boolean;
  json: boolean;
  torchThreads: number[];
}
interface Result {
  runtime: string;
  model: string;
  ms_per_step?: number;
  samples_per_s?: number;
  steps?: number;
  error?: string;
  note?: string;
}

function parseArgs(argv: string[]): Opts & { child?: { backend: string; model: string } } {
  const get = (k: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (k: string, d: number) => (get(k) !== undefined ? Number(get(k)) : d);
  const o = {
    backends: (get('backends') ?? DEFAULT_BACKENDS.join(',')).split(','),
    models: (get('models') ?? 'tiny,mini').split(','),
    batch: num('batch', 32),
    seq: num('seq', 128),
    vocab: num('vocab', 30522),
    labels: num('labels', 3),
    steps: num('steps', 5),
    warmup: num('warmup', 1),
    maxSeconds: num('max-seconds', 60),
    python:
      get('python') ??
      process.env.RECSYS_REFERENCE_PYTHON ??
      [path.join(root, '.venv', 'bin', 'python'), path.join(root, '.venv-reference', 'bin', 'python')].find((p) =>
        existsSync(p),
      ) ??
      'python3',
    torch: !argv.includes('--no-torch'),
    json: argv.includes('--json'),
    // torch with 1 thread and with its default (all cores): on a busy 2-core machine either can win
    torchThreads: (get('torch-threads') ?? '1,0').split(',').map(Number),
  };
  for (const m of o.models)
    if (!MODELS[m]) throw new Error(`unknown model ${m}; use ${Object.keys(MODELS).join(', ')}`);
  const child = get('child-backend');
  return child ? { ...o, child: { backend: child, model: get('child-model')! } } : o;
}

/** Child process: one backend, one model. Prints a JSON line. */
async function runChild(o: Opts, backend: string, model: string): Promise<Result> {
  const { initBackend } = (await import('../src/backend/index.js' as string)) as {
    initBackend: (
      b: string,
      opts?: { log?: (m: string) => void },
    ) => Promise<{ name: string; threads?: number; simd?: boolean; tfVersion?: string }>;
  };
  const compiled = backend === 'compiled';
  const info = await initBackend(compiled ? 'tensorflow' : backend, { log: () => {} });
  const config = parseBertConfig(
    { ...MODELS[model], vocab_size: o.vocab, max_position_embeddings: 512, num_labels: o.labels },
    `bench ${model}`,
  );
  const init = initParams(config, 0);
  // variable names are the parameter names, so variableGrads' result is keyed like the map
  const vars: Params = new Map([...init].map(([k, t]) => [k, tf.variable(t, true, k)]));
  for (const t of init.values()) t.dispose();
  const lr = 1e-4;
  const specs = new Map(paramSpecs(config).map((sp) => [sp.name, sp]));
  const opt = new AdamW(vars as Map<string, tf.Variable>, specs, {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0.01,
    decayEmbeddings: false,
  });
  const inputIds = tf.randomUniform([o.batch, o.seq], 1, o.vocab, 'int32', 1) as tf.Tensor2D;
  const attentionMask = tf.onesLike(inputIds) as tf.Tensor2D;
  const tokenTypeIds = tf.zerosLike(inputIds) as tf.Tensor2D;
  const labels = tf.randomUniform([o.batch], 0, o.labels, 'int32', 2) as tf.Tensor1D;

  let step = 0;
  const graph = compiled ? await compiledStep(config, vars) : undefined;
  const eagerStep = async () => {
    const { value, grads } = tf.variableGrads(() =>
      weightedCrossEntropy(
        bertLogits(vars, config, { inputIds, attentionMask, tokenTypeIds }, { training: true, seed: step }),
        labels,
      ),
    );
    opt.step(new Map(Object.entries(grads)), lr);
    const loss = (await value.data())[0];
    tf.dispose([value, ...Object.values(grads)]);
    step++;
    return loss;
  };
  const trainStep = graph
    ? async () => {
        const settings = { seed: step, lr, t: ++step, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 0 };
        return (await graph.step({ inputIds, attentionMask, tokenTypeIds, labels }, settings)).loss;
      }
    : eagerStep;
  for (let i = 0; i < o.warmup; i++) await trainStep();
  const times: number[] = [];
  const started = performance.now();
  for (let i = 0; i < o.steps; i++) {
    const t0 = performance.now();
    const loss = await trainStep();
    if (!Number.isFinite(loss)) throw new Error(`loss is ${loss}`);
    times.push(performance.now() - t0);
    if (performance.now() - started > o.maxSeconds * 1000) break;
  }
  const ms = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  const note =
    info.name === 'wasm'
      ? `SIMD ${info.simd ? 'on' : 'off'}, ${info.threads ?? 1} thread(s)`
      : info.tfVersion
        ? `TF ${info.tfVersion}`
        : '';
  return {
    runtime: compiled ? 'tfjs-compiled' : `tfjs-${info.name}`,
    model,
    ms_per_step: ms,
    samples_per_s: o.batch / (ms / 1000),
    steps: times.length,
    note,
  };
}

/** The trainer's compiled step for this model (any [batch, seq]), started from the bench's weights. */
async function compiledStep(config: ReturnType<typeof parseBertConfig>, vars: Params) {
  const { loadGraphGradients } = await import('../src/backend/graph-gradients.js');
  const { loadedNative } = await import('../src/backend/index.js');
  const { CompiledStep } = await import('../src/train/compiled/compiled-step.js');
  const addon = loadGraphGradients(loadedNative());
  if (!addon) throw new Error('no graph gradients addon in the setup:native cache: run `npm run setup:native`');
  const specs = paramSpecs(config);
  const decayed = new Set(specs.filter((sp) => decays(sp, false)).map((sp) => sp.name));
  const step = await CompiledStep.create({ config, beta1: 0.9, beta2: 0.999, decayed, addon });
  step.init(vars);
  return step;
}

function runProcess(cmd: string, args: string[], timeoutMs: number): Promise<Result> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, timeoutMs);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut)
        return resolve({
          runtime: '?',
          model: '?',
          error: `no result within ${Math.round(timeoutMs / 1000)} s (killed)`,
        });
      const line = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .at(-1);
      if (code === 0 && line) resolve(JSON.parse(line) as Result);
      else resolve({ runtime: '?', model: '?', error: (err.trim().split('\n').at(-1) ?? '') || `exit ${code}` });
    });
  });
}

function fmt(r: Result, torchMs?: number): string {
  if (r.error) return `  ${r.runtime.padEnd(16)} ${r.model.padEnd(5)} unavailable: ${r.error}`;
  const ratio = torchMs && r.runtime !== 'torch' ? `${(r.ms_per_step! / torchMs).toFixed(2)}x torch` : '';
  return (
    `  ${r.runtime.padEnd(16)} ${r.model.padEnd(5)} ${r.ms_per_step!.toFixed(0).padStart(8)} ` +
    `ms/step ${r.samples_per_s!.toFixed(1).padStart(8)} samples/s  ${ratio.padEnd(12)} (${r.steps} ` +
    `steps${r.note ? `; ${r.note}` : ''})`
  );
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.child) {
    try {
      console.log(JSON.stringify(await runChild(o, o.child.backend, o.child.model)));
    } catch (e) {
      process.stderr.write(`${(e as Error).message.split('\n')[0]}\n`);
      process.exit(1);
    }
    return;
  }
  // warm-up + measured steps + process start; a step slower than maxSeconds still reports once
  const childTimeout = (3 * o.maxSeconds + 60) * 1000;
  const common = [
    '--batch',
    o.batch,
    '--seq',
    o.seq,
    '--vocab',
    o.vocab,
    '--labels',
    o.labels,
    '--steps',
    o.steps,
    '--warmup',
    o.warmup,
    '--max-seconds',
    o.maxSeconds,
  ].map(String);
  console.error(
    `one training step, batch ${o.batch} × seq ${o.seq}, vocab ${o.vocab}, ${o.labels} labels; ` +
      `median of up to ${o.steps} steps after ${o.warmup} warm-up`,
  );
  const all: Result[] = [];
  for (const model of o.models) {
    let torchMs: number | undefined;
    const rows: Result[] = [];
    for (const threads of o.torch ? o.torchThreads : []) {
      const r = existsSync(o.python)
        ? await runProcess(
            o.python,
            [path.join(here, 'forward_backward_torch.py'), '--model', model, '--threads', String(threads), ...common],
            childTimeout,
          )
        : { runtime: 'torch', model, error: `no Python at ${o.python} (bash scripts/setup-python.sh makes .venv)` };
      r.runtime = 'torch';
      r.model = model;
      r.note = `${(r as { threads?: number }).threads ?? threads} thread(s)`;
      // the ratio is taken against the faster torch configuration
      if (r.ms_per_step !== undefined && (torchMs === undefined || r.ms_per_step < torchMs)) torchMs = r.ms_per_step;
      rows.push(r);
      if (!o.json) console.log(fmt(r));
    }
    for (const backend of o.backends) {
      const r = await runProcess(
        process.execPath,
        [
          ...process.execArgv,
          fileURLToPath(import.meta.url),
          '--child-backend',
          backend,
          '--child-model',
          model,
          ...common,
        ],
        childTimeout,
      );
      if (r.error) r.runtime = `tfjs-${backend}`;
      r.model = model;
      rows.push(r);
      if (!o.json) console.log(fmt(r, torchMs));
    }
    all.push(
      ...rows.map((r) => ({ ...r, ratio_vs_torch: torchMs && r.ms_per_step ? r.ms_per_step / torchMs : undefined })),
    );
  }
  if (o.json) console.log(JSON.stringify(all, null, 2));
}

await main();
