import { createHash } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { RecsysConfig } from '../config/schema.js';
import type { DatasetManifest } from '../data/manifest.js';
import type { SplitArrays } from '../data/split-reader.js';
import { RecsysError, UsageError } from '../lib/errors.js';
import { faultPoint } from '../lib/fault.js';
import { paramSpecs, type BertConfig, type Params, type ParamSpec } from '../model/index.js';
import { runPaths } from '../run/layout.js';
import { AdamW } from './adamw.js';
import { compiledTrainerStep } from './compiled/trainer-step.js';
import { epochBatches, paddingFraction } from './batches.js';
import { classificationObjective } from './classification-objective.js';
import { EarlyStopping, modeFor } from './early-stop.js';
import { earlyStoppingMetric } from './embedding-objective.js';
import type { ValidationMetrics } from '../eval/metrics-record.js';
import { clipCoefficient, globalNorm } from './loss.js';
import type { Objective } from './objective.js';
import { MetricsLog } from './metrics-log.js';
import { learningRateAt, warmupSteps } from './schedule.js';
import {
  isCompleteCheckpoint,
  pointTo,
  pruneCheckpoints,
  readCheckpoint,
  resolveLink,
  writeCheckpoint,
  type TrainState,
} from './state.js';

export type StopReason = 'epochs' | 'max_steps' | 'early_stopping' | 'nan' | 'interrupted';

export class NonFiniteError extends RecsysError {
  override readonly exitCode = 3;
}

export interface TrainEvents {
  epochStart?(epoch: number, steps: number, fromStep: number): void;
  step?(info: { step: number; epoch: number; loss: number; lr: number; samplesPerSec: number }): void;
  /** Once for every epochStart, also when the run stops mid-epoch (max_steps, interrupt, NaN). */
  epochEnd?(epoch: number): void;
  log?(msg: string): void;
}

export interface TrainInputs {
  config: RecsysConfig;
  /** The prepared dataset's manifest: the default (classification) objective reads its pad id. */
  manifest?: DatasetManifest;
  runDir: string;
  modelConfig: BertConfig;
  params: Params;
  train: SplitArrays;
  validation: SplitArrays | null;
  resume: boolean;
  events?: TrainEvents;
  /** Debug: append each optimizer step's row indices (into train.arrow) to this JSONL file. */
  dumpBatches?: string;
  /** Set by a signal handler: finish the current step, checkpoint, and stop. */
  shouldInterrupt?: () => boolean;
  /** What is optimised and reported; default the classifier's cross-entropy on `train`'s labels. */
  objective?: Objective;
}

export interface TrainResult {
  stopReason: StopReason;
  steps: number;
  best: { metric: string; value: number | null; step: number | null };
  lastEval: ValidationMetrics | null;
  samplesPerSec: number;
  seconds: number;
  paddingFraction: number;
  params: Params;
  error?: string;
}

/** A seed for step `step`, micro-batch `micro`: dropout masks depend only on these, so resume replays them. */
function dropoutSeed(seed: number, step: number, micro: number): number {
  const h = createHash('sha256').update(`${seed}:${step}:${micro}`).digest();
  return h.readUInt32LE(0);
}

function nonFinite(step: number, loss: number, norm: number): string {
  const what = !Number.isFinite(loss) ? `loss is ${loss}` : `gradient norm is ${norm}`;
  return `step ${step}: ${what}; stopped before applying it (lower train.lr or check the data)`;
}

