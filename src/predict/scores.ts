/**
 * Logits of one row → what `recsys predict` and `recsys serve` answer: the best label and its
 * softmax probability, optionally the k best labels and the raw logits. One implementation, so a
 * row gets the same numbers from a file and from the service.
 */

export interface LabelScores {
  label: string;
  score: number;
  top_k?: { label: string; score: number }[];
  logits?: number[];
}

export function softmax(logits: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(logits));
  const exps = Array.from(logits, (x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Best label first; equal scores keep label order. `topK` > 1 adds the k best, `withLogits` the raw row. */
export function scoreLogits(logits: Float32Array, labels: string[], topK: number, withLogits: boolean): LabelScores {
  const probs = softmax(logits);
  const order = probs.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const out: LabelScores = { label: labels[order[0][1]], score: order[0][0] };
  if (topK > 1) out.top_k = order.slice(0, topK).map(([s, i]) => ({ label: labels[i], score: s }));
  if (withLogits) out.logits = Array.from(logits);
  return out;
}

/** Why a row cannot be encoded: the first text alone overflows max_length under only_second truncation. */
export function fitMessage(maxLength: number): string {
  return `first text alone exceeds max_length ${maxLength}; only_second truncation cannot fit the pair`;
}
