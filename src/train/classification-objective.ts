import * as tf from '@tensorflow/tfjs';
import type { RecsysConfig } from '../config/schema.js';
import { padBatch } from '../data/batch.js';
import { rowOf, type SplitArrays } from '../data/split-reader.js';
import { UsageError } from '../lib/errors.js';
import { bertLogits, type BertConfig } from '../model/index.js';
import { validationMetrics } from './evaluate.js';
import { balancedWeights, weightedCrossEntropy } from './loss.js';
import type { Objective } from './objective.js';

/** Single-label classification: (class-weighted) cross-entropy, validation metrics as `recsys eval`. */
export function classificationObjective(o: {
  config: RecsysConfig;
  modelConfig: BertConfig;
  train: SplitArrays;
  validation: SplitArrays | null;
  padId: number;
}): Objective & { classWeights?: tf.Tensor1D } {
  const t = o.config.train;
  const labels = o.modelConfig.id2label;
  const counts = new Array<number>(labels.length).fill(0);
  for (const l of o.train.labels) counts[l]++;
  if (t.class_weights && t.class_weights !== 'balanced') {
    const unknown = Object.keys(t.class_weights).filter((l) => !labels.includes(l));
    if (unknown.length)
      throw new UsageError(
        `train.class_weights: unknown label(s) ${unknown.join(', ')}; labels are ${labels.join(', ')}`,
      );
  }
  const weights =
    t.class_weights === null
      ? null
      : t.class_weights === 'balanced'
        ? balancedWeights(counts)
        : labels.map((l) => (t.class_weights as Record<string, number>)[l] ?? 1);
  const classWeights = weights ? tf.tensor1d(weights) : undefined;
  return {
    classWeights,
    note: weights ? `, class weights ${weights.map((w) => w.toFixed(3)).join(' ')}` : '',
    loss(params, rows, ctx) {
      return tf.tidy(() => {
        const inputs = padBatch(
          rows.map((i) => rowOf(o.train, i)),
          o.padId,
        );
        const y = tf.tensor1d(
          rows.map((i) => o.train.labels[i]),
          'int32',
        );
        const logits = bertLogits(params, o.modelConfig, inputs, { training: ctx.training, seed: ctx.seed });
        return weightedCrossEntropy(logits, y, classWeights);
      });
    },
    evaluate: (params) =>
      o.validation
        ? (validationMetrics(
            params,
            o.modelConfig,
            o.validation,
            o.config.eval.batch_size,
            o.padId,
          ) as unknown as Record<string, number>)
        : {},
    describe: (m) => `loss ${m.loss.toFixed(4)} accuracy ${m.accuracy.toFixed(4)} macro_f1 ${m.macro_f1.toFixed(4)}`,
    dispose: () => classWeights?.dispose(),
  };
}
