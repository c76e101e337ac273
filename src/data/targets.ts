import type { RecsysConfig } from '../config/schema.js';
import { UsageError } from '../lib/errors.js';
import { labelKey } from './labels.js';

/**
 * The labels of the heads that learn numbers rather than one class: `regression` (one or several
 * numeric columns) and `multi_label_classification` (one column holding several labels, `a|b`, or
 * one 0/1 column per label). Each usable row is reduced to a string key: the numbers joined by
 * commas, or the row's label names joined by a newline. The key travels through prepare's
 * spill file like a class label does; `targetsOf` turns it into the float vector a shard stores.
 */
export type Task = RecsysConfig['task'];

export type TargetRead = { ok: true; key: string } | { ok: false; reason: string };

export interface TargetSpec {
  task: Exclude<Task, 'single_label_classification'>;
  /** Input columns holding the labels. */
  columns: string[];
  /** Output names, in head order; null when they come from the data (labels in one column). */
  names: string[] | null;
  read(values: Record<string, unknown>): TargetRead;
}

const KEY_SEPARATOR = '\n';

function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** 0/1 cells: numbers, "0"/"1", booleans. */
function flagOf(v: unknown): 0 | 1 | undefined {
  if (v === true) return 1;
  if (v === false) return 0;
  const n = numberOf(v);
  return n === 0 || n === 1 ? n : undefined;
}

function regressionSpec(data: RecsysConfig['data']): TargetSpec {
  const columns = data.label_columns ?? [data.label_column];
  return {
    task: 'regression',
    columns,
    names: columns,
    read(values) {
      const out: number[] = [];
      for (const c of columns) {
        const n = numberOf(values[c]);
        if (n === undefined) {
          const blank = values[c] === null || values[c] === undefined || values[c] === '';
          return { ok: false, reason: `${blank ? 'missing' : 'non-numeric'} regression target (column "${c}")` };
        }
        out.push(n);
      }
      return { ok: true, key: out.join(',') };
    },
  };
}

function multiLabelSpec(data: RecsysConfig['data']): TargetSpec {
  if (data.label_columns) {
    const columns = data.label_columns;
    return {
      task: 'multi_label_classification',
      columns,
      names: columns,
      read(values) {
        const on: string[] = [];
        for (const c of columns) {
          const f = flagOf(values[c]);
          if (f === undefined) return { ok: false, reason: `expected 0 or 1 (column "${c}")` };
          if (f) on.push(c);
        }
        return { ok: true, key: on.join(KEY_SEPARATOR) };
      },
    };
  }
  const column = data.label_column;
  const allowed = data.labels ? new Set(data.labels) : null;
  return {
    task: 'multi_label_classification',
    columns: [column],
    names: data.labels,
    read(values) {
      const raw = values[column];
      // An empty cell is a row with no label (all zeros), which multi-label data may hold.
      const blank = raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '');
      const text = blank ? '' : labelKey(raw);
      if (text === undefined) return { ok: false, reason: `labels are not a string (column "${column}")` };
      const names = [
        ...new Set(
          text
            .split(data.label_separator)
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ].sort();
      const unknown = allowed ? names.find((n) => !allowed.has(n)) : undefined;
      if (unknown !== undefined) return { ok: false, reason: `label "${unknown}" is not in data.labels` };
      return { ok: true, key: names.join(KEY_SEPARATOR) };
    },
  };
}

/** The spec of the config's task; null for single-label classification (the label map path). */
export function targetSpecOf(config: RecsysConfig): TargetSpec | null {
  const { task, data } = config;
  if (task === 'single_label_classification' || task === 'embedding') {
    if (data.label_columns)
      throw new UsageError(
        `data.label_columns: only for task regression or multi_label_classification (task is ${task})`,
      );
    return null;
  }
  if (data.stratify && task === 'regression')
    throw new UsageError('data.stratify: a regression target has no classes to stratify by; set it to false');
  return task === 'regression' ? regressionSpec(data) : multiLabelSpec(data);
}

/** The label names a multi-label key holds ('' = none). */
export function namesOfKey(key: string): string[] {
  return key === '' ? [] : key.split(KEY_SEPARATOR);
}

/** Key → the float vector of the head (numbers, or 0/1 per name in `names`). */
export function targetsOf(spec: TargetSpec, names: string[]): (key: string) => Float32Array {
  if (spec.task === 'regression') return (key) => Float32Array.from(key.split(','), Number);
  const index = new Map(names.map((n, i) => [n, i]));
  return (key) => {
    const out = new Float32Array(names.length);
    for (const n of namesOfKey(key)) out[index.get(n)!] = 1;
    return out;
  };
}

/**
 * Per-split counts for the manifest: rows per target (regression) or positive rows per label
 * (multi-label), from the key → rows map prepare keeps per split.
 */
export function targetCounts(spec: TargetSpec, names: string[], keys: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const [key, rows] of keys) {
    if (spec.task === 'regression') for (const n of names) out[n] += rows;
    else for (const n of namesOfKey(key)) out[n] += rows;
  }
  return out;
}

/** Label names a multi-label dataset holds: data.labels, the 0/1 columns, or the sorted names seen. */
export function targetNames(spec: TargetSpec, seenKeys: Iterable<string>): string[] {
  if (spec.names) return [...spec.names];
  const seen = new Set<string>();
  for (const k of seenKeys) for (const n of namesOfKey(k)) seen.add(n);
  return [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
