import { binaryCurves } from './binary-curves.js';

/**
 * Classification metrics over plain numbers (no tfjs), fed batch by batch. Shared by `recsys eval`
 * and the trainer's validation passes.
 *
 * The numbers are scikit-learn's, computed the same way (sklearn 1.9, default arguments):
 * - per class: precision = tp / predicted, recall = tp / support, F1 = 2·tp / (support + predicted)
 *   (sklearn's formula, not 2PR/(P+R)); support = number of true rows of the class.
 * - zero_division: sklearn's default ("warn") scores an undefined ratio as 0. A class that is never
 *   predicted has precision 0; a class absent from the data has recall 0; a class neither present
 *   nor predicted has precision = recall = F1 = 0. Every label of the dataset is reported (sklearn
 *   with `labels=range(n_classes)`), so such classes count as 0 in the macro average.
 * - macro = unweighted mean over all classes; weighted = mean weighted by support; accuracy =
 *   sklearn's "accuracy" row (micro F1).
 * - loss = mean cross-entropy of the softmax of the logits (sklearn `log_loss` on those
 *   probabilities), computed from the logits with log-sum-exp in float64.
 * - top-k accuracy (sklearn `top_k_accuracy_score`): the true class is among the k highest
 *   scores; on exactly equal scores the higher class index ranks first, as sklearn's stable
 *   argsort reversed does.
 * - binary tasks (2 labels): the positive class is label index 1; its softmax probability is the
 *   score. ROC-AUC is sklearn `roc_auc_score` (trapezoids, tied scores as one point); it is
 *   undefined (null; sklearn returns NaN) when the data hold only one class. PR-AUC is sklearn
 *   `average_precision_score` (Σ ΔRecall·Precision over distinct thresholds, no interpolation);
 *   with no positive row it is 0, as sklearn 1.9 returns.
 *
 * Memory: counts per class and a confusion matrix; for binary tasks one float per row (the
 * positive score) for the AUCs. Never all logits.
 */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface AverageMetrics {
  precision: number;
  recall: number;
  f1: number;
}

/**
 * The metrics of one evaluation, structured (camelCase). The JSON report spells them with
 * snake_case keys (`reportMetrics` in report.ts); gates and early stopping use `flatMetrics`.
 */
export interface ClassificationMetrics {
  labels: string[];
  rows: number;
  accuracy: number;
  /** Mean cross-entropy; null when the accumulator was fed predictions without logits. */
  loss: number | null;
  macro: AverageMetrics;
  weighted: AverageMetrics;
  perClass: ClassMetrics[];
  /** [true][predicted] counts, in label order. */
  confusion: number[][];
  /** k → top-k accuracy, for k > 1 on tasks with more than 2 classes; null otherwise. */
  topK: Record<string, number> | null;
  /** Binary tasks only (else null). */
  rocAuc: number | null;
  prAuc: number | null;
  positiveLabel: string | null;
  /** Why a metric is undefined or scored by convention (zero division, one class present, …). */
  notes: string[];
}

/** Per row, what the accumulator needs beyond the true and predicted label. */
export interface RowExtras {
  /** Cross-entropy of this row. */
  loss?: number;
  /** Rank of the true class among the scores (0 = best), sklearn's tie rule. */
  rank?: number;
  /** Binary tasks: score of the positive class (label index 1). */
  positiveScore?: number;
}

/** Per-row results of one batch of logits (what `recsys eval --predictions` writes). */
export interface RowResult {
  pred: number;
  loss: number;
  rank: number;
  /** Softmax probability of the predicted class. */
  score: number;
  positiveScore?: number;
}

/** Default k values for top-k accuracy: 2, 3, 5 where k < number of classes (none for ≤ 2 classes). */
export function defaultTopK(numClasses: number): number[] {
  return numClasses > 2 ? [2, 3, 5].filter((k) => k < numClasses) : [];
}

/** Growable float64 / uint8 arrays, for the binary scores. */
class Growable {
  scores = new Float64Array(1024);
  positive = new Uint8Array(1024);
  length = 0;
  push(score: number, positive: boolean): void {
    if (this.length === this.scores.length) {
      const s = new Float64Array(this.length * 2);
      s.set(this.scores);
      this.scores = s;
      const p = new Uint8Array(this.length * 2);
      p.set(this.positive);
      this.positive = p;
    }
    this.scores[this.length] = score;
    this.positive[this.length] = positive ? 1 : 0;
    this.length++;
  }
}

/**
 * Analyse one row of logits: argmax (first index on ties), cross-entropy, rank of the true class,
 * softmax probability of the prediction and (binary) of the positive class.
 */
