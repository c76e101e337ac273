import type * as tf from '@tensorflow/tfjs';
import type { Params, ParamSpec } from '../model/index.js';

/**
 * What the training loop optimises and reports, so one loop (data order, AdamW, schedule,
 * clipping, checkpoints, early stopping, resume) serves every objective: the classifier's
 * cross-entropy (classification-objective.ts), masked-LM pretraining (mlm-objective.ts) and the
 * bi-encoder's in-batch negatives (embedding-objective.ts).
 */
export interface Objective {
  /**
   * The loss of one micro-batch (rows are indices into the train split), as a scalar the loop
   * differentiates; `seed` drives dropout, `epoch` anything drawn anew each epoch (masks).
   */
  loss(params: Params, rows: number[], ctx: { epoch: number; seed: number; training: boolean }): tf.Scalar;
  /** Metrics of the current weights on the validation split (dropout off); includes `loss`. */
  evaluate(params: Params): Record<string, number>;
  /** The eval log line's numbers, e.g. "loss 0.41 accuracy 0.88". */
  describe(metrics: Record<string, number>): string;
  /** Appended to the loop's "training …" line (e.g. the class weights). */
  note?: string;
  /** Token lengths of the train examples, cut into batches; default the train split's row lengths. */
  lengths?: Int32Array;
  /** Batches of similar length (default) or plain random batches (in-batch negatives want those). */
  lengthBuckets?: boolean;
  /** Validation examples; default the validation split's rows. None: no evaluation, no early stopping. */
  validationRows?: number;
  /** Whether a parameter gets gradients; default all of them. */
  trains?(spec: ParamSpec): boolean;
  dispose(): void;
}
