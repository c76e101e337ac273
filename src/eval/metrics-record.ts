import { existsSync, readFileSync } from 'node:fs';
import { DataError, escapeControlChars } from '../lib/errors.js';

/**
 * A run's `metrics.jsonl`: one JSON object per line, written by `recsys train` (train/metrics-log.ts)
 * and read back by the HTML eval report. The types here are the file's format; it lives in eval/
 * because eval/ sits below train/ and both need it.
 *
 * JSON has no NaN or Infinity: a non-finite number (a diverged loss) is written as null, and read
 * back as NaN.
 */

/**
 * The validation metrics of one evaluation during training: the `flatMetrics` names whose value is
 * defined (accuracy, loss, macro_f1, top_3_accuracy, recall:Label, …) plus the number of rows.
 */
export interface ValidationMetrics {
  rows: number;
  loss: number;
  accuracy: number;
  macro_f1: number;
  weighted_f1: number;
  [metric: string]: number;
}

/** One optimizer step. */
export interface TrainStepRecord {
  type: 'train';
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  grad_norm: number;
  samples_per_s: number;
  /** Training seconds since the run began (resumed runs continue the count). */
  time_s: number;
}

/** One pass over the validation split. On disk the metrics sit flat beside step and epoch. */
export interface ValidationRecord {
  type: 'eval';
  step: number;
  epoch: number;
  split: 'validation';
  metrics: ValidationMetrics;
  /** Early stopping's best value of its metric so far, and the step it was reached at. */
  best: number | null;
  best_step: number | null;
}

export type MetricsRecord = TrainStepRecord | ValidationRecord;

const TRAIN_KEYS = ['step', 'epoch', 'loss', 'lr', 'grad_norm', 'samples_per_s', 'time_s'] as const;
const VALIDATION_KEYS = ['type', 'step', 'epoch', 'split', 'best', 'best_step'];
// Only what every head reports: regression has no accuracy, multi-label no single-label averages.
const REQUIRED_METRICS = ['rows', 'loss'] as const;

/** The record as its line of metrics.jsonl (with the newline), keys in a fixed order. */
export function metricsLine(r: MetricsRecord): string {
  const flat =
    r.type === 'train'
      ? {
          type: r.type,
          step: r.step,
          epoch: r.epoch,
          loss: r.loss,
          lr: r.lr,
          grad_norm: r.grad_norm,
          samples_per_s: r.samples_per_s,
          time_s: r.time_s,
        }
      : {
          type: r.type,
          step: r.step,
          epoch: r.epoch,
          split: r.split,
          ...r.metrics,
          best: r.best,
          best_step: r.best_step,
        };
  return `${JSON.stringify(flat)}\n`;
}

/** One line of metrics.jsonl as a record; `where` (file and line) starts the one-line error. */
export function parseMetricsLine(text: string, where: string): MetricsRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DataError(`${where}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new DataError(`${where}: expected a JSON object, one metrics record per line`);
  const o = value as Record<string, unknown>;
  const num = (key: string): number => {
    const v = o[key];
    if (typeof v === 'number') return v;
    if (v === null) return Number.NaN;
    const why = v === undefined ? 'is missing' : `must be a number, got ${shown(v)}`;
    throw new DataError(`${where}: "${escapeControlChars(key)}" ${why}`);
  };
  const numOrNull = (key: string): number | null => (o[key] === null ? null : num(key));
  if (o.type === 'train') {
    const r = { type: 'train' } as TrainStepRecord;
    for (const key of TRAIN_KEYS) r[key] = num(key);
    return r;
  }
  if (o.type === 'eval') {
    if (o.split !== 'validation') throw new DataError(`${where}: "split" must be "validation", got ${shown(o.split)}`);
    const metrics = {} as ValidationMetrics;
    for (const key of Object.keys(o)) if (!VALIDATION_KEYS.includes(key)) metrics[key] = num(key);
    for (const key of REQUIRED_METRICS) if (!(key in metrics)) num(key); // throws: missing
    // Beyond rows and loss each head reports its own (accuracy, mae, ndcg@10, …); a record with none of
    // them says nothing of the model, and is taken for a classifier's that lost its accuracy.
    if (Object.keys(metrics).every((key) => key === 'rows' || key === 'loss')) num('accuracy');
    return {
      type: 'eval',
      step: num('step'),
      epoch: num('epoch'),
      split: 'validation',
      metrics,
      best: numOrNull('best'),
      best_step: numOrNull('best_step'),
    };
  }
  throw new DataError(`${where}: "type" must be "train" or "eval", got ${shown(o.type)}`);
}

/** A value quoted in an error: JSON, escaped, at most 60 characters. */
function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = escapeControlChars(JSON.stringify(v));
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}

/**
 * Every record of a run's metrics.jsonl ([] when the run has none). The last line may be cut short
 * by a run that is still writing it (no newline yet): it is left out. Any complete line that is
 * not a record is a data error naming the file and the line.
 */
export function readMetricsLog(file: string): MetricsRecord[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop(); // after the last newline: empty, or a line still being written
  const records: MetricsRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim()) records.push(parseMetricsLine(line, `${file} line ${i + 1}`));
  });
  return records;
}
