import { createHash } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { RecsysConfig } from '../config/schema.js';
import { padBatch } from '../data/batch.js';
import type { DatasetManifest } from '../data/manifest.js';
import { rowOf, type SplitArrays } from '../data/split-reader.js';
import { RecsysError, UsageError } from '../lib/errors.js';
import { faultPoint } from '../lib/fault.js';
import { bertLogits, paramSpecs, type BertConfig, type Params, type ParamSpec } from '../model/index.js';
import { runPaths } from '../run/layout.js';
import { AdamW } from './adamw.js';
import { epochBatches, paddingFraction } from './batches.js';
import { EarlyStopping, modeFor } from './early-stop.js';
import type { ValidationMetrics } from '../eval/metrics-record.js';
import { validationMetrics } from './evaluate.js';
import { EmbeddingObjective, earlyStoppingMetric, embeddingTrains, exampleLengths } from './embedding-objective.js';
import type { TripletSplit } from '../data/triplet-shards.js';
import { balancedWeights, clipCoefficient, globalNorm, weightedCrossEntropy } from './loss.js';
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
  manifest: DatasetManifest;
  runDir: string;
  modelConfig: BertConfig;
  params: Params;
  train: SplitArrays;
  validation: SplitArrays | null;
  /** task embedding: the (anchor, positive, negative) splits; `train` is then empty and `validation` null. */
  pairs?: { train: TripletSplit; validation: TripletSplit | null };
  resume: boolean;
  events?: TrainEvents;
  /** Debug: append each optimizer step's row indices (into train.arrow) to this JSONL file. */
  dumpBatches?: string;
  /** Set by a signal handler: finish the current step, checkpoint, and stop. */
  shouldInterrupt?: () => boolean;
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

