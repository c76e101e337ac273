import type { ProblemType } from '../model/index.js';

/**
 * How a head's logits become the scores a user sees, by Hugging Face problem_type: softmax over
 * the classes (single-label), a sigmoid per label (multi-label), the raw outputs (regression).
 */
export const OUTPUT_ACTIVATIONS: Record<ProblemType, (logits: ArrayLike<number>) => number[]> = {
  single_label_classification: softmax,
  multi_label_classification: (logits) => Array.from(logits, sigmoid),
  regression: (logits) => Array.from(logits),
};

/** Max-shifted softmax; plain loops (it runs per served row), same operations in the same order as ever. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Array<number>(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
