import path from 'node:path';
import YAML from 'yaml';
import { initBackend } from '../backend/index.js';
import type { RecsysConfig } from '../config/schema.js';
import { checkCorpusInput, mlmCorpus } from '../data/mlm-corpus.js';
import { maskVocab } from '../data/mlm-texts.js';
import type { SplitArrays } from '../data/split-reader.js';
import { writeFileAtomic, writeJsonAtomic } from '../lib/atomic.js';
import { DataError, UsageError } from '../lib/errors.js';
import { ensureWritableDir } from '../lib/fs-errors.js';
import { sha256File, sha256Text } from '../lib/hash.js';
import { catchInterrupts } from '../lib/interrupt.js';
import type { Logger } from '../lib/log.js';
import { disposeParams, saveCheckpoint, saveHfModel } from '../model/index.js';
import { checkLinksStayInside, checkRunDirForTraining } from '../run/claim.js';
import { checkSameRun } from '../run/identity.js';
import { RUN_FILES, runPaths } from '../run/layout.js';
import type { FineTuneResult } from './fine-tune.js';
import { NonFiniteError, trainLoop, type TrainEvents, type TrainResult } from './loop.js';
import { mlmObjective } from './mlm-objective.js';
import { startingModel } from './model-init.js';
import { pretrainStart } from './pretrain-model.js';
import { warmupSteps } from './schedule.js';

/** The config sections a resumed pretraining run must share with the run it continues. */
const RUN_SECTIONS = ['seed', 'tokenizer', 'model', 'train', 'pretrain'];

export interface PretrainRequest {
  config: RecsysConfig;
  resume: boolean;
  overwrite: boolean;
  offline: boolean;
  /** Debug: each step's rows (as train --dump-batches) and, beside it (.masks.jsonl), each micro-batch's masks. */
  dumpBatches?: string;
  verbose?: boolean;
  log: Logger;
  events: TrainEvents;
}

/** A split the loop sees only by its size: the objective reads the rows from the shards. */
function rowCount(size: number): SplitArrays {
  return {
    size,
    ids: new Int32Array(0),
    typeIds: new Int8Array(0),
    offsets: new Int32Array(1),
    labels: new Int32Array(0),
    rows: new Float64Array(0),
  };
}

/**
 * The training settings of a pretraining run: train's, with pretrain's overrides, early stopping on
 * the validation masked-token loss, no class weights.
 */
export function pretrainTrainConfig(config: RecsysConfig): RecsysConfig {
  const p = config.pretrain;
  const t = config.train;
  return {
    ...config,
    train: {
      ...t,
      out: p.out,
      epochs: p.epochs ?? t.epochs,
      max_steps: p.max_steps ?? t.max_steps,
      lr: p.lr ?? t.lr,
      batch_size: p.batch_size ?? t.batch_size,
      class_weights: null,
      early_stopping: { metric: 'loss', mode: 'min', patience: t.early_stopping.patience, min_delta: p.min_delta },
    },
  };
}

/**
 * `recsys pretrain`: masked-LM pretraining of config.model.path on the unlabelled text of
 * pretrain.input into the run dir pretrain.out, through the same loop, checkpoints and resume as
 * `train`. RUN/model is a Hugging Face BertForMaskedLM dir that `recsys train --model` fine-tunes.
 */
