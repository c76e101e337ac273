import { sigmoid } from '../infer/activation.js';
import type { Flat } from './regression.js';

/**
 * Multi-label metrics over plain numbers, as scikit-learn computes them on 0/1 indicator matrices
 * (sklearn 1.9, zero_division default: an undefined ratio scores 0):
 * - per label: precision tp/(tp+fp), recall tp/(tp+fn), F1 2tp/(2tp+fp+fn), support = positives;
 * - micro: the same ratios over the counts summed across labels; macro: the unweighted mean of the
 *   per-label values; weighted: their mean weighted by support;
 * - samples: each row's precision |y∩p|/|p|, recall |y∩p|/|y|, F1 2|y∩p|/(|y|+|p|), then the mean
 *   (a row with no true and no predicted label scores 0, as sklearn does);
 * - subset_accuracy: sklearn accuracy_score (every label of the row right); hamming_loss;
 * - loss: mean binary cross-entropy of the sigmoid of the logits (torch BCEWithLogitsLoss, no
 *   pos_weight), in float64.
 * A row is predicted positive for a label when sigmoid(logit) ≥ that label's threshold.
 */
export const MULTI_LABEL_AVERAGES = ['micro', 'macro', 'weighted', 'samples'] as const;
export const MULTI_LABEL_PER_LABEL = ['precision', 'recall', 'f1', 'support', 'threshold'] as const;

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export class MultiLabelAccumulator {
  private readonly tp: number[];
  private readonly fp: number[];
  private readonly fn: number[];
  private readonly support: number[];
  private rowsSeen = 0;
  private exact = 0;
  private lossSum = 0;
  private samplePrecision = 0;
  private sampleRecall = 0;
  private sampleF1 = 0;

  constructor(
    readonly labels: string[],
    readonly thresholds: number[],
  ) {
    const zeros = () => labels.map(() => 0);
    this.tp = zeros();
    this.fp = zeros();
    this.fn = zeros();
    this.support = zeros();
  }

  get rows(): number {
    return this.rowsSeen;
  }

  /** Row-major [rows, labels] logits and 0/1 targets; returns each row's predicted 0/1 vector. */
  add(logits: ArrayLike<number>, targets: ArrayLike<number>): Uint8Array {
    const w = this.labels.length;
    const n = logits.length / w;
    const predicted = new Uint8Array(logits.length);
    for (let i = 0; i < n; i++) {
      let hit = 0;
      let trueCount = 0;
      let predCount = 0;
      let allRight = true;
      for (let j = 0; j < w; j++) {
        const x = logits[i * w + j];
        const y = targets[i * w + j] >= 0.5 ? 1 : 0;
        const p = sigmoid(x) >= this.thresholds[j] ? 1 : 0;
        predicted[i * w + j] = p;
        this.lossSum += y ? softplus(-x) : softplus(x);
        if (y) this.support[j]++;
        if (y && p) this.tp[j]++;
        else if (p) this.fp[j]++;
        else if (y) this.fn[j]++;
        hit += y & p;
        trueCount += y;
        predCount += p;
        if (y !== p) allRight = false;
      }
      if (allRight) this.exact++;
      this.samplePrecision += ratio(hit, predCount);
      this.sampleRecall += ratio(hit, trueCount);
      this.sampleF1 += ratio(2 * hit, trueCount + predCount);
      this.rowsSeen++;
    }
    return predicted;
  }

  compute(): Flat {
    const w = this.labels.length;
    const n = this.rowsSeen;
    const precision = this.labels.map((_, j) => ratio(this.tp[j], this.tp[j] + this.fp[j]));
    const recall = this.labels.map((_, j) => ratio(this.tp[j], this.tp[j] + this.fn[j]));
    const f1 = this.labels.map((_, j) => ratio(2 * this.tp[j], 2 * this.tp[j] + this.fp[j] + this.fn[j]));
    const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
    const totalSupport = sum(this.support);
    const weighted = (v: number[]) => ratio(sum(v.map((x, j) => x * this.support[j])), totalSupport);
    const [TP, FP, FN] = [sum(this.tp), sum(this.fp), sum(this.fn)];
    const out: Flat = {
      loss: this.lossSum / (n * w),
      subset_accuracy: this.exact / n,
      hamming_loss: (FP + FN) / (n * w),
      micro_precision: ratio(TP, TP + FP),
      micro_recall: ratio(TP, TP + FN),
      micro_f1: ratio(2 * TP, 2 * TP + FP + FN),
      macro_precision: sum(precision) / w,
      macro_recall: sum(recall) / w,
      macro_f1: sum(f1) / w,
      weighted_precision: weighted(precision),
      weighted_recall: weighted(recall),
      weighted_f1: weighted(f1),
      samples_precision: this.samplePrecision / n,
      samples_recall: this.sampleRecall / n,
      samples_f1: this.sampleF1 / n,
    };
    this.labels.forEach((l, j) => {
      out[`precision:${l}`] = precision[j];
      out[`recall:${l}`] = recall[j];
      out[`f1:${l}`] = f1[j];
      out[`support:${l}`] = this.support[j];
      out[`threshold:${l}`] = this.thresholds[j];
    });
    return out;
  }
}

/** Metric names a multi-label head reports (for gates and early stopping). */
export function multiLabelMetricNames(labels: string[]): string[] {
  const out = ['loss', 'subset_accuracy', 'hamming_loss'];
  for (const a of MULTI_LABEL_AVERAGES) for (const m of ['precision', 'recall', 'f1']) out.push(`${a}_${m}`);
  for (const l of labels) for (const m of MULTI_LABEL_PER_LABEL) out.push(`${m}:${l}`);
  return out;
}
