import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  loadModelDirTokenizer,
  tokenizerSettingsOf,
  type TextTokenizer,
  type Truncation,
} from '../data/tokenizer/index.js';
import { DataError, UsageError } from '../lib/errors.js';
import { importHfModel, type BertConfig, type Params } from '../model/index.js';
import { looksLikeRunDir, runPaths } from '../run/layout.js';
import { readRunManifest } from '../run/read.js';

/** A model dir loaded for tfjs: weights, config, and the tokenizer exactly as training used it. */
export interface ModelDir {
  kind: 'hf';
  dir: string;
  config: BertConfig;
  params: Params;
  tokenizer: TextTokenizer;
  maxLength: number;
  truncation: Truncation;
  messages: string[];
  /**
   * Why its logits mean nothing, when the checkpoint has no trained classification head (a pretrained
   * encoder: BertModel, BertForMaskedLM, BertForPreTraining, a recsys pretraining run's model).
   */
  untrainedHead?: string;
}

/**
 * A Hugging Face model dir (config.json + model.safetensors + tokenizer files), or a run dir
 * (RUN/model + RUN/manifest.json), whose manifest then fixes max_length and truncation exactly
 * as the model was trained.
 */
export async function loadModelDir(
  dirIn: string,
  opts: { maxLength?: number; truncation?: Truncation } = {},
): Promise<ModelDir> {
  let dir = dirIn;
  if (looksLikeRunDir(dirIn, existsSync)) {
    const trained = readRunManifest(dirIn);
    dir = runPaths(dirIn).model;
    opts = { maxLength: opts.maxLength ?? trained.max_length, truncation: opts.truncation ?? trained.truncation };
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir}: model directory not found`);
  if (!existsSync(path.join(dir, 'config.json')))
    throw new UsageError(`${dir}: no config.json; expected a Hugging Face model directory`);
  const hasTokenizer = ['tokenizer.json', 'vocab.txt'].some((f) => existsSync(path.join(dir, f)));
  if (!hasTokenizer)
    throw new UsageError(
      `${dir}: no tokenizer.json or vocab.txt; predict tokenizes raw text with the model's own tokenizer`,
    );
  const settings = tokenizerSettingsOf(dir);
  const tokenizer = loadModelDirTokenizer(dir);
  const loaded = await importHfModel(dir);
  if (tokenizer.vocabSize > loaded.config.vocabSize) {
    // The model dir contradicts itself (as train reports a dataset tokenizer that does not fit): data, exit 3.
    throw new DataError(
      `${dir}: tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ` +
        `${loaded.config.vocabSize}; the tokenizer files do not belong to this checkpoint`,
    );
  }
  const maxLength = Math.min(opts.maxLength ?? settings.modelMaxLength ?? 512, loaded.config.maxPositionEmbeddings);
  const fresh = loaded.report.initialized.some((n) => n.startsWith('classifier.'));
  return {
    ...(fresh
      ? {
          untrainedHead:
            `${dir}: the checkpoint has no trained classification head (its logits would come from a freshly ` +
            `initialised one); fine-tune it first with \`recsys train --model ${dir}\` (\`recsys embed\` reads ` +
            'its encoder as it is)',
        }
      : {}),
    kind: 'hf',
    dir,
    config: loaded.config,
    params: loaded.params,
    tokenizer,
    maxLength,
    truncation: opts.truncation ?? 'longest_first',
    messages: loaded.report.messages,
  };
}