export function analyseLogits(logits: ArrayLike<number>, offset: number, n: number, trueId: number): RowResult {
  let max = -Infinity;
  let pred = 0;
  for (let j = 0; j < n; j++) {
    const v = logits[offset + j];
    if (v > max) {
      max = v;
      pred = j;
    }
  }
  let sum = 0;
  for (let j = 0; j < n; j++) sum += Math.exp(logits[offset + j] - max);
  const lse = max + Math.log(sum);
  const own = logits[offset + trueId];
  let rank = 0;
  for (let j = 0; j < n; j++) {
    const v = logits[offset + j];
    if (v > own || (v === own && j > trueId)) rank++;
  }
  const out: RowResult = { pred, loss: lse - own, rank, score: Math.exp(max - lse) };
  if (n === 2) out.positiveScore = Math.exp(logits[offset + 1] - lse);
  return out;
}

export class MetricsAccumulator {
  readonly n: number;
  readonly topKs: number[];
  private readonly confusion: Float64Array;
  private readonly topKHits: number[];
  private lossSum = 0;
  private lossComp = 0; // Neumaier compensation
  private lossRows = 0;
  private rankRows = 0;
  private count = 0;
  private readonly binary?: Growable;

  constructor(
    readonly labels: string[],
    opts: { topK?: number[] } = {},
  ) {
    this.n = labels.length;
    if (this.n < 2) throw new Error(`metrics need at least 2 labels, got ${this.n}`);
    this.topKs = this.n > 2 ? [...new Set(opts.topK ?? defaultTopK(this.n))].sort((a, b) => a - b) : [];
    for (const k of this.topKs) {
      if (!Number.isInteger(k) || k < 2 || k >= this.n)
        throw new Error(`top-k accuracy needs 1 < k < ${this.n} (number of classes), got ${k}`);
    }
    this.topKHits = this.topKs.map(() => 0);
    this.confusion = new Float64Array(this.n * this.n);
    if (this.n === 2) this.binary = new Growable();
  }

  get rows(): number {
    return this.count;
  }

  /** One row: true and predicted class ids, plus whatever extras are known. */
  addPrediction(trueId: number, predId: number, extra: RowExtras = {}): void {
    if (!(trueId >= 0 && trueId < this.n && Number.isInteger(trueId)))
      throw new RangeError(`true label id ${trueId} outside 0..${this.n - 1}`);
    if (!(predId >= 0 && predId < this.n && Number.isInteger(predId)))
      throw new RangeError(`predicted label id ${predId} outside 0..${this.n - 1}`);
    this.confusion[trueId * this.n + predId]++;
    this.count++;
    if (extra.loss !== undefined) {
      const t = this.lossSum + extra.loss;
      this.lossComp +=
        Math.abs(this.lossSum) >= Math.abs(extra.loss) ? this.lossSum - t + extra.loss : extra.loss - t + this.lossSum;
      this.lossSum = t;
      this.lossRows++;
    }
    if (extra.rank !== undefined) {
      this.rankRows++;
      this.topKs.forEach((k, i) => {
        if (extra.rank! < k) this.topKHits[i]++;
      });
    }
    if (this.binary && extra.positiveScore !== undefined) this.binary.push(extra.positiveScore, trueId === 1);
  }

  /**
   * A batch of logits (rows × classes, row-major) and the true class ids. Returns the per-row
   * results (prediction, loss, rank, scores) for callers that write predictions.
   */
  addLogits(logits: ArrayLike<number>, trueIds: ArrayLike<number>): RowResult[] {
    const rows = trueIds.length;
    if (logits.length !== rows * this.n)
      throw new RangeError(`expected ${rows}×${this.n} logits, got ${logits.length}`);
    const out: RowResult[] = new Array(rows);
    for (let i = 0; i < rows; i++) {
      const y = trueIds[i];
      if (!(y >= 0 && y < this.n && Number.isInteger(y)))
        throw new RangeError(`true label id ${y} outside 0..${this.n - 1}`);
      const r = analyseLogits(logits, i * this.n, this.n, y);
      this.addPrediction(y, r.pred, r);
      out[i] = r;
    }
    return out;
  }

