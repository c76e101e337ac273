import { softmax } from '../infer/activation.js';
import type { ProblemType } from '../model/index.js';
import { DECODERS, type Decoded } from './decode.js';

/**
 * Logits of one row → what `recsys predict` and `recsys serve` answer, by the model's head
 * (predict/decode.ts): the best label and its softmax probability (+ the k best) for a single-label
 * classifier, the labels at the run's thresholds and every sigmoid for a multi-label one, the raw
 * outputs for regression; optionally the raw logits. One implementation, so a row gets the same
 * numbers from a file and from the service.
 */

export { softmax };

export type LabelScores = Decoded & { logits?: number[] };

/** The head a model's logits are read by, and a multi-label run's decision thresholds. */
export interface HeadOf {
  headKind: ProblemType;
  thresholds: number[] | null;
}

const SINGLE_LABEL: HeadOf = { headKind: 'single_label_classification', thresholds: null };

/** Best label first; equal scores keep label order. `topK` > 1 adds the k best, `withLogits` the raw row. */
export function scoreLogits(
  logits: Float32Array,
  labels: string[],
  topK: number,
  withLogits: boolean,
  head: HeadOf = SINGLE_LABEL,
): LabelScores {
  const out: LabelScores = DECODERS[head.headKind](logits, { labels, topK, thresholds: head.thresholds });
  if (withLogits) out.logits = Array.from(logits);
  return out;
}

/** Why a row cannot be encoded: the first text alone overflows max_length under only_second truncation. */
export function fitMessage(maxLength: number): string {
  return `first text alone exceeds max_length ${maxLength}; only_second truncation cannot fit the pair`;
}
