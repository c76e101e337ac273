import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, runCli, vocabPath, type CliResult } from '../helpers/cli.js';
import { referencePython } from '../helpers/python.js';

/** Parse a small CSV with quoted fields (the sample files), header first. */
function readCsv(file: string): Record<string, string>[] {
  const text = readFileSync(file, 'utf8');
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

export interface CsvOptions {
  /** Rows taken from data/intent.csv. */
  rows: number;
  /** Map the 14 intents to two labels: `electronics` vs `other`. */
  binary?: boolean;
  /** Labels whose rows all go to train (zero support in test). */
  trainOnly?: string[];
}

/**
 * A CSV with a split column from the intent sample: every 3rd row to train, the rest to test
 * (except `trainOnly` labels, all in train).
 */
export function intentCsv(file: string, opts: CsvOptions): void {
  const src = readCsv(path.join(repoRoot, 'data/intent.csv')).slice(0, opts.rows);
  const lines = ['text,label,split'];
  src.forEach((r, i) => {
    const label = opts.binary
      ? r.intent === 'electronics' || r.intent === 'home_kitchen'
        ? 'electronics'
        : 'other'
      : r.intent;
    const split = opts.trainOnly?.includes(label) || i % 3 === 0 ? 'train' : 'test';
    lines.push([q(r.query), q(label), split].join(','));
  });
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** `recsys prepare` on a text,label,split CSV. */
export function prepare(csv: string, out: string, extra: string[] = []): CliResult {
  const r = runCli([
    'prepare',
    '--input',
    csv,
    '--text-column',
    'text',
    '--label-column',
    'label',
    '--split-column',
    'split',
    '--tokenizer',
    vocabPath,
    '--max-length',
    '24',
    '--out',
    out,
    '--no-progress',
    ...extra,
  ]);
  if (r.code !== 0) throw new Error(`prepare failed (${r.code}): ${r.stderr}`);
  return r;
}

/** A run dir in the docs/run-dir.md layout (test/eval/make_run.py). */
export function makeRun(dataset: string, run: string, args: string[] = []): void {
  const r = spawnSync(referencePython(), [path.join(repoRoot, 'test/eval/make_run.py'), dataset, run, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`make_run.py failed: ${r.stderr}`);
}

/** One class's scores, as both `recsys eval --json` and the sklearn reference write them. */
export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** The keys `recsys eval --json` and scripts/eval_sklearn_reference.py both write, to compare. */
export interface ComparedReport {
  rows: number;
  labels: string[];
  accuracy: number;
  loss: number;
  macro_precision: number;
  macro_recall: number;
  macro_f1: number;
  weighted_precision: number;
  weighted_recall: number;
  weighted_f1: number;
  per_class: Record<string, ClassScores>;
  confusion_matrix: number[][];
  top_k_accuracy: Record<string, number> | null;
  roc_auc: number | null;
  pr_auc: number | null;
}

/** What scripts/eval_sklearn_reference.py writes: the compared keys and sklearn's own report. */
export interface SklearnReport extends ComparedReport {
  text: string;
  report_accuracy: number | null;
  per_class_report: Record<string, Record<string, number>>;
}

/** Run the sklearn reference on recsys's predictions file. */
export function sklearnReference(predictions: string, recsysReport: string, out: string): SklearnReport {
  const r = spawnSync(
    referencePython(),
    [path.join(repoRoot, 'scripts/eval_sklearn_reference.py'), predictions, recsysReport, out],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (r.status !== 0) throw new Error(`eval_sklearn_reference.py failed: ${r.stderr}`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

/**
 * A real run dir from `recsys train --max-steps 1` on a from-scratch BERT (hidden 32, 2 layers,
 * init range 0.3 so that logits vary from row to row), on the default backend.
 */
export function trainRun(dataset: string, run: string, opts: { seed?: number; steps?: number } = {}): void {
  const cfg = `${run}.config.json`;
  writeFileSync(
    cfg,
    JSON.stringify({
      model_type: 'bert',
      vocab_size: 30522,
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 64,
      hidden_act: 'gelu',
      max_position_embeddings: 64,
      type_vocab_size: 2,
      initializer_range: 0.3,
    }),
  );
  const r = runCli([
    'train',
    '--data',
    dataset,
    '--model',
    cfg,
    '--out',
    run,
    '--max-steps',
    String(opts.steps ?? 1),
    '--batch-size',
    '16',
    '--seed',
    String(opts.seed ?? 3),
    '--no-progress',
  ]);
  if (r.code !== 0) throw new Error(`train failed (${r.code}): ${r.stderr}`);
}

/** `recsys export --format onnx` of a run (parity-checked on its test split). */
export function exportOnnx(run: string, out: string, extra: string[] = []): CliResult {
  const r = runCli(['export', '--run', run, '--format', 'onnx', '--out', out, ...extra]);
  if (r.code !== 0) throw new Error(`export failed (${r.code}): ${r.stderr}`);
  return r;
}
