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

export function softmax(logits: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(logits));
  const exps = Array.from(logits, (x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