export async function trainLoop(inp: TrainInputs): Promise<TrainResult> {
  const { config, runDir, modelConfig, train, validation } = inp;
  const t = config.train;
  const ev = inp.events ?? {};
  const specs = new Map<string, ParamSpec>(paramSpecs(modelConfig).map((s) => [s.name, s]));
  const run = runPaths(runDir);
  const ckptDir = run.checkpoints;
  const lastLink = run.last;
  const bestDir = path.join(ckptDir, 'best');
  await mkdir(ckptDir, { recursive: true });

  // Resume: weights, moments and counters from the last complete checkpoint.
  let resumed: Awaited<ReturnType<typeof readCheckpoint>> | null = null;
  if (inp.resume) {
    const target = resolveLink(lastLink);
    if (!target || !isCompleteCheckpoint(target))
      throw new UsageError(`${runDir}: nothing to resume (no complete checkpoint under last/)`);
    resumed = await readCheckpoint(target);
  }
  const padId = inp.manifest?.tokenizer.special_ids.pad ?? 0;
  // The default objective is the classifier head's, by problem_type.
  const objective = inp.objective ?? classificationObjective({ config, modelConfig, train, validation, padId });
  const vars = new Map<string, tf.Variable>();
  // The loop owns the parameters from here: variables are made from them and the originals disposed.
  for (const [name, p] of resumed ? resumed.params : inp.params) vars.set(name, tf.variable(p, true));
  tf.dispose([...(resumed ? resumed.params : inp.params).values()]);
  if (resumed) tf.dispose([...inp.params.values()]);
  const adam = new AdamW(vars, specs, {
    beta1: t.adam_beta1,
    beta2: t.adam_beta2,
    eps: t.adam_eps,
    weightDecay: t.weight_decay,
    decayEmbeddings: t.decay_embeddings,
  });
  // Only what the objective trains gets gradients (a bi-encoder leaves the pooler and head alone).
  const trainable = [...vars].filter(([n]) => objective.trains?.(specs.get(n)!) ?? true);
  const watched = earlyStoppingMetric(config);
  const early = new EarlyStopping({
    metric: watched,
    mode: modeFor(watched, t.early_stopping.mode),
    patience: t.early_stopping.patience,
    minDelta: t.early_stopping.min_delta,
  });
  const state: TrainState = resumed?.state ?? {
    step: 0,
    epoch: 0,
    batchInEpoch: 0,
    adamT: 0,
    early: early.state,
    lastEvalStep: null,
    samplesSeen: 0,
    metricsBytes: 0,
    seconds: 0,
  };
  early.state = state.early;
  adam.t = state.adamT;
  const metrics = new MetricsLog(run.metrics, resumed ? state.metricsBytes : undefined);

  // Best weights: kept in memory, and on disk (checkpoints/best) so a resumed run can restore them.
  let best: Params | null = null;
  if (resumed && early.state.bestStep !== null && isCompleteCheckpoint(bestDir))
    best = (await readCheckpoint(bestDir, false)).params;

  const lengths =
    objective.lengths ?? Int32Array.from({ length: train.size }, (_, i) => train.offsets[i + 1] - train.offsets[i]);
  const batchesPerEpoch = Math.ceil(lengths.length / t.batch_size);
  const stepsPerEpoch = Math.ceil(batchesPerEpoch / t.grad_accum);
  const totalSteps = Math.min(t.max_steps ?? Infinity, stepsPerEpoch * t.epochs);
  const warmup = warmupSteps(t.warmup, totalSteps);
  ev.log?.(
    `training ${lengths.length} rows, ${stepsPerEpoch} steps/epoch × ${t.epochs} epochs → ${totalSteps} steps ` +
      `(warmup ${warmup}), batch ${t.batch_size}×${t.grad_accum}${objective.note ?? ''}`,
  );

  // One TensorFlow graph per step when it can run here (train.compiled); its variables own the weights
  // and moments then, and sync() brings them back before anything reads vars or the moments.
  const compiled = await compiledTrainerStep(t, modelConfig, specs, vars, resumed?.moments, objective.compiled, ev.log);
  if (resumed?.moments) {
    // the compiled step took them into its graph; the eager optimizer holds them otherwise
    if (!compiled) {
      for (const [name, m] of adam.m) m.assign(resumed.moments[`m/${name}`]);
      for (const [name, v] of adam.v) v.assign(resumed.moments[`v/${name}`]);
    }
    tf.dispose(Object.values(resumed.moments));
  }
  const paramsView = (): Params => vars as unknown as Params;
  let lastEval: ValidationMetrics | null = null;
  let stopReason: StopReason | null = null;
  let error: string | undefined;
  const startWall = performance.now();
  const startSeconds = state.seconds;
  const startSamples = state.samplesSeen;
  const pad: number[] = [];

  const evaluate = async (): Promise<ValidationMetrics | null> => {
    if ((objective.validationRows ?? validation?.size ?? 0) === 0) return null;
    compiled?.sync();
    const m = (await objective.evaluate(paramsView())) as ValidationMetrics & Record<string, number>;
    const value = m[early.s.metric];
    if (value === undefined)
      throw new UsageError(
        `train.early_stopping.metric: "${early.s.metric}" is not reported; use one of ${Object.keys(m).join(', ')}`,
      );
    const improved = early.update(value, state.step);
    if (improved) {
      if (best) tf.dispose([...best.values()]);
      best = new Map([...vars].map(([n, v]) => [n, tf.clone(v)]));
    }
    state.lastEvalStep = state.step;
    metrics.write({
      type: 'eval',
      step: state.step,
      epoch: state.epoch,
      split: 'validation',
      metrics: m,
      best: early.state.best,
      best_step: early.state.bestStep,
    });
    lastEval = m;
    const shown = objective.describe(m);
    const watchedToo = shown.includes(`${watched} `) ? '' : ` ${watched} ${m[watched]?.toFixed(4)}`;
    ev.log?.(`eval step ${state.step}: ${shown}${watchedToo}${improved ? ' (best)' : ''}`);
    return m;
  };

  // Time-based checkpoints as well as step-based ones, so a preempted long epoch is never lost whole.
  const everyMs = t.checkpoint_every_minutes === null ? Infinity : t.checkpoint_every_minutes * 60_000;
  let lastCheckpointAt = performance.now();
  const checkpoint = async (withBest: boolean) => {
    lastCheckpointAt = performance.now();
    compiled?.sync();
    state.adamT = adam.t;
    state.early = early.state;
    state.metricsBytes = metrics.bytes;
    state.seconds = startSeconds + (performance.now() - startWall) / 1000;
    if (withBest && best && early.state.bestStep === state.step)
      await writeCheckpoint(bestDir, modelConfig, best, null, { ...state });
    const dir = path.join(ckptDir, `step-${state.step}`);
    const moments =
      compiled?.moments() ??
      new Map<string, tf.Tensor>([
        ...[...adam.m].map(([n, m]) => [`m/${n}`, m] as const),
        ...[...adam.v].map(([n, v]) => [`v/${n}`, v] as const),
      ]);
    try {
      await writeCheckpoint(dir, modelConfig, paramsView(), moments, { ...state });
    } finally {
      if (compiled) tf.dispose([...moments.values()]);
    }
    await pointTo(lastLink, dir);
    await pruneCheckpoints(ckptDir, t.keep_checkpoints, new Set([dir, bestDir]));
  };

  let openEpoch: number | null = null; // started and not yet ended, for epochEnd
  outer: for (let epoch = state.epoch; epoch < t.epochs; epoch++) {
    const batches = epochBatches(lengths, t.batch_size, config.seed, epoch, objective.lengthBuckets ?? true);
    pad.push(paddingFraction(lengths, batches));
    const startBatch = epoch === state.epoch ? state.batchInEpoch : 0;
    state.epoch = epoch;
    ev.epochStart?.(epoch, stepsPerEpoch, Math.floor(startBatch / t.grad_accum));
    openEpoch = epoch;
    for (let b = startBatch; b < batches.length; b += t.grad_accum) {
      if (state.step >= totalSteps) {
        stopReason = 'max_steps';
        break outer;
      }
      const micro = batches.slice(b, b + t.grad_accum);
      const lr = learningRateAt(t.schedule, t.lr, state.step, totalSteps, warmup);
      if (inp.dumpBatches)
        appendFileSync(inp.dumpBatches, `${JSON.stringify({ step: state.step, lr, batches: micro })}\n`);
      let lossValue: number;
      let norm: number;
      if (compiled) {
        faultPoint('step');
        const microBatches = micro.map((rows, k) => ({ rows, seed: dropoutSeed(config.seed, state.step, k) }));
        const r = await compiled.step(microBatches, epoch, lr, adam.t + 1);
        if (!r.applied) {
          [stopReason, error] = ['nan', nonFinite(state.step + 1, r.loss, r.gradNorm)];
          break outer;
        }
        adam.t++;
        [lossValue, norm] = [r.loss, r.gradNorm];
      } else {
        let grads: tf.NamedTensorMap | null = null;
        let lossSum: tf.Scalar = tf.scalar(0);
        micro.forEach((rows, k) => {
          const seed = dropoutSeed(config.seed, state.step, k);
          const { value, grads: g } = tf.variableGrads(
            () =>
              tf.div(
                objective.loss(paramsView(), rows, { epoch, seed, training: t.dropout }),
                micro.length,
              ) as tf.Scalar,
            trainable.map(([, v]) => v),
          );
          const next = tf.add(lossSum, value) as tf.Scalar;
          tf.dispose([lossSum, value]);
          lossSum = next;
          if (!grads) grads = g;
          else {
            const sum: tf.NamedTensorMap = {};
            for (const k2 of Object.keys(g)) sum[k2] = tf.add(grads[k2], g[k2]);
            tf.dispose([...Object.values(grads), ...Object.values(g)]);
            grads = sum;
          }
        });
        const byName = new Map<string, tf.Tensor>(trainable.map(([n, v]) => [n, grads![v.name]]));
        const normT = globalNorm([...byName.values()]);
        [lossValue, norm] = [lossSum.dataSync()[0], normT.dataSync()[0]];
        normT.dispose();
        lossSum.dispose();
        if (!Number.isFinite(lossValue) || !Number.isFinite(norm)) {
          tf.dispose(Object.values(grads!));
          [stopReason, error] = ['nan', nonFinite(state.step + 1, lossValue, norm)];
          break outer;
        }
        faultPoint('step');
        const coef = clipCoefficient(norm, t.clip_norm);
        if (coef < 1) for (const [n, g] of byName) byName.set(n, tf.mul(g, coef));
        adam.step(byName, lr);
        tf.dispose([...Object.values(grads!), ...(coef < 1 ? [...byName.values()] : [])]);
      }
      state.step++;
      state.batchInEpoch = b + micro.length;
      const samples = micro.reduce((a, r) => a + r.length, 0);
      state.samplesSeen += samples;
      const elapsed = (performance.now() - startWall) / 1000;
      const sps = (state.samplesSeen - startSamples) / Math.max(elapsed, 1e-6);
      metrics.write({
        type: 'train',
        step: state.step,
        epoch,
        loss: lossValue,
        lr,
        grad_norm: norm,
        samples_per_s: sps,
        time_s: startSeconds + elapsed,
      });
      ev.step?.({ step: state.step, epoch, loss: lossValue, lr, samplesPerSec: sps });

      const evalNow = t.eval_every !== null && state.step % t.eval_every === 0;
      if (evalNow) await evaluate();
      const stepDue = t.checkpoint_every !== null && state.step % t.checkpoint_every === 0;
      if (evalNow || stepDue || performance.now() - lastCheckpointAt >= everyMs) await checkpoint(evalNow);
      if (evalNow && early.shouldStop) {
        stopReason = 'early_stopping';
        break outer;
      }
      if (inp.shouldInterrupt?.()) {
        stopReason = 'interrupted';
        break outer;
      }
    }
    // End of epoch: evaluate (unless this step was just evaluated) and checkpoint.
    state.epoch = epoch + 1;
    state.batchInEpoch = 0;
    if (state.lastEvalStep !== state.step) await evaluate();
    await checkpoint(true);
    ev.epochEnd?.(epoch);
    openEpoch = null;
    if (early.shouldStop) {
      stopReason = 'early_stopping';
      break;
    }
  }
  if (openEpoch !== null) ev.epochEnd?.(openEpoch);
  stopReason ??= state.step >= totalSteps && t.max_steps !== null ? 'max_steps' : 'epochs';

  // Whatever stopped the run: evaluate the current weights if they were not, checkpoint, restore the best.
  if (state.lastEvalStep !== state.step) await evaluate();
  if (
    stopReason === 'interrupted' ||
    stopReason === 'nan' ||
    stopReason === 'max_steps' ||
    stopReason === 'early_stopping'
  )
    await checkpoint(true);
  metrics.close();
  const seconds = startSeconds + (performance.now() - startWall) / 1000;
  compiled?.sync();
  compiled?.dispose();
  const finalParams: Params = best ?? new Map([...vars].map(([n, v]) => [n, tf.clone(v)]));
  tf.dispose([...vars.values()]);
  adam.dispose();
  objective.dispose();
  if (existsSync(`${lastLink}.tmp-${process.pid}`)) await rm(`${lastLink}.tmp-${process.pid}`, { force: true });
  return {
    stopReason,
    steps: state.step,
    best: { metric: early.s.metric, value: early.state.best, step: early.state.bestStep },
    lastEval,
    samplesPerSec: (state.samplesSeen - startSamples) / Math.max((performance.now() - startWall) / 1000, 1e-6),
    seconds,
    paddingFraction: pad.length ? pad.reduce((a, b) => a + b, 0) / pad.length : 0,
    params: finalParams,
    error,
  };
}
