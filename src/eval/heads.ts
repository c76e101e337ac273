import type { OutputPlot } from './head-plots.js';
import type { ProblemType } from '../model/index.js';
import { MultiLabelAccumulator, multiLabelMetricNames } from './multilabel.js';
import { type Flat, RegressionAccumulator, regressionMetricNames } from './regression.js';

/**
 * The heads that are not single-label classification, as one table: the metrics each reports, which
 * of them are lower-is-better, and the accumulator that computes them from logits and the target
 * vectors of a prepared split (data/targets.ts). Single-label classification keeps its own path
 * (metrics.ts: confusion matrix, top-k, AUCs).
 */
export type HeadTask = Exclude<ProblemType, 'single_label_classification'>;

export interface HeadAccumulator {
  readonly rows: number;
  add(logits: ArrayLike<number>, targets: ArrayLike<number>): void;
  compute(): Flat;
  /** Regression: what the HTML report plots. */
  plots?(): OutputPlot[];
}

export interface HeadSpec {
  metricNames(labels: string[]): string[];
  lowerIsBetter(metric: string): boolean;
  /** Metrics the train log and eval summary print first. */
  headline: string[];
  /** Multi-label: per-label thresholds (default 0.5). */
  accumulator(labels: string[], thresholds?: number[] | null): HeadAccumulator;
}

export const HEADS: Record<HeadTask, HeadSpec> = {
  regression: {
    metricNames: regressionMetricNames,
    lowerIsBetter: (m) => /^(loss|mae|mse|rmse)(:|$)/.test(m),
    headline: ['loss', 'mae', 'rmse', 'r2', 'pearson', 'spearman'],
    accumulator: (labels) => new RegressionAccumulator(labels),
  },
  multi_label_classification: {
    metricNames: multiLabelMetricNames,
    lowerIsBetter: (m) => m === 'loss' || m === 'hamming_loss',
    headline: ['loss', 'micro_f1', 'macro_f1', 'samples_f1', 'subset_accuracy'],
    accumulator: (labels, thresholds) => new MultiLabelAccumulator(labels, thresholds ?? labels.map(() => 0.5)),
  },
};

export function isHeadTask(t: string | null | undefined): t is HeadTask {
  return t === 'regression' || t === 'multi_label_classification';
}

/** `name value` pairs of the headline metrics, for one log line. */
export function headlineText(task: HeadTask, m: Flat, digits = 4): string {
  return HEADS[task].headline
    .filter((k) => k in m)
    .map((k) => `${k} ${m[k] === null ? '-' : m[k]!.toFixed(digits)}`)
    .join(' ');
}