  compute(): ClassificationMetrics {
    const { n, labels } = this;
    const notes: string[] = [];
    const confusion: number[][] = [];
    for (let i = 0; i < n; i++) confusion.push(Array.from(this.confusion.subarray(i * n, (i + 1) * n)));
    const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
    const predicted = labels.map((_, j) => confusion.reduce((a, row) => a + row[j], 0));
    const perClass: ClassMetrics[] = labels.map((_label, i) => {
      const tp = confusion[i][i];
      const precision = predicted[i] === 0 ? 0 : tp / predicted[i];
      const recall = support[i] === 0 ? 0 : tp / support[i];
      const denom = support[i] + predicted[i];
      const f1 = denom === 0 ? 0 : (2 * tp) / denom;
      return { precision, recall, f1, support: support[i] };
    });
    const never = labels.filter((_, i) => predicted[i] === 0);
    const absent = labels.filter((_, i) => support[i] === 0);
    if (never.length)
      notes.push(`never predicted (precision scored 0, as sklearn's zero_division default): ${never.join(', ')}`);
    if (absent.length)
      notes.push(`no rows in the data (recall scored 0, as sklearn's zero_division default): ${absent.join(', ')}`);

    const mean = (key: keyof AverageMetrics) => perClass.reduce((a, c) => a + c[key], 0) / n;
    const total = support.reduce((a, b) => a + b, 0);
    const weightedMean = (key: keyof AverageMetrics) =>
      total === 0 ? 0 : perClass.reduce((a, c) => a + c[key] * c.support, 0) / total;
    const correct = labels.reduce((a, _, i) => a + confusion[i][i], 0);

    let topK: Record<string, number> | null = null;
    if (this.topKs.length && this.rankRows > 0) {
      topK = Object.fromEntries(this.topKs.map((k, i) => [String(k), this.topKHits[i] / this.rankRows]));
    }

    let rocAuc: number | null = null;
    let prAuc: number | null = null;
    if (this.binary && this.binary.length > 0) {
      const curves = binaryCurves(
        this.binary.scores.subarray(0, this.binary.length),
        this.binary.positive.subarray(0, this.binary.length),
      );
      rocAuc = curves.rocAuc;
      prAuc = curves.averagePrecision;
      if (rocAuc === null) notes.push(`ROC-AUC undefined: only one class present in the data (sklearn returns NaN)`);
      if (curves.positives === 0)
        notes.push(`PR-AUC is 0: no positive (${labels[1]}) rows in the data (as sklearn 1.9)`);
    }

    return {
      labels: [...labels],
      rows: this.count,
      accuracy: this.count === 0 ? 0 : correct / this.count,
      loss: this.lossRows === 0 ? null : (this.lossSum + this.lossComp) / this.lossRows,
      macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') },
      weighted: { precision: weightedMean('precision'), recall: weightedMean('recall'), f1: weightedMean('f1') },
      perClass,
      confusion,
      topK,
      rocAuc,
      prAuc,
      positiveLabel: n === 2 ? labels[1] : null,
      notes,
    };
  }
}

// ------------------------------------------------------------------ flat metric names (gates)

/** Metrics where lower is better (everything else: higher is better). */
export const LOWER_IS_BETTER = new Set(['loss']);
/** Per-class metrics, named `metric:Label` in gates. */
export const PER_CLASS_METRICS = ['precision', 'recall', 'f1'] as const;
const AVERAGED = [
  'macro_precision',
  'macro_recall',
  'macro_f1',
  'weighted_precision',
  'weighted_recall',
  'weighted_f1',
];

export interface MetricSpace {
  labels: string[];
  topK: number[];
}

/** Every metric name a gate can use for a task with these labels and top-k values. */
export function metricNames(space: MetricSpace): string[] {
  const names = ['accuracy', 'loss', ...AVERAGED];
  for (const k of space.labels.length > 2 ? space.topK : []) names.push(`top_${k}_accuracy`);
  if (space.labels.length === 2) names.push('roc_auc', 'pr_auc');
  for (const m of PER_CLASS_METRICS) for (const l of space.labels) names.push(`${m}:${l}`);
  return names;
}

/** Metric name (`macro_f1`, `top_3_accuracy`, `recall:Label`, …) → value; null when undefined. */
export type FlatMetrics = Record<string, number | null>;

/** The metrics as one flat map, keyed by the names gates use (undefined metrics are null). */
export function flatMetrics(m: ClassificationMetrics): FlatMetrics {
  const out: FlatMetrics = {
    accuracy: m.accuracy,
    loss: m.loss,
    macro_precision: m.macro.precision,
    macro_recall: m.macro.recall,
    macro_f1: m.macro.f1,
    weighted_precision: m.weighted.precision,
    weighted_recall: m.weighted.recall,
    weighted_f1: m.weighted.f1,
  };
  for (const [k, v] of Object.entries(m.topK ?? {})) out[`top_${k}_accuracy`] = v;
  if (m.labels.length === 2) {
    out.roc_auc = m.rocAuc;
    out.pr_auc = m.prAuc;
  }
  m.labels.forEach((l, i) => {
    for (const key of PER_CLASS_METRICS) out[`${key}:${l}`] = m.perClass[i][key];
  });
  return out;
}
