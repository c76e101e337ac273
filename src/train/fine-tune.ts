import { existsSync, readdirSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { initBackend } from '../backend/index.js';
import type { RecsysConfig } from '../config/schema.js';
import { readManifest, type DatasetManifest } from '../data/manifest.js';
import { loadSplit, splitFile, type SplitArrays } from '../data/split-reader.js';
import { loadTripletSplit, type TripletSplit } from '../data/triplet-shards.js';
import { HEADS, isHeadTask } from '../eval/heads.js';
import { earlyStoppingMetric, embeddingMetricNames, embeddingObjective } from './embedding-objective.js';
import { defaultTopK, metricNames } from '../eval/metrics.js';
import { writeFileAtomic, writeJsonAtomic } from '../lib/atomic.js';
import { DataError, UsageError } from '../lib/errors.js';
import { ensureWritableDir } from '../lib/fs-errors.js';
import { sha256File } from '../lib/hash.js';
import { catchInterrupts } from '../lib/interrupt.js';
import { readJsonObject } from '../lib/json-file.js';
import type { Logger } from '../lib/log.js';
import { saveCheckpoint, saveHfModel } from '../model/index.js';
import { checkLinksStayInside, checkRunDirForTraining } from '../run/claim.js';
import { checkSameRun } from '../run/identity.js';
import { runPaths } from '../run/layout.js';
import { modeFor } from './early-stop.js';
import { NonFiniteError, trainLoop, type TrainEvents, type TrainResult } from './loop.js';
import { initialModel, startingModel } from './model-init.js';
import { warmupSteps } from './schedule.js';
import { padIdOf, saveThresholds } from './thresholds.js';

/** An empty classification split: what the loop is handed for a bi-encoder run (its rows come in `pairs`). */
const EMPTY_SPLIT: SplitArrays = {
  size: 0,
  ids: new Int32Array(0),
  typeIds: new Int8Array(0),
  offsets: new Int32Array(1),
  labels: new Int32Array(0),
  rows: new Float64Array(0),
};

function checkEmbeddingMetric(metric: string): void {
  const names = embeddingMetricNames();
  if (!names.includes(metric))
    throw new UsageError(
      `train.early_stopping.metric: "${metric}" is not reported for task embedding; use one of ${names.join(', ')}`,
    );
}

function checkEarlyStoppingMetric(metric: string, labels: string[], task: RecsysConfig['task']): void {
  const watchable = isHeadTask(task)
    ? HEADS[task].metricNames(labels)
    : metricNames({ labels, topK: defaultTopK(labels.length) });
  if (!watchable.includes(metric)) {
    throw new UsageError(
      `train.early_stopping.metric: "${metric}" is not a reported metric for ${task}; use one of ` +
        `${watchable.slice(0, 12).join(', ')}${watchable.length > 12 ? ', …' : ''}`,
    );
  }
}

/** Class weights given as a map must name the dataset's labels (checked before anything runs). */
function checkClassWeights(weights: RecsysConfig['train']['class_weights'], labels: string[]): void {
  if (!weights || weights === 'balanced') return;
  const unknown = Object.keys(weights).filter((l) => !labels.includes(l));
  if (unknown.length)
    throw new UsageError(
      `train.class_weights: unknown label(s) ${unknown.map((l) => `"${l}"`).join(', ')}; labels are ` +
        `${labels.join(', ')}`,
    );
}

/** A split's shard, checked against the sha256 its manifest recorded (a shard changed after prepare is refused). */
async function verifiedSplitFile(
  datasetDir: string,
  manifest: DatasetManifest,
  split: 'train' | 'validation',
): Promise<string> {
  const file = splitFile(datasetDir, manifest, split);
  const want = manifest.splits[split]?.sha256;
  if (want && (await sha256File(file)) !== want) {
    throw new DataError(
      `${file}: does not match the sha256 in ${path.join(datasetDir, 'manifest.json')} (changed or ` +
        `damaged after prepare); re-run recsys prepare`,
    );
  }
  return file;
}

/** The config sections a resumed fine-tuning run must share with the run it continues. */
const RUN_SECTIONS = ['seed', 'task', 'data', 'tokenizer', 'model', 'train'];

export interface FineTuneRequest {
  config: RecsysConfig;
  resume: boolean;
  overwrite: boolean;
  offline: boolean;
  dumpBatches?: string;
  verbose?: boolean;
  log: Logger;
  events: TrainEvents;
}

export interface FineTuneResult {
  summary: Record<string, unknown> & { stop_reason: string; steps: number };
  modelDir: string;
  /** One line for the log: why it stopped, the best metric, speed, where the model is. */
  line: string;
  /** The signal that stopped the run early (its weights are saved): the caller ends with Interrupted. */
  interrupted: NodeJS.Signals | null;
  /** Training diverged (the best weights so far are saved): the caller throws it after printing. */
  failure: NonFiniteError | null;
}

/**
 * `recsys train`: fine-tune config.model.path on the prepared dataset config.data.out into the run
 * directory config.train.out (docs/run-dir.md), or resume it. Everything is checked before an old
 * run is touched; an interrupted run saves a checkpoint and its best weights.
 */
export async function fineTune(req: FineTuneRequest): Promise<FineTuneResult> {
  const { config, log } = req;
  const t = config.train;
  const datasetDir = config.data.out;
  const runDir = t.out;
  if (!datasetDir) throw new UsageError('data.out (the prepared dataset) is required: pass --data DIR');
  if (!runDir) throw new UsageError('train.out (the run directory) is required: pass --out DIR');
  const mode = checkRunDirForTraining(runDir, req.resume, req.overwrite);
  if (mode === 'resume') checkLinksStayInside(runDir);
  const manifest = readManifest(datasetDir);
  if (mode !== 'fresh') checkSameRun(runDir, config, RUN_SECTIONS, manifest.dataset_sha256);
  const task = manifest.task ?? 'single_label_classification';
  const embedding = config.task === 'embedding';
  if (task !== config.task)
    throw new UsageError(
      `task: the run is ${config.task} but ${datasetDir} was prepared for ${task}; prepare it with this task`,
    );
  const watched = earlyStoppingMetric(config);
  if (embedding) checkEmbeddingMetric(watched);
  else checkEarlyStoppingMetric(watched, manifest.labels, task);
  checkClassWeights(t.class_weights, manifest.labels);
  if (!embedding && manifest.labels.length < 2 && task !== 'regression')
    throw new DataError(
      `${datasetDir}: the dataset has a single label (${JSON.stringify(manifest.labels[0])}); a ` +
        `classifier needs at least two`,
    );
  ensureWritableDir(runDir, 'run');
  const backend = await initBackend(config.backend, { log: log.info, verbose: req.verbose });

  // The data and the schedule are checked before anything in the run dir changes: a broken shard
  // or a bad warmup never costs an old run.
  const hasValidation = !!manifest.splits.validation?.rows;
  const load = embedding ? loadTripletSplit : loadSplit;
  const trainSplit = await load(await verifiedSplitFile(datasetDir, manifest, 'train'));
  const validSplit = hasValidation ? await load(await verifiedSplitFile(datasetDir, manifest, 'validation')) : null;
  const pairs = embedding
    ? { train: trainSplit as TripletSplit, validation: validSplit as TripletSplit | null }
    : undefined;
  const train = embedding ? EMPTY_SPLIT : (trainSplit as SplitArrays);
  const validation = embedding ? null : (validSplit as SplitArrays | null);
  if (trainSplit.size === 0) throw new UsageError(`${datasetDir}: the train split is empty`);
  const steps = Math.min(
    t.max_steps ?? Infinity,
    Math.ceil(Math.ceil(trainSplit.size / t.batch_size) / t.grad_accum) * t.epochs,
  );
  const warm = warmupSteps(t.warmup, steps);
  if (warm > steps)
    throw new UsageError(`train.warmup: ${warm} warmup steps is longer than the whole run (${steps} steps)`);

  const paths = runPaths(runDir);
  // Everything is checked before an old run is removed: a bad flag never costs a finished run.
  const start = await startingModel(mode, runDir, () =>
    initialModel(config.model.path, manifest, config.seed, req.offline, datasetDir),
  );
  for (const m of start.messages) log.info(m);

  log.info(
    `resolved: lr ${t.lr} (${t.schedule}, warmup ${warm} steps), weight decay ` +
      `${t.weight_decay}${t.decay_embeddings ? ' incl. embeddings' : ' (matrices only)'}, ` +
      `clip ${t.clip_norm}, batch ${t.batch_size}×${t.grad_accum}, max_length ` +
      `${manifest.max_length}, dropout ${t.dropout ? 'on' : 'off'}, ` +
      `early stopping on ${watched} ` +
      `(${modeFor(watched, t.early_stopping.mode)}, patience ` +
      `${t.early_stopping.patience}), seed ${config.seed}`,
  );
  if (embedding)
    log.info(
      `bi-encoder: ${t.pooling} pooling, in-batch negatives, scale ${t.mnrl_scale}` +
        (t.mnrl_symmetric ? ', symmetric' : ''),
    );
  if (!validSplit)
    log.warn('no validation rows: early stopping and best-weights selection are off; the final weights are kept');

  await writeFileAtomic(paths.config, YAML.stringify(config));
  // A bi-encoder's sentence-vector settings travel with the run: export and embed read them there.
  const head = embedding ? { embedding_head: { pooling: t.pooling, normalize: config.embed.normalize } } : {};
  await writeJsonAtomic(paths.manifest, { ...manifest, dataset_dir: path.resolve(datasetDir), ...head });

  // Ctrl-C / SIGTERM: finish the step, checkpoint, restore and save the best weights, then exit 130 / 143.
  const interrupts = catchInterrupts();
  let result: TrainResult;
  try {
    result = await trainLoop({
      config,
      manifest,
      runDir,
      modelConfig: start.config,
      params: start.params,
      train,
      validation,
      objective: pairs
        ? embeddingObjective(config, start.config, manifest.tokenizer.special_ids.pad ?? 0, pairs)
        : undefined,
      resume: mode === 'resume',
      events: req.events,
      dumpBatches: req.dumpBatches,
      shouldInterrupt: () => interrupts.signal !== null,
    });
  } finally {
    interrupts.release();
  }

  // The run's model: the best weights, in HF format (+ tokenizer files) and the native format.
  const modelDir = paths.model;
  await saveHfModel(modelDir, start.config, result.params);
  // Multi-label: per-label decision thresholds chosen on validation with the saved weights.
  if (task === 'multi_label_classification' && validation)
    log.info(
      await saveThresholds(
        modelDir,
        start.config,
        result.params,
        validation,
        config.eval.batch_size,
        padIdOf(manifest),
      ),
    );
  await saveCheckpoint(modelDir, start.config, result.params, { best: result.best });
  for (const f of readdirSync(path.join(datasetDir, manifest.tokenizer.dir)))
    await copyFile(path.join(datasetDir, manifest.tokenizer.dir, f), path.join(modelDir, f));
  // Tools that read only the model dir (transformers, transformers.js) then truncate as training did.
  const tokConfigFile = path.join(modelDir, 'tokenizer_config.json');
  const tokConfig = existsSync(tokConfigFile) ? readJsonObject(tokConfigFile) : {};
  await writeJsonAtomic(tokConfigFile, {
    ...tokConfig,
    model_max_length: manifest.max_length,
    truncation_side: 'right',
  });
  const summary = {
    stop_reason: result.stopReason,
    error: result.error ?? null,
    steps: result.steps,
    best_metric: result.best.metric,
    best_value: result.best.value,
    best_step: result.best.step,
    last_eval: result.lastEval,
    samples_per_s: result.samplesPerSec,
    seconds: result.seconds,
    padding_fraction: result.paddingFraction,
    backend: backend.name,
    tf_version: backend.tfVersion ?? null,
    model_source: start.source,
    dataset_dir: path.resolve(datasetDir),
  };
  await writeJsonAtomic(paths.summary, summary);
  const line =
    `stopped: ${result.stopReason} after ${result.steps} steps; best ` +
    `${result.best.metric} ${result.best.value?.toFixed(4) ?? '-'} at step ` +
    `${result.best.step ?? '-'}; ${result.samplesPerSec.toFixed(1)} samples/s; model in ${modelDir}`;
  return {
    summary,
    modelDir,
    line,
    interrupted: result.stopReason === 'interrupted' ? (interrupts.signal ?? 'SIGINT') : null,
    failure:
      result.stopReason === 'nan'
        ? new NonFiniteError(`training diverged at ${result.error}; the best weights so far are saved in ${modelDir}`)
        : null,
  };
}
