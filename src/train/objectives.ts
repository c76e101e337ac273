import * as tf from '@tensorflow/tfjs';
import type { RecsysConfig } from '../config/schema.js';
import type { SplitArrays } from '../data/split-reader.js';
import { UsageError } from '../lib/errors.js';
import type { ProblemType } from '../model/index.js';
import { balancedWeights, weightedCrossEntropy } from './loss.js';

/** The tasks whose model is a classifier head (task embedding has its own objective). */
type Task = ProblemType;

/**
 * The loss of each classifier head, as Hugging Face's BertForSequenceClassification picks it from
 * `problem_type` (the training Objective of these heads, classification-objective.ts, takes it from here):
 * - single_label_classification: CrossEntropyLoss (optionally class-weighted);
 * - regression: MSELoss over every output (the mean over rows × num_labels);
 * - multi_label_classification: BCEWithLogitsLoss (optionally with pos_weight), the mean over
 *   rows × labels.
 */
export interface HeadLoss {
  /** What the log prints about the loss. */
  describe: string;
  /** The targets of some rows of a split, as a tensor the caller disposes. */
  targets(split: SplitArrays, rows: number[]): tf.Tensor;
  /** Mean loss of a batch. */
  loss(logits: tf.Tensor2D, targets: tf.Tensor): tf.Scalar;
  /** single_label_classification: the class weights, which the compiled training step takes as an input. */
  classWeights?: tf.Tensor1D;
  /** multi_label_classification: pos_weight, which the compiled training step takes as an input. */
  posWeight?: tf.Tensor1D;
  dispose(): void;
}

/** Rows of a split's target vectors as a [rows, width] float tensor. */
function targetRows(split: SplitArrays, rows: number[]): tf.Tensor2D {
  const width = split.width ?? 0;
  if (!split.targets || width === 0)
    throw new UsageError('the dataset has no targets column; re-run recsys prepare with this task');
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => {
    out.set(split.targets!.subarray(r * width, (r + 1) * width), i * width);
  });
  return tf.tensor2d(out, [rows.length, width]);
}

/** torch.nn.MSELoss(): mean of the squared errors over every element. */
export function meanSquaredError(logits: tf.Tensor2D, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(logits, targets)) as tf.Scalar);
}

/**
 * torch.nn.BCEWithLogitsLoss(pos_weight=p): mean of p·y·softplus(−x) + (1−y)·softplus(x), the
 * log-sigmoid written with softplus so large logits stay finite.
 */
export function bceWithLogits(logits: tf.Tensor2D, targets: tf.Tensor, posWeight?: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const positive = tf.mul(targets, tf.softplus(tf.neg(logits)));
    const weighted = posWeight ? tf.mul(positive, posWeight) : positive;
    const negative = tf.mul(tf.sub(1, targets), tf.softplus(logits));
    return tf.mean(tf.add(weighted, negative)) as tf.Scalar;
  });
}

/** pos_weight per label: "balanced" = negatives / positives in the train split (1 for a label never positive). */
export function resolvePosWeight(
  setting: RecsysConfig['train']['pos_weight'],
  labels: string[],
  train: SplitArrays,
): number[] | null {
  if (setting === null) return null;
  if (setting !== 'balanced') {
    const unknown = Object.keys(setting).filter((l) => !labels.includes(l));
    if (unknown.length)
      throw new UsageError(`train.pos_weight: unknown label(s) ${unknown.join(', ')}; labels are ${labels.join(', ')}`);
    return labels.map((l) => setting[l] ?? 1);
  }
  const positives = new Array<number>(labels.length).fill(0);
  for (let i = 0; i < train.size; i++)
    for (let j = 0; j < labels.length; j++) positives[j] += train.targets![i * labels.length + j];
  return positives.map((p) => (p > 0 ? (train.size - p) / p : 1));
}

export interface HeadLossOptions {
  task: Task;
  labels: string[];
  train: SplitArrays;
  classWeights: RecsysConfig['train']['class_weights'];
  posWeight: RecsysConfig['train']['pos_weight'];
}

function classWeightsOf(o: HeadLossOptions): number[] | null {
  const cw = o.classWeights;
  if (cw === null) return null;
  if (cw !== 'balanced') return o.labels.map((l) => cw[l] ?? 1);
  const counts = new Array<number>(o.labels.length).fill(0);
  for (const l of o.train.labels) counts[l]++;
  return balancedWeights(counts);
}

const fixed = (w: number[]) => w.map((x) => x.toFixed(3)).join(' ');

/** task → its loss; the settings that do not apply to the task are refused by name. */
const HEAD_LOSSES: Record<Task, (o: HeadLossOptions) => HeadLoss> = {
  single_label_classification(o) {
    const w = classWeightsOf(o);
    const weights = w ? tf.tensor1d(w) : undefined;
    return {
      describe: `cross-entropy${w ? `, class weights ${fixed(w)}` : ''}`,
      targets: (split, rows) =>
        tf.tensor1d(
          rows.map((i) => split.labels[i]),
          'int32',
        ),
      loss: (logits, targets) => weightedCrossEntropy(logits, targets as tf.Tensor1D, weights),
      classWeights: weights,
      dispose: () => weights?.dispose(),
    };
  },
  regression: () => ({
    describe: 'mean squared error',
    targets: targetRows,
    loss: meanSquaredError,
    dispose: () => undefined,
  }),
  multi_label_classification(o) {
    const w = resolvePosWeight(o.posWeight, o.labels, o.train);
    const posWeight = w ? tf.tensor1d(w) : undefined;
    return {
      describe: `binary cross-entropy with logits${w ? `, pos_weight ${fixed(w)}` : ''}`,
      targets: targetRows,
      loss: (logits, targets) => bceWithLogits(logits, targets, posWeight),
      posWeight,
      dispose: () => posWeight?.dispose(),
    };
  },
};

export function headLossFor(o: HeadLossOptions): HeadLoss {
  if (o.task !== 'single_label_classification' && o.classWeights !== null)
    throw new UsageError(`train.class_weights: only for single_label_classification (task is ${o.task})`);
  if (o.task !== 'multi_label_classification' && o.posWeight !== null)
    throw new UsageError(`train.pos_weight: only for multi_label_classification (task is ${o.task})`);
  return HEAD_LOSSES[o.task](o);
}
