import * as tf from '@tensorflow/tfjs';
import { padBatch, padRows } from '../data/batch.js';
import { rowOf, type SplitArrays } from '../data/split-reader.js';
import { HEADS, isHeadTask } from '../eval/heads.js';
import { flatMetrics, MetricsAccumulator } from '../eval/metrics.js';
import type { ValidationMetrics } from '../eval/metrics-record.js';
import type { LogitsRunner } from '../infer/runners.js';
import { faultPoint } from '../lib/fault.js';
import { bertLogits, type BertConfig, type Params } from '../model/index.js';

/**
 * The validation metrics of the current weights (dropout off), computed batch by batch with the
 * same accumulator `recsys eval` uses, so early stopping watches the numbers eval reports.
 */
export async function validationMetrics(
  params: Params,
  config: BertConfig,
  split: SplitArrays,
  batchSize: number,
  padId: number,
  /** The forward pass as one TensorFlow graph, holding these weights already; absent: the eager pass. */
  graph?: LogitsRunner,
): Promise<ValidationMetrics> {
  const task = config.problemType;
  // Regression and multi-label heads: their own metrics over the split's target vectors (thresholds 0.5).
  const head = isHeadTask(task) ? HEADS[task].accumulator(config.id2label) : null;
  const width = config.id2label.length;
  const acc = head ? null : new MetricsAccumulator(config.id2label);
  for (let start = 0; start < split.size; start += batchSize) {
    faultPoint('eval');
    const idx = Array.from({ length: Math.min(batchSize, split.size - start) }, (_, i) => start + i);
    const rows = idx.map((i) => rowOf(split, i));
    let logits: Float32Array;
    if (graph) logits = await graph.run(padRows(rows, padId));
    else {
      const inputs = padBatch(rows, padId);
      const t = bertLogits(params, config, inputs, { inference: true });
      logits = t.dataSync() as Float32Array;
      tf.dispose([t, inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds]);
    }
    if (head) head.add(logits, split.targets!.subarray(start * width, (start + idx.length) * width));
    else
      acc!.addLogits(
        logits,
        idx.map((i) => split.labels[i]),
      );
  }
  const flat = head ? head.compute() : flatMetrics(acc!.compute());
  const out: Record<string, number> = { rows: split.size };
  for (const [k, v] of Object.entries(flat)) if (v !== null) out[k] = v;
  return out as ValidationMetrics;
}
