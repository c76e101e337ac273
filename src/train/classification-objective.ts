import * as tf from '@tensorflow/tfjs';
import type { RecsysConfig } from '../config/schema.js';
import { inputFeeds, padBatch } from '../data/batch.js';
import { rowOf, type SplitArrays } from '../data/split-reader.js';
import { headlineText, isHeadTask } from '../eval/heads.js';
import { compiledRunner } from '../infer/compiled.js';
import type { LogitsRunner } from '../infer/runners.js';
import { UsageError } from '../lib/errors.js';
import { makeLogger } from '../lib/log.js';
import { bertLogits, type BertConfig, headTask } from '../model/index.js';
import { validationMetrics } from './evaluate.js';
import type { Objective } from './objective.js';
import { headLossFor } from './objectives.js';

/**
 * The classifier head's objective, by the model's problem_type (train/objectives.ts): (class-weighted)
 * cross-entropy for single-label, MSE for regression, BCE-with-logits (+ pos_weight) for multi-label;
 * validation metrics as `recsys eval` reports them for that head.
 */
export function classificationObjective(o: {
  config: RecsysConfig;
  modelConfig: BertConfig;
  train: SplitArrays;
  validation: SplitArrays | null;
  padId: number;
}): Objective {
  const t = o.config.train;
  const labels = o.modelConfig.id2label;
  const task = headTask(o.modelConfig);
  if (t.class_weights && t.class_weights !== 'balanced') {
    const unknown = Object.keys(t.class_weights).filter((l) => !labels.includes(l));
    if (unknown.length)
      throw new UsageError(
        `train.class_weights: unknown label(s) ${unknown.join(', ')}; labels are ${labels.join(', ')}`,
      );
  }
  let graph: LogitsRunner | null | undefined; // undefined: not made yet; null: the eager pass
  const quiet = makeLogger({ quiet: true });
  const trainBatch = (rows: number[]) =>
    padBatch(
      rows.map((i) => rowOf(o.train, i)),
      o.padId,
    );
  const head = headLossFor({ task, labels, train: o.train, classWeights: t.class_weights, posWeight: t.pos_weight });
  return {
    compiled: {
      batch(rows) {
        return new Map<string, tf.Tensor>([...inputFeeds(trainBatch(rows)), ['labels', head.targets(o.train, rows)]]);
      },
      constants: new Map<string, tf.Tensor>([
        ...(head.classWeights ? [['class_weights', head.classWeights] as const] : []),
        ...(head.posWeight ? [['pos_weight', head.posWeight] as const] : []),
      ]),
    },
    note: `, loss: ${head.describe}`,
    loss(params, rows, ctx) {
      return tf.tidy(() => {
        const inputs = trainBatch(rows);
        const targets = head.targets(o.train, rows);
        const logits = bertLogits(params, o.modelConfig, inputs, { training: ctx.training, seed: ctx.seed });
        return head.loss(logits, targets);
      });
    },
    async evaluate(params) {
      if (!o.validation) return {};
      // Validation runs the forward pass as one TensorFlow graph where training's step is compiled: made
      // at the first pass, it takes the current weights before each one.
      if (graph === undefined) {
        const mode = t.compiled;
        graph = (await compiledRunner(params, o.modelConfig, { mode, key: 'train.compiled' }, quiet)) ?? null;
      } else graph?.setWeights?.(params);
      const m = await validationMetrics(
        params,
        o.modelConfig,
        o.validation,
        o.config.eval.batch_size,
        o.padId,
        graph ?? undefined,
      );
      return m as unknown as Record<string, number>;
    },
    describe: (m) =>
      isHeadTask(task)
        ? headlineText(task, m)
        : `loss ${m.loss.toFixed(4)} accuracy ${m.accuracy.toFixed(4)} macro_f1 ${m.macro_f1.toFixed(4)}`,
    dispose: () => {
      head.dispose();
      void graph?.close();
    },
  };
}
