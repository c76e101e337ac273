import { sigmoid } from '../infer/activation.js';
import type { ProblemType } from '../model/index.js';

/** One row's decision from its logits: what an export must agree on with the run, besides |Δlogit| ≤ atol. */
export type Decide = (logits: Float32Array, at: number, n: number) => string;

function argmax(v: Float32Array, at: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (v[at + j] > v[at + best]) best = j;
  return best;
}

/**
 * The decision the parity gate compares, by head: the top class (single-label), the set of labels at
 * the run's thresholds (multi-label), none (regression: its outputs are the answer, held to atol).
 */
export function decisionFor(problemType: ProblemType | null, thresholds: number[] | null): Decide {
  if (problemType === 'regression') return () => '';
  if (problemType === 'multi_label_classification')
    return (v, at, n) => {
      let key = '';
      for (let j = 0; j < n; j++) key += sigmoid(v[at + j]) >= (thresholds?.[j] ?? 0.5) ? '1' : '0';
      return key;
    };
  return (v, at, n) => String(argmax(v, at, n));
}
