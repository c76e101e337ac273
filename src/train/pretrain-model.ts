import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RecsysConfig } from '../config/schema.js';
import { loadModelDirTokenizer, loadTokenizer, type TextTokenizer } from '../data/tokenizer/index.js';
import { resolveModelDir } from '../hub/index.js';
import { UsageError } from '../lib/errors.js';
import { importHfModel, initParams, readBertConfig } from '../model/index.js';
import type { InitialModel } from './model-init.js';

/**
 * The model and tokenizer a pretraining run starts from: a config.json (from scratch, with the
 * tokenizer of `tokenizer.path`), or a Hugging Face dir / hub id whose BertForMaskedLM or
 * BertForPreTraining head is continued (any other BERT gets a fresh masked-LM head). A model dir's
 * own tokenizer wins over tokenizer.path, as it is the one its embeddings were trained with.
 */
export async function pretrainStart(
  config: RecsysConfig,
  offline: boolean,
): Promise<InitialModel & { tokenizer: TextTokenizer }> {
  const modelPath = config.model.path;
  if (!modelPath)
    throw new UsageError('model.path is required (a config.json to start from scratch, or a model dir; pass --model)');
  const tokenizerFromConfig = () => {
    const t = config.tokenizer;
    if (!t.path)
      throw new UsageError('tokenizer.path is required to pretrain from a config.json (a vocab.txt or tokenizer dir)');
    return loadTokenizer({ path: t.path, lowercase: t.lowercase, stripAccents: t.strip_accents });
  };
  if (modelPath.endsWith('.json') && existsSync(modelPath) && statSync(modelPath).isFile()) {
    const modelConfig = { ...(await readBertConfig(modelPath)), head: 'masked_lm' as const };
    return {
      config: modelConfig,
      params: initParams(modelConfig, config.seed),
      source: modelPath,
      messages: [
        `from scratch: ${path.basename(modelPath)} with a masked-LM head (truncated normal, std ` +
          `${modelConfig.initializerRange}, seed ${config.seed})`,
      ],
      tokenizer: tokenizerFromConfig(),
    };
  }
  const dir = await resolveModelDir(modelPath, offline ? { offline: true } : {});
  if (!existsSync(path.join(dir, 'config.json')))
    throw new UsageError(`${dir}: no config.json; model.path must be a Hugging Face model dir or a config.json`);
  const hasTokenizer = ['tokenizer.json', 'vocab.txt'].some((f) => existsSync(path.join(dir, f)));
  const loaded = await importHfModel(dir, { head: 'masked_lm', seed: config.seed });
  return {
    config: loaded.config,
    params: loaded.params,
    source: dir,
    messages: loaded.report.messages,
    tokenizer: hasTokenizer ? loadModelDirTokenizer(dir) : tokenizerFromConfig(),
  };
}
