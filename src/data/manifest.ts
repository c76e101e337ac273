import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RecsysConfig } from '../config/schema.js';
import { DataError, UsageError } from '../lib/errors.js';
import { sha256Text } from '../lib/hash.js';
import { TRUNCATIONS, type TextTokenizer, type Truncation } from './tokenizer/index.js';
import { readJsonObject } from '../lib/json-file.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'recsys-dataset';

export interface SplitInfo {
  file: string;
  rows: number;
  sha256: string;
  label_counts: Record<string, number>;
}

/** What prepare promises about a dataset; train/eval/export check it and refuse a mismatch. */
export interface DatasetManifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  created: string;
  task: RecsysConfig['task'];
  source: { file: string; format: string; sha256: string };
  columns: {
    text: string;
    pair: string | null;
    label: string;
    id: string | null;
    split: string | null;
    group: string | null;
  };
  labels: string[];
  label2id: Record<string, number>;
  max_length: number;
  truncation: Truncation;
  tokenizer: {
    kind: string;
    sha256: string;
    vocab_size: number;
    dir: string;
    special_ids: Record<string, number>;
    /** Pairs were encoded with exact-match marks (tokenizer.mark_matches); absent when not. */
    mark_matches?: boolean;
  };
  split: {
    method: 'column' | 'seeded';
    fractions: number[] | null;
    stratify: boolean;
    group: string | null;
    seed: number;
  };
  splits: Partial<Record<'train' | 'validation' | 'test', SplitInfo>>;
  rows: { read: number; written: number; rejected: number };
  token_lengths: {
    p50: number;
    p90: number;
    p95: number;
    p99: number;
    max: number;
    truncated: number;
    truncation_rate: number;
  };
  fingerprint: string;
  /** One hash over the shard hashes: identifies the dataset's content. */
  dataset_sha256: string;
}

export function buildManifest(a: {
  config: RecsysConfig;
  format: string;
  input: string;
  inputSha: string;
  fingerprint: string;
  labels: string[];
  tokenizer: TextTokenizer;
  splits: DatasetManifest['splits'];
  rows: DatasetManifest['rows'];
  lengths: DatasetManifest['token_lengths'];
}): DatasetManifest {
  const d = a.config.data;
  return {
    format: MANIFEST_FORMAT,
    version: 1,
    created: new Date().toISOString(),
    task: a.config.task,
    source: { file: path.basename(a.input), format: a.format, sha256: a.inputSha },
    columns: {
      text: d.text_column,
      pair: d.pair_column,
      label: d.label_column,
      id: d.id_column,
      split: d.split_column,
      group: d.group_column,
    },
    labels: a.labels,
    label2id: Object.fromEntries(a.labels.map((l, i) => [l, i])),
    max_length: d.max_length,
    truncation: d.truncation,
    tokenizer: {
      kind: a.tokenizer.kind,
      sha256: a.tokenizer.sha256,
      vocab_size: a.tokenizer.vocabSize,
      dir: 'tokenizer',
      special_ids: { ...a.tokenizer.specialIds },
      ...(a.tokenizer.marksMatches ? { mark_matches: true } : {}),
    },
    split: d.split_column
      ? { method: 'column', fractions: null, stratify: false, group: null, seed: a.config.seed }
      : { method: 'seeded', fractions: d.split, stratify: d.stratify, group: d.group_column, seed: a.config.seed },
    splits: a.splits,
    rows: a.rows,
    token_lengths: a.lengths,
    fingerprint: a.fingerprint,
    dataset_sha256: sha256Text(
      Object.values(a.splits)
        .map((s) => s!.sha256)
        .join('\n'),
    ),
  };
}

/**
 * A `recsys pretrain` run dir holds a masked-LM model, no task head: eval, export and predict (and
 * train --data) are told what to do with it instead of that its manifest is not a dataset's.
 */
export function refusePretrainingRun(dir: string, manifest: unknown): void {
  if ((manifest as { kind?: unknown } | null)?.kind === 'pretrain')
    throw new UsageError(
      `${dir}: this is a pretraining (masked-LM) run, with no task head; fine-tune it with ` +
        `\`recsys train --model ${path.join(dir, 'model')}\``,
    );
}

/** Read a dataset dir's manifest; a dir without one is incomplete (an interrupted prepare). */
export function readManifest(dir: string): DatasetManifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!existsSync(dir)) throw new UsageError(`${dir}: dataset directory not found`);
  if (!existsSync(file))
    throw new DataError(`${dir}: no ${MANIFEST_FILE}; the dataset is incomplete (re-run recsys prepare)`);
  const m = readJsonObject(file) as unknown as DatasetManifest;
  refusePretrainingRun(dir, m);
  if (m.format !== MANIFEST_FORMAT) throw new DataError(`${file}: not a recsys dataset manifest`);
  checkManifestShape(m, file);
  return m;
}

/** A file name inside the dataset dir: no separators, no `..`, so a manifest cannot point readers elsewhere. */
const plainName = (v: unknown): v is string =>
  typeof v === 'string' && v !== '' && v !== '.' && v !== '..' && !/[\\/\0]/.test(v);

/** The fields train/eval/export rely on, checked once so a hand-edited manifest is a clear error, not a crash. */
function checkManifestShape(m: DatasetManifest, file: string): void {
  const bad = (what: string) => new DataError(`${file}: ${what}; re-run recsys prepare`);
  // A bi-encoder dataset (task embedding) has no labels.
  const labelsNeeded = m.task !== 'embedding';
  if (
    !Array.isArray(m.labels) ||
    (labelsNeeded && m.labels.length === 0) ||
    !m.labels.every((l) => typeof l === 'string')
  )
    throw bad('"labels" is not a non-empty list of strings');
  if (!Number.isInteger(m.max_length) || m.max_length <= 0) throw bad('"max_length" is not a positive integer');
  // predict and export cut raw text with it: a damaged value must not fall back to a default
  if (!TRUNCATIONS.includes(m.truncation))
    throw bad(`truncation must be one of ${TRUNCATIONS.join(', ')}, got ${JSON.stringify(m.truncation)}`);
  if (
    !m.tokenizer ||
    typeof m.tokenizer !== 'object' ||
    typeof m.tokenizer.sha256 !== 'string' ||
    !Number.isInteger(m.tokenizer.vocab_size)
  )
    throw bad('"tokenizer" is incomplete');
  if (!plainName(m.tokenizer.dir))
    throw bad(`tokenizer.dir ${JSON.stringify(m.tokenizer.dir)} is not a directory name inside the dataset`);
  if (!m.splits || typeof m.splits !== 'object') throw bad('"splits" is missing');
  for (const [name, info] of Object.entries(m.splits)) {
    if (!info || typeof info !== 'object') throw bad(`splits.${name} is not an object`);
    if (!plainName(info.file))
      throw bad(`splits.${name}.file ${JSON.stringify(info.file)} is not a file name inside the dataset`);
    if (!Number.isInteger(info.rows) || info.rows < 0) throw bad(`splits.${name}.rows is not a count`);
  }
}
