import * as tf from '@tensorflow/tfjs';
import { padBatch } from '../data/batch.js';
import { faultPoint } from '../lib/fault.js';
import { rowOf, type SplitArrays } from '../data/split-reader.js';
import { bertLogits, type BertConfig, type Params } from '../model/index.js';
import { weightedCrossEntropy } from './loss.js';

export interface EvalMetrics {
  loss: number;
  accuracy: number;
  macro_f1: number;
  weighted_f1: number;
  rows: number;
  [metric: string]: number;
}

/** Macro/weighted F1 from a confusion matrix, zero-division as 0 (scikit-learn's default). */
export function summarizeConfusion(cm: number[][]): { accuracy: number; macro_f1: number; weighted_f1: number } {
  const n = cm.length;
  let correct = 0;
  let total = 0;
  let macro = 0;
  let weighted = 0;
  for (let c = 0; c < n; c++) {
    const tp = cm[c][c];
    const support = cm[c].reduce((a, b) => a + b, 0);
    const predicted = cm.reduce((a, row) => a + row[c], 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    correct += tp;
    total += support;
    macro += f1;
    weighted += f1 * support;
  }
  return { accuracy: total ? correct / total : 0, macro_f1: n ? macro / n : 0, weighted_f1: total ? weighted / total : 0 };
}

/** Loss, accuracy, macro-F1 of the current weights on a split, batch by batch (dropout off). */
export function evaluateSplit(params: Params, config: BertConfig, split: SplitArrays, batchSize: number, padId: number): EvalMetrics {
  const k = config.id2label.length;
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let lossSum = 0;
  for (let start = 0; start < split.size; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, split.size - start) }, (_, i) => start + i);
    faultPoint('eval');
    const inputs = padBatch(idx.map((i) => rowOf(split, i)), padId);
    const labels = tf.tensor1d(idx.map((i) => split.labels[i]), 'int32');
    const [loss, pred] = tf.tidy(() => {
      const logits = bertLogits(params, config, inputs);
      return [weightedCrossEntropy(logits, labels), tf.argMax(logits, 1)];
    });
    lossSum += (loss.dataSync()[0] as number) * idx.length;
    const p = pred.dataSync();
    idx.forEach((row, j) => cm[split.labels[row]][p[j]]++);
    tf.dispose([loss, pred, labels, inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds]);
  }
  return { loss: split.size ? lossSum / split.size : 0, ...summarizeConfusion(cm), rows: split.size };
}
