import { OUTPUT_ACTIVATIONS } from '../infer/activation.js';
import type { ProblemType } from '../model/index.js';
import type { Prediction } from './writer.js';

/** What a prediction row gets from one row's logits. */
export type Decoded = Pick<Prediction, 'label' | 'score' | 'top_k' | 'labels' | 'scores' | 'values'>;

export interface DecodeOptions {
  labels: string[];
  topK: number;
  /** Multi-label decision thresholds (default 0.5 each). */
  thresholds: number[] | null;
}

/**
 * One row's logits → its prediction, by the head (the activation comes from infer/activation.ts):
 * - single-label: the most probable class and its softmax probability (+ top k);
 * - multi-label: every label whose sigmoid reaches its threshold (`labels`, also joined with "|" in
 *   `label`) and each label's probability (`scores`);
 * - regression: the raw outputs by name (`values`; `score` is the first).
 */
export const DECODERS: Record<ProblemType, (logits: ArrayLike<number>, o: DecodeOptions) => Decoded> = {
  single_label_classification(logits, o) {
    const probs = OUTPUT_ACTIVATIONS.single_label_classification(logits);
    const order = probs.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const out: Decoded = { label: o.labels[order[0][1]], score: order[0][0] };
    if (o.topK > 1) out.top_k = order.slice(0, o.topK).map(([s, i]) => ({ label: o.labels[i], score: s }));
    return out;
  },
  multi_label_classification(logits, o) {
    const probs = OUTPUT_ACTIVATIONS.multi_label_classification(logits);
    const on = o.labels.filter((_, i) => probs[i] >= (o.thresholds?.[i] ?? 0.5));
    return {
      label: on.join('|'),
      score: null,
      labels: on,
      scores: Object.fromEntries(o.labels.map((l, i) => [l, probs[i]])),
    };
  },
  regression(logits, o) {
    const values = OUTPUT_ACTIVATIONS.regression(logits);
    return { label: null, score: values[0], values: Object.fromEntries(o.labels.map((l, i) => [l, values[i]])) };
  },
};

/** Columns a CSV of predictions adds for the head. */
export const EXTRA_COLUMNS: Record<ProblemType, string[]> = {
  single_label_classification: [],
  multi_label_classification: ['labels', 'scores'],
  regression: ['values'],
};