export async function pretrain(req: PretrainRequest): Promise<FineTuneResult> {
  const { log } = req;
  const p = req.config.pretrain;
  if (!p.input) throw new UsageError('pretrain.input (the unlabelled text) is required: pass --input FILE');
  if (!p.out) throw new UsageError('pretrain.out (the run directory) is required: pass --out DIR');
  if (p.mask_replace + p.random_replace > 1)
    throw new UsageError(
      `pretrain.random_replace: mask_replace ${p.mask_replace} + random_replace ${p.random_replace} is over 1`,
    );
  const config = pretrainTrainConfig(req.config);
  const t = config.train;
  const runDir = p.out;
  const mode = checkRunDirForTraining(runDir, req.resume, req.overwrite);
  if (mode === 'resume') checkLinksStayInside(runDir);
  ensureWritableDir(runDir, 'run');
  // The backend before the first tensor (a fresh model's weights): tfjs would otherwise pick its own.
  const backend = await initBackend(config.backend, { log: log.info, verbose: req.verbose });

  const fresh = await pretrainStart(config, req.offline);
  const tokenizer = fresh.tokenizer;
  if (tokenizer.vocabSize > fresh.config.vocabSize)
    throw new DataError(
      `${fresh.source}: vocab_size ${fresh.config.vocabSize} is below the tokenizer's ${tokenizer.vocabSize} tokens`,
    );
  if (p.max_length > fresh.config.maxPositionEmbeddings)
    throw new UsageError(
      `pretrain.max_length: ${p.max_length} exceeds the model's max_position_embeddings ` +
        `${fresh.config.maxPositionEmbeddings} (${fresh.source})`,
    );
  const vocab = maskVocab(tokenizer, fresh.config.vocabSize, fresh.source);
  await checkCorpusInput(p.input, p.text_column);
  const inputSha256 = await sha256File(p.input);
  const datasetSha = sha256Text(`${inputSha256}:${tokenizer.sha256}`);
  if (mode !== 'fresh') checkSameRun(runDir, req.config, RUN_SECTIONS, datasetSha);

  const paths = runPaths(runDir);
  if (mode === 'resume') disposeParams(fresh.params); // its tokenizer and config were what was needed
  // The tokenized text stays: its manifest says whether it fits this run (then it is reused).
  const start = await startingModel(mode, runDir, async () => fresh, [RUN_FILES.corpus]);
  const corpusDir = p.corpus_dir ?? paths.corpus;
  const texts = await mlmCorpus({
    input: p.input,
    textColumn: p.text_column,
    maxLength: p.max_length,
    packing: p.packing,
    validationShare: p.validation_split,
    seed: config.seed,
    tokenizer,
    inputSha256,
    dir: corpusDir,
    shardRows: p.shard_rows,
    workers: config.data.workers,
    maxBadRows: p.max_bad_rows,
    // The run's own corpus follows the run; a shared one is only replaced when asked.
    replace: p.corpus_dir === null || req.overwrite,
  });
  const { train, validation } = texts;
  const counts = texts.manifest.texts;
  log.info(
    `${texts.reused ? 'reusing the tokenized text in' : 'tokenized the text into'} ${corpusDir}: ` +
      `${train.size + (validation?.size ?? 0)} ${p.packing === 'group_texts' ? 'blocks' : 'rows'} in ` +
      `${texts.manifest.splits.train.files.length + texts.manifest.splits.validation.files.length} shard(s)` +
      (counts.rejected ? `; ${counts.rejected} row(s) rejected, listed in ${path.join(corpusDir, 'rejects.csv')}` : ''),
  );
  const steps = Math.min(
    t.max_steps ?? Infinity,
    Math.ceil(Math.ceil(train.size / t.batch_size) / t.grad_accum) * t.epochs,
  );
  const warm = warmupSteps(t.warmup, steps);
  if (warm > steps)
    throw new UsageError(`train.warmup: ${warm} warmup steps is longer than the whole run (${steps} steps)`);
  for (const m of start.messages) log.info(m);
  log.info(
    `resolved: ${counts.train} texts → ${train.size} ${p.packing === 'group_texts' ? 'blocks' : 'rows'} of ≤ ` +
      `${p.max_length} tokens (${counts.validation} texts held out → ${validation?.size ?? 0}), mask ` +
      `${p.mask_probability} (${p.mask_replace}/${p.random_replace}/` +
      `${+(1 - p.mask_replace - p.random_replace).toFixed(6)})${p.whole_word_masking ? ' whole words' : ''}, lr ` +
      `${t.lr} (${t.schedule}, warmup ${warm} steps), weight decay ${t.weight_decay}, batch ` +
      `${t.batch_size}×${t.grad_accum}, dropout ${t.dropout ? 'on' : 'off'}, early stopping on the validation loss ` +
      `(patience ${t.early_stopping.patience}), seed ${config.seed}`,
  );
  if (!validation) log.warn('no held-out text (pretrain.validation_split 0): early stopping is off');

  const manifest = {
    kind: 'pretrain',
    dataset_sha256: datasetSha,
    input: { file: path.resolve(p.input), sha256: inputSha256, text_column: p.text_column },
    tokenizer: { sha256: tokenizer.sha256, vocab_size: tokenizer.vocabSize, special_ids: tokenizer.specialIds },
    max_length: p.max_length,
    packing: p.packing,
    texts: counts,
    corpus: path.resolve(corpusDir),
    rows: { train: train.size, validation: validation?.size ?? 0 },
  };
  await writeFileAtomic(paths.config, YAML.stringify(req.config));
  await writeJsonAtomic(paths.manifest, manifest);

  const objective = mlmObjective({
    modelConfig: start.config,
    train,
    validation,
    lengths: texts.trainLengths,
    vocab,
    mask: {
      probability: p.mask_probability,
      maskReplace: p.mask_replace,
      randomReplace: p.random_replace,
      wholeWord: p.whole_word_masking,
    },
    seed: config.seed,
    padId: tokenizer.specialIds.pad,
    evalBatchSize: config.eval.batch_size,
    dumpMasks: req.dumpBatches ? `${req.dumpBatches}.masks.jsonl` : undefined,
  });
  const interrupts = catchInterrupts();
  let result: TrainResult;
  try {
    result = await trainLoop({
      config,
      runDir,
      modelConfig: start.config,
      params: start.params,
      // The rows stay on disk: the objective reads them; the loop only needs how many there are.
      train: rowCount(train.size),
      validation: validation ? rowCount(validation.size) : null,
      resume: mode === 'resume',
      events: req.events,
      dumpBatches: req.dumpBatches,
      shouldInterrupt: () => interrupts.signal !== null,
      objective,
    });
  } finally {
    interrupts.release();
    train.close();
    validation?.close();
  }

  const modelDir = paths.model;
  await saveHfModel(modelDir, start.config, result.params);
  await saveCheckpoint(modelDir, start.config, result.params, { best: result.best });
  for (const [name, text] of Object.entries(tokenizer.files())) await writeFileAtomic(path.join(modelDir, name), text);
  const tokConfigFile = path.join(modelDir, 'tokenizer_config.json');
  const tokConfig = JSON.parse(tokenizer.files()['tokenizer_config.json'] ?? '{}');
  await writeJsonAtomic(tokConfigFile, { ...tokConfig, model_max_length: p.max_length });
  const last = result.lastEval as Record<string, number> | null;
  const summary = {
    stop_reason: result.stopReason,
    error: result.error ?? null,
    steps: result.steps,
    best_metric: result.best.metric,
    best_value: result.best.value,
    best_step: result.best.step,
    validation_loss: result.best.value ?? last?.loss ?? null,
    validation_perplexity: result.best.value !== null ? Math.exp(result.best.value) : (last?.perplexity ?? null),
    last_eval: last,
    samples_per_s: result.samplesPerSec,
    seconds: result.seconds,
    backend: backend.name,
    tf_version: backend.tfVersion ?? null,
    model_source: start.source,
    input: path.resolve(p.input),
  };
  await writeJsonAtomic(paths.summary, summary);
  const ppl = summary.validation_perplexity;
  const line =
    `stopped: ${result.stopReason} after ${result.steps} steps; validation masked-token loss ` +
    `${summary.validation_loss?.toFixed(4) ?? '-'} (perplexity ${ppl?.toFixed(2) ?? '-'}) at step ` +
    `${result.best.step ?? '-'}; ${result.samplesPerSec.toFixed(1)} blocks/s; model in ${modelDir}`;
  return {
    summary,
    modelDir,
    line,
    interrupted: result.stopReason === 'interrupted' ? (interrupts.signal ?? 'SIGINT') : null,
    failure:
      result.stopReason === 'nan'
        ? new NonFiniteError(
            `pretraining diverged at ${result.error}; the best weights so far are saved in ${modelDir}`,
          )
        : null,
  };
}
