import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { padBatch } from '../data/batch.js';
import type { DatasetManifest } from '../data/manifest.js';
import { rowOf, type SplitArrays } from '../data/split-reader.js';
import { chooseThresholds } from '../eval/thresholds.js';
import { THRESHOLDS_FILE, type ThresholdsFile } from '../infer/thresholds.js';
import { writeJsonAtomic } from '../lib/atomic.js';
import { bertLogits, type BertConfig, type Params } from '../model/index.js';

export const padIdOf = (m: DatasetManifest): number => m.tokenizer.special_ids.pad ?? 0;

/** Logits of every row of a split (dropout off), row-major [rows, labels]. */
function splitLogits(params: Params, config: BertConfig, split: SplitArrays, batchSize: number, padId: number) {
  const n = config.id2label.length;
  const out = new Float32Array(split.size * n);
  for (let start = 0; start < split.size; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, split.size - start) }, (_, i) => start + i);
    const inputs = padBatch(
      idx.map((i) => rowOf(split, i)),
      padId,
    );
    const logits = bertLogits(params, config, inputs, { inference: true });
    out.set(logits.dataSync(), start * n);
    tf.dispose([logits, inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds]);
  }
  return out;
}

/**
 * Choose a multi-label run's per-label thresholds on the validation split (eval/thresholds.ts) and
 * write them to MODEL_DIR/thresholds.json, where eval, predict and export read them. Returns a log line.
 */
export async function saveThresholds(
  modelDir: string,
  config: BertConfig,
  params: Params,
  validation: SplitArrays,
  batchSize: number,
  padId: number,
): Promise<string> {
  const logits = splitLogits(params, config, validation, batchSize, padId);
  const choice = chooseThresholds(logits, validation.targets!, config.id2label.length);
  const doc: ThresholdsFile = {
    problem_type: 'multi_label_classification',
    split: 'validation',
    rows: validation.size,
    labels: config.id2label,
    thresholds: choice.thresholds,
    validation_f1: choice.f1,
  };
  const file = path.join(modelDir, THRESHOLDS_FILE);
  await writeJsonAtomic(file, doc);
  const shown = config.id2label.map((l, i) => `${l} ${choice.thresholds[i].toFixed(3)}`).join(', ');
  return `thresholds (chosen on ${validation.size} validation rows): ${shown} → ${file}`;
}
