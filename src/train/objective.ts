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
  evaluate(params: Params): Record<string, number> | Promise<Record<string, number>>;
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
  /** What the compiled training step needs to run this loss as one graph, or why it trains eagerly. */
  compiled: CompiledFeeds | { eagerOnly: string };
  dispose(): void;
}

/**
 * The feeds of the compiled step (src/train/compiled/) for an objective whose loss its graph has:
 * the classifier heads (by problem_type) and masked-LM pretraining.
 */
export interface CompiledFeeds {
  /**
   * One micro-batch of train rows as the graph's inputs: input_ids, attention_mask, token_type_ids and
   * the loss's own (labels; mlm_positions and mlm_labels). The caller disposes them.
   */
  batch(rows: number[], epoch: number): Map<string, tf.Tensor>;
  /** Inputs the same at every step (class_weights, pos_weight), owned by the objective. */
  constants: Map<string, tf.Tensor>;
}
