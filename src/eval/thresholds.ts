import { sigmoid } from '../infer/activation.js';

/**
 * Per-label decision thresholds for a multi-label head, chosen on the validation split: for each
 * label, the threshold on sigmoid(logit) that maximises that label's F1 (ties: the one nearest
 * 0.5). Candidates are 0.5 and the midpoints between consecutive distinct scores, so a threshold
 * never sits exactly on a validation score. A label with no positive validation row keeps 0.5.
 */
export interface ThresholdChoice {
  thresholds: number[];
  /** Validation F1 of each label at its threshold. */
  f1: number[];
}

function f1At(scores: Float64Array, truth: Uint8Array, t: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i] >= t;
    if (p && truth[i]) tp++;
    else if (p) fp++;
    else if (truth[i]) fn++;
  }
  const d = 2 * tp + fp + fn;
  return d === 0 ? 0 : (2 * tp) / d;
}

function chooseOne(scores: Float64Array, truth: Uint8Array): { threshold: number; f1: number } {
  let best = { threshold: 0.5, f1: f1At(scores, truth, 0.5) };
  const positives = truth.reduce((a, b) => a + b, 0);
  if (positives === 0) return best;
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
  let tp = 0;
  for (let k = 1; k <= order.length; k++) {
    tp += truth[order[k - 1]];
    // The top k rows are predicted positive: only where the next score differs.
    if (k < order.length && scores[order[k]] === scores[order[k - 1]]) continue;
    const threshold = k < order.length ? (scores[order[k - 1]] + scores[order[k]]) / 2 : scores[order[k - 1]] / 2;
    // 2tp + fp + fn = k + positives, with fp = k − tp and fn = positives − tp.
    const f1 = (2 * tp) / (k + positives);
    const better =
      f1 > best.f1 + 1e-12 ||
      (Math.abs(f1 - best.f1) <= 1e-12 && Math.abs(threshold - 0.5) < Math.abs(best.threshold - 0.5));
    if (better) best = { threshold, f1 };
  }
  return best;
}

/** Row-major [rows, labels] logits and 0/1 targets → one threshold per label. */
export function chooseThresholds(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  labels: number,
): ThresholdChoice {
  const rows = logits.length / labels;
  const thresholds: number[] = [];
  const f1: number[] = [];
  for (let j = 0; j < labels; j++) {
    const scores = new Float64Array(rows);
    const truth = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      scores[i] = sigmoid(logits[i * labels + j]);
      truth[i] = targets[i * labels + j] >= 0.5 ? 1 : 0;
    }
    const c = chooseOne(scores, truth);
    thresholds.push(c.threshold);
    f1.push(c.f1);
  }
  return { thresholds, f1 };
}