export async function trainLoop(inp: TrainInputs): Promise<TrainResult> {
  const { config, runDir, modelConfig, train, validation } = inp;
  const t = config.train;
  const ev = inp.events ?? {};
  const padId = inp.manifest.tokenizer.special_ids.pad ?? 0;
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
  if (resumed?.moments) {
    for (const [name, m] of adam.m) m.assign(resumed.moments[`m/${name}`]);
    for (const [name, v] of adam.v) v.assign(resumed.moments[`v/${name}`]);
    tf.dispose(Object.values(resumed.moments));
  }
  // task embedding: in-batch negatives over sentence vectors instead of a classifier's cross-entropy.
  const contrastive = config.task === 'embedding' ? new EmbeddingObjective(config, modelConfig, padId) : null;
  const pairs = inp.pairs;
  const trainable = [...vars].filter(([n]) => !contrastive || embeddingTrains(specs.get(n)!.part));
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

  const lengths = contrastive
    ? exampleLengths(pairs!.train)
    : Int32Array.from({ length: train.size }, (_, i) => train.offsets[i + 1] - train.offsets[i]);
  const trainSize = lengths.length;
  const batchesPerEpoch = Math.ceil(trainSize / t.batch_size);
  const stepsPerEpoch = Math.ceil(batchesPerEpoch / t.grad_accum);
  const totalSteps = Math.min(t.max_steps ?? Infinity, stepsPerEpoch * t.epochs);
  const warmup = warmupSteps(t.warmup, totalSteps);
  const numLabels = modelConfig.id2label.length;
  const counts = new Array<number>(numLabels).fill(0);
  for (const l of train.labels) counts[l]++;
  const weights =
    t.class_weights === null
      ? null
      : t.class_weights === 'balanced'
        ? balancedWeights(counts)
        : modelConfig.id2label.map((l) => (t.class_weights as Record<string, number>)[l] ?? 1);
  if (t.class_weights && t.class_weights !== 'balanced') {
    const unknown = Object.keys(t.class_weights).filter((l) => !modelConfig.id2label.includes(l));
    if (unknown.length)
      throw new UsageError(
        `train.class_weights: unknown label(s) ${unknown.join(', ')}; labels are ${modelConfig.id2label.join(', ')}`,
      );
  }
  const classWeights = weights ? tf.tensor1d(weights) : undefined;
  ev.log?.(
    `training ${trainSize} rows, ${stepsPerEpoch} steps/epoch × ${t.epochs} epochs → ${totalSteps} steps ` +
      `(warmup ${warmup}), batch ${t.batch_size}×${t.grad_accum}` +
      (weights ? `, class weights ${weights.map((w) => w.toFixed(3)).join(' ')}` : ''),
  );

  const paramsView = (): Params => vars as unknown as Params;
  let lastEval: ValidationMetrics | null = null;
  let stopReason: StopReason | null = null;
  let error: string | undefined;
  const startWall = performance.now();
  const startSeconds = state.seconds;
  const startSamples = state.samplesSeen;
  const pad: number[] = [];

  const evaluate = (): ValidationMetrics | null => {
    const validRows = contrastive ? (pairs!.validation?.size ?? 0) : (validation?.size ?? 0);
    if (validRows === 0) return null;
    const m = contrastive
      ? contrastive.validate(paramsView(), pairs!.validation!, t.batch_size, config.eval.batch_size)
      : validationMetrics(paramsView(), modelConfig, validation!, config.eval.batch_size, padId);
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
    const shown = contrastive ? ['loss', 'ndcg@10', 'recall@10', 'mrr@10'] : ['loss', 'accuracy', 'macro_f1'];
    const values = [...new Set([...shown, early.s.metric])].map((k) => `${k} ${m[k]?.toFixed(4)}`).join(' ');
    ev.log?.(`eval step ${state.step}: ${values}${improved ? ' (best)' : ''}`);
    return m;
  };

  const checkpoint = async (withBest: boolean) => {
    state.adamT = adam.t;
    state.early = early.state;
    state.metricsBytes = metrics.bytes;
    state.seconds = startSeconds + (performance.now() - startWall) / 1000;
    if (withBest && best && early.state.bestStep === state.step)
      await writeCheckpoint(bestDir, modelConfig, best, null, { ...state });
    const dir = path.join(ckptDir, `step-${state.step}`);
    const moments = new Map<string, tf.Tensor>([
      ...[...adam.m].map(([n, m]) => [`m/${n}`, m] as const),
      ...[...adam.v].map(([n, v]) => [`v/${n}`, v] as const),
    ]);
    await writeCheckpoint(dir, modelConfig, paramsView(), moments, { ...state });
    await pointTo(lastLink, dir);
    await pruneCheckpoints(ckptDir, t.keep_checkpoints, new Set([dir, bestDir]));
  };

  let openEpoch: number | null = null; // started and not yet ended, for epochEnd
  outer: for (let epoch = state.epoch; epoch < t.epochs; epoch++) {
    // In-batch negatives want random batches (as sentence-transformers draws them), not length buckets.
    const batches = epochBatches(lengths, t.batch_size, config.seed, epoch, !contrastive);
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
      let grads: tf.NamedTensorMap | null = null;
      let lossSum: tf.Scalar = tf.scalar(0);
      micro.forEach((rows, k) => {
        if (contrastive) {
          const seed = dropoutSeed(config.seed, state.step, k);
          const fwd = { training: t.dropout, seed };
          const { value, grads: g } = tf.variableGrads(
            () => tf.div(contrastive.batchLoss(paramsView(), pairs!.train, rows, fwd), micro.length) as tf.Scalar,
            trainable.map(([, v]) => v),
          );
          accumulate(value, g);
          return;
        }
        const inputs = padBatch(
          rows.map((i) => rowOf(train, i)),
          padId,
        );
        const labels = tf.tensor1d(
          rows.map((i) => train.labels[i]),
          'int32',
        );
        const seed = dropoutSeed(config.seed, state.step, k);
        const { value, grads: g } = tf.variableGrads(
          () =>
            tf.div(
              weightedCrossEntropy(
                bertLogits(paramsView(), modelConfig, inputs, { training: t.dropout, seed }),
                labels,
                classWeights,
              ),
              micro.length,
            ) as tf.Scalar,
          [...vars.values()],
        );
        tf.dispose([labels, inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds]);
        accumulate(value, g);
      });
      function accumulate(value: tf.Scalar, g: tf.NamedTensorMap): void {
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
      }
      const byName = new Map<string, tf.Tensor>(trainable.map(([n, v]) => [n, grads![v.name]]));
      const normT = globalNorm([...byName.values()]);
      const [lossValue, norm] = [lossSum.dataSync()[0], normT.dataSync()[0]];
      normT.dispose();
      lossSum.dispose();
      if (!Number.isFinite(lossValue) || !Number.isFinite(norm)) {
        tf.dispose(Object.values(grads!));
        stopReason = 'nan';
        const what = !Number.isFinite(lossValue) ? `loss is ${lossValue}` : `gradient norm is ${norm}`;
        error = `step ${state.step + 1}: ${what}; stopped before applying it (lower train.lr or check the data)`;
        break outer;
      }
      faultPoint('step');
      const coef = clipCoefficient(norm, t.clip_norm);
      if (coef < 1) for (const [n, g] of byName) byName.set(n, tf.mul(g, coef));
      adam.step(byName, lr);
      tf.dispose([...Object.values(grads!), ...(coef < 1 ? [...byName.values()] : [])]);
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
      if (evalNow) evaluate();
      if (evalNow || (t.checkpoint_every !== null && state.step % t.checkpoint_every === 0)) await checkpoint(evalNow);
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
    if (state.lastEvalStep !== state.step) evaluate();
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
  if (state.lastEvalStep !== state.step) evaluate();
  if (
    stopReason === 'interrupted' ||
    stopReason === 'nan' ||
    stopReason === 'max_steps' ||
    stopReason === 'early_stopping'
  )
    await checkpoint(true);
  metrics.close();
  const seconds = startSeconds + (performance.now() - startWall) / 1000;
  const finalParams: Params = best ?? new Map([...vars].map(([n, v]) => [n, tf.clone(v)]));
  tf.dispose([...vars.values()]);
  adam.dispose();
  classWeights?.dispose();
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
