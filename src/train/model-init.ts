import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetManifest } from '../data/manifest.js';
import { loadModelDirTokenizer } from '../data/tokenizer/index.js';
import { resolveModelDir } from '../hub/index.js';
import { DataError, UsageError } from '../lib/errors.js';
import { clearRunDir } from '../run/claim.js';
import { runPaths } from '../run/layout.js';
import { readCheckpoint, resolveLink } from './state.js';
import { importHfModel, initParams, readBertConfig, withLabels, type BertConfig, type Params } from '../model/index.js';

export interface InitialModel {
  config: BertConfig;
  params: Params;
  source: string;
  messages: string[];
}

/**
 * The model a run starts from: a pretrained HF dir (or hub id), or a config.json for a
 * from-scratch model. The dataset's label map always wins; mismatches that would make training
 * meaningless (vocab, tokenizer, positions) are refused before the first step.
 */
export async function initialModel(
  modelPath: string | undefined,
  manifest: DatasetManifest,
  seed: number,
  offline: boolean,
  datasetDir = 'the dataset',
): Promise<InitialModel> {
  if (!modelPath)
    throw new UsageError('model.path is required (a pretrained model dir, a hub id, or a config.json; pass --model)');
  // A bi-encoder keeps BERT's one-label head unused (and untrained): the encoder is the model.
  const labels = manifest.task === 'embedding' ? ['LABEL_0'] : manifest.labels;
  const problem = manifest.task === 'embedding' ? null : (manifest.task ?? 'single_label_classification');
  let result: InitialModel;
  if (modelPath.endsWith('.json') && existsSync(modelPath) && statSync(modelPath).isFile()) {
    const config = withLabels(await readBertConfig(modelPath), labels, problem);
    result = {
      config,
      params: initParams(config, seed),
      source: modelPath,
      messages: [
        `from scratch: ${path.basename(modelPath)} (truncated normal, std ${config.initializerRange}, seed ${seed})`,
      ],
    };
  } else {
    const dir = await resolveModelDir(modelPath, offline ? { offline: true } : {});
    if (!existsSync(path.join(dir, 'config.json')))
      throw new UsageError(`${dir}: no config.json; model.path must be a Hugging Face model dir or a config.json`);
    checkTokenizerMatches(dir, manifest, datasetDir);
    const loaded = await importHfModel(dir, { id2label: labels, seed });
    const config = withLabels(loaded.config, labels, problem);
    result = { config, params: loaded.params, source: dir, messages: loaded.report.messages };
  }
  const c = result.config;
  if (manifest.tokenizer.vocab_size > c.vocabSize) {
    throw new DataError(
      `${datasetDir}: its tokenizer has ${manifest.tokenizer.vocab_size} tokens but the model's ` +
        `vocab_size is ${c.vocabSize} (${result.source}): prepare the data with the model's tokenizer`,
    );
  }
  if (manifest.max_length > c.maxPositionEmbeddings) {
    throw new DataError(
      `${datasetDir}: max_length ${manifest.max_length} exceeds the model's max_position_embeddings ` +
        `${c.maxPositionEmbeddings} (${result.source})`,
    );
  }
  return result;
}

/** A pretrained model that ships a tokenizer must be trained on data prepared with that tokenizer. */
function checkTokenizerMatches(dir: string, manifest: DatasetManifest, datasetDir: string): void {
  if (!['tokenizer.json', 'vocab.txt'].some((f) => existsSync(path.join(dir, f)))) return;
  // Exact-match marking adds no token: a dataset that marks pairs fits the model's unmarked vocabulary.
  const marks = manifest.tokenizer.mark_matches === true;
  const tok = loadModelDirTokenizer(dir, marks);
  if (tok.sha256 !== manifest.tokenizer.sha256) {
    const why =
      tok.marksMatches === marks ? '' : ": the model's tokenizer marks matching words, the dataset's does not";
    throw new DataError(
      `${datasetDir}: the dataset was prepared with another tokenizer than the model's ` +
        `(${manifest.tokenizer.sha256.slice(0, 12)} vs ${tok.sha256.slice(0, 12)} in ${dir})${why}; ` +
        `re-run recsys prepare with --tokenizer ${dir}`,
    );
  }
}

/**
 * The model a run starts from, once every check has passed: the newest checkpoint on resume, else
 * `fresh()`, after clearing the run's own entries (all but `keep`; --overwrite on a dir that holds other
 * files never deletes them). Leaves the run dir in place.
 */
export async function startingModel(
  mode: 'fresh' | 'resume' | 'restart',
  runDir: string,
  fresh: () => Promise<InitialModel>,
  keep: string[] = [],
): Promise<InitialModel> {
  let start: InitialModel;
  if (mode === 'resume') {
    const ckpt = await readCheckpoint(resolveLink(runPaths(runDir).last)!, false);
    start = {
      config: ckpt.config,
      params: ckpt.params,
      messages: [`resuming from step ${ckpt.state.step}`],
      source: runDir,
    };
  } else {
    start = await fresh();
    if (mode === 'restart') start.messages.unshift(`${runDir}: no checkpoint yet; starting from step 0`);
    await clearRunDir(runDir, keep);
  }
  await mkdir(runDir, { recursive: true });
  return start;
}
