import { existsSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import YAML from 'yaml';
import { initBackend } from '../backend/index.js';
import { flagOverrides, type CommonOptions } from '../cli.js';
import { loadConfig } from '../config/load.js';
import type { RecsysConfig } from '../config/schema.js';
import { readManifest, type DatasetManifest } from '../data/manifest.js';
import { defaultTopK, metricNames } from '../eval/metrics.js';
import { loadSplit, splitFile } from '../data/split-reader.js';
import { writeFileAtomic, writeJsonAtomic } from '../lib/atomic.js';
import { DataError, UsageError } from '../lib/errors.js';
import { sha256File } from '../lib/hash.js';
import { ensureWritableDir } from '../lib/fs-errors.js';
import { makeLogger } from '../lib/log.js';
import { saveCheckpoint, saveHfModel } from '../model/index.js';
import { NonFiniteError, trainLoop, type TrainEvents } from '../train/loop.js';
import { modeFor } from '../train/early-stop.js';
import { initialModel } from '../train/model-init.js';
import { readCheckpoint, resolveLink } from '../train/state.js';
import { warmupSteps } from '../train/schedule.js';
import { readJsonObject } from '../lib/json-file.js';

const FLAGS = {
  data: 'data.out',
  model: 'model.path',
  out: 'train.out',
  epochs: 'train.epochs',
  maxSteps: 'train.max_steps',
  batchSize: 'train.batch_size',
  lr: 'train.lr',
  backend: 'backend',
  seed: 'seed',
};

interface TrainFlags extends CommonOptions {
  resume?: boolean;
  offline?: boolean;
  dumpBatches?: string;
  progress?: boolean;
  [k: string]: unknown;
}

function progressEvents(enabled: boolean, log: (m: string) => void): TrainEvents {
  if (!enabled || !process.stderr.isTTY) return { log };
  let bar: cliProgress.SingleBar | undefined;
  let first = 0;
  return {
    log,
    epochStart(epoch, steps, fromStep) {
      first = fromStep;
      bar = new cliProgress.SingleBar(
        {
          format: `epoch ${epoch + 1} [{bar}] {value}/{total} steps | loss {loss} | lr {lr} | {sps} samples/s | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(steps, fromStep, { loss: '-', lr: '-', sps: '-' });
    },
    step(i) {
      bar?.increment(1, { loss: i.loss.toFixed(4), lr: i.lr.toExponential(2), sps: i.samplesPerSec.toFixed(1) });
    },
    epochEnd() {
      bar?.stop();
      void first;
    },
  };
}

function checkEarlyStoppingMetric(metric: string, labels: string[]): void {
  const watchable = metricNames({ labels, topK: defaultTopK(labels.length) });
  if (!watchable.includes(metric)) {
    throw new UsageError(
      `train.early_stopping.metric: "${metric}" is not a reported metric; use one of ${watchable.slice(0, 12).join(', ')}, …`,
    );
  }
}

/** Class weights given as a map must name the dataset's labels (checked before anything runs). */
function checkClassWeights(weights: RecsysConfig['train']['class_weights'], labels: string[]): void {
  if (!weights || weights === 'balanced') return;
  const unknown = Object.keys(weights).filter((l) => !labels.includes(l));
  if (unknown.length)
    throw new UsageError(
      `train.class_weights: unknown label(s) ${unknown.map((l) => `"${l}"`).join(', ')}; labels are ${labels.join(', ')}`,
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
      `${file}: does not match the sha256 in ${path.join(datasetDir, 'manifest.json')} (changed or damaged after prepare); re-run recsys prepare`,
    );
  }
  return file;
}

/** What a run writes in its dir. Replacing a run removes these (and temp names), never anything else. */
const RUN_ENTRIES = new Set([
  'model',
  'checkpoints',
  'last',
  'metrics.jsonl',
  'train_summary.json',
  'config.yaml',
  'manifest.json',
]);

async function clearRunDir(runDir: string): Promise<void> {
  if (!existsSync(runDir)) return;
  for (const e of readdirSync(runDir)) {
    if (RUN_ENTRIES.has(e) || e.includes('.tmp-')) await rm(path.join(runDir, e), { recursive: true, force: true });
  }
}

/**
 * A resumed run writes into what is already in its dir (metrics.jsonl, model/, checkpoints/):
 * refuse a symbolic link there that leads outside it (dangling ones included), so nothing is
 * ever written through one to another place.
 */
function checkLinksStayInside(runDir: string): void {
  const root = realpathSync(runDir);
  const inside = (p: string) => p === root || p.startsWith(root + path.sep);
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(p);
        } catch {
          target = path.resolve(dir, readlinkSync(p)); // dangling: where a write would create it
        }
        if (!inside(target))
          throw new UsageError(
            `${p}: a symbolic link to ${target}, outside the run directory; refusing to write through it (remove it, or train into another --out)`,
          );
      } else if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
}

/** A run dir with train_summary.json is complete; one without is an interrupted run. */
function checkRunDir(runDir: string, resume: boolean, overwrite: boolean): 'fresh' | 'resume' {
  if (resume) {
    if (!existsSync(path.join(runDir, 'last')))
      throw new UsageError(`${runDir}: nothing to resume (no last/ checkpoint)`);
    return 'resume';
  }
  if (!existsSync(runDir) || readdirSync(runDir).length === 0) return 'fresh';
  if (existsSync(path.join(runDir, 'train_summary.json')) && !overwrite) {
    throw new UsageError(`${runDir}: holds a finished run; pass --overwrite to replace it or choose another --out`);
  }
  if (!existsSync(path.join(runDir, 'metrics.jsonl')) && !existsSync(path.join(runDir, 'last')) && !overwrite) {
    throw new UsageError(`${runDir}: not empty and not a recsys run; pass --overwrite or choose another --out`);
  }
  return 'fresh';
}

export async function trainCommand(opts: TrainFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose, quiet: false });
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts, FLAGS) });
  const t = config.train;
  const datasetDir = config.data.out;
  const runDir = t.out;
  if (!datasetDir) throw new UsageError('data.out (the prepared dataset) is required: pass --data DIR');
  if (!runDir) throw new UsageError('train.out (the run directory) is required: pass --out DIR');
  const mode = checkRunDir(runDir, !!opts.resume, !!opts.overwrite);
  if (mode === 'resume') checkLinksStayInside(runDir);
  const manifest = readManifest(datasetDir);
  checkEarlyStoppingMetric(t.early_stopping.metric, manifest.labels);
  checkClassWeights(t.class_weights, manifest.labels);
  if (manifest.labels.length < 2)
    throw new DataError(
      `${datasetDir}: the dataset has a single label (${JSON.stringify(manifest.labels[0])}); a classifier needs at least two`,
    );
  ensureWritableDir(runDir, 'run');
  const backend = await initBackend(config.backend, { log: log.info, verbose: opts.verbose });

  // The data and the schedule are checked before anything in the run dir changes: a broken shard
  // or a bad warmup never costs an old run.
  const train = await loadSplit(await verifiedSplitFile(datasetDir, manifest, 'train'));
  const validation = manifest.splits.validation?.rows
    ? await loadSplit(await verifiedSplitFile(datasetDir, manifest, 'validation'))
    : null;
  if (train.size === 0) throw new UsageError(`${datasetDir}: the train split is empty`);
  const steps = Math.min(
    t.max_steps ?? Infinity,
    Math.ceil(Math.ceil(train.size / t.batch_size) / t.grad_accum) * t.epochs,
  );
  const warm = warmupSteps(t.warmup, steps);
  if (warm > steps)
    throw new UsageError(`train.warmup: ${warm} warmup steps is longer than the whole run (${steps} steps)`);

  let start;
  if (mode === 'resume') {
    const ckpt = await readCheckpoint(resolveLink(path.join(runDir, 'last'))!, false);
    start = {
      config: ckpt.config,
      params: ckpt.params,
      messages: [`resuming from step ${ckpt.state.step}`],
      source: runDir,
    };
  } else {
    // Everything is checked before an old run is removed: a bad flag never costs a finished run.
    start = await initialModel(config.model.path, manifest, config.seed, !!opts.offline, datasetDir);
    // Only the run's own entries go: --overwrite on a dir that holds other files never deletes them.
    await clearRunDir(runDir);
  }
  await mkdir(runDir, { recursive: true });
  for (const m of start.messages) log.info(m);

  log.info(
    `resolved: lr ${t.lr} (${t.schedule}, warmup ${warm} steps), weight decay ${t.weight_decay}${t.decay_embeddings ? ' incl. embeddings' : ' (matrices only)'}, ` +
      `clip ${t.clip_norm}, batch ${t.batch_size}×${t.grad_accum}, max_length ${manifest.max_length}, dropout ${t.dropout ? 'on' : 'off'}, ` +
      `early stopping on ${t.early_stopping.metric} (${modeFor(t.early_stopping.metric, t.early_stopping.mode)}, patience ${t.early_stopping.patience}), seed ${config.seed}`,
  );
  if (!validation)
    log.warn('no validation rows: early stopping and best-weights selection are off; the final weights are kept');

  await writeFileAtomic(path.join(runDir, 'config.yaml'), YAML.stringify(config));
  await writeJsonAtomic(path.join(runDir, 'manifest.json'), { ...manifest, dataset_dir: path.resolve(datasetDir) });

  // Ctrl-C / SIGTERM: finish the step, checkpoint, restore and save the best weights, then exit 130 / 143.
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => (interrupted = signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const result = await trainLoop({
    config,
    manifest,
    runDir,
    modelConfig: start.config,
    params: start.params,
    train,
    validation,
    resume: mode === 'resume',
    events: progressEvents(opts.progress !== false && !opts.json, log.info),
    dumpBatches: opts.dumpBatches,
    shouldInterrupt: () => interrupted !== null,
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  // The run's model: the best weights, in HF format (+ tokenizer files) and the native format.
  const modelDir = path.join(runDir, 'model');
  await saveHfModel(modelDir, start.config, result.params);
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
  await writeJsonAtomic(path.join(runDir, 'train_summary.json'), summary);
  if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else
    log.info(
      `stopped: ${result.stopReason} after ${result.steps} steps; best ${result.best.metric} ${result.best.value?.toFixed(4) ?? '-'} at step ${result.best.step ?? '-'}; ${result.samplesPerSec.toFixed(1)} samples/s; model in ${modelDir}`,
    );
  if (result.stopReason === 'nan')
    throw new NonFiniteError(`training diverged at ${result.error}; the best weights so far are saved in ${modelDir}`);
  if (result.stopReason === 'interrupted') {
    log.info(
      `interrupted: resume with  recsys train ${opts.config?.map((c) => `-c ${c} `).join('') ?? ''}--out ${runDir} --resume`,
    );
    process.exitCode = interrupted === 'SIGTERM' ? 143 : 130;
  }
}
