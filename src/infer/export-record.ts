import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * OUT/export.json, the record of an export directory: what `recsys export` writes (src/export/)
 * and what eval, predict and a re-export read. While an export moves its files into OUT,
 * export.json says `"complete": false`; only when everything is in place is it replaced by the
 * full record. Readers trust nothing else.
 */
export const EXPORT_FORMAT = 'recsys-export';
export const EXPORT_FILE = 'export.json';

export type ExportFormat = 'onnx' | 'savedmodel';

/** One format's parity check: the artifact in its runtime against the training forward pass. */
export interface ParityResult {
  format: string;
  runtime: string;
  reference: string;
  rows: number;
  max_abs_diff: number;
  mean_abs_diff: number;
  /** Largest |logit| of the training runtime: the scale the differences are relative to. */
  max_abs_logit: number;
  argmax_agreement: number;
  argmax_disagreements: number;
  /** Accuracy against the split's labels, for both runtimes. */
  accuracy: { reference: number; export: number };
  atol: number;
  passed: boolean;
  seconds: { reference: number; export: number };
  /** Why it failed, one line. */
  failure?: string;
}

export interface FormatRecord {
  status: 'passed' | 'failed';
  path: string;
  files: string[];
  bytes: number;
  sha256: Record<string, string>;
  runtime: string;
  parity: Omit<ParityResult, 'format'>;
  [k: string]: unknown;
}

export interface ExportRecord {
  format: typeof EXPORT_FORMAT;
  version: 1;
  created: string;
  complete: true;
  run: { dir: string; weights_sha256: string; tokenizer_sha256: string; dataset_sha256: string; best: unknown };
  model: {
    architecture: 'BertForSequenceClassification';
    labels: string[];
    max_length: number;
    hidden_act: string;
    parameters: number;
  };
  check: { dataset_dir: string; split: string; file: string; rows: number; atol: number; reference: string };
  formats: Partial<Record<ExportFormat, FormatRecord>>;
}

export type ExportState = 'complete' | 'incomplete' | 'none';

/**
 * complete: export.json is a finished record. incomplete: export.json is the pending marker, or
 * is missing while export artifacts are there. none: not an export directory.
 */
export function exportStateOf(dir: string): ExportState {
  const file = path.join(dir, EXPORT_FILE);
  if (existsSync(file)) {
    try {
      const r = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; complete?: unknown };
      if (r?.format === EXPORT_FORMAT) return r.complete === true ? 'complete' : 'incomplete';
    } catch {
      return 'incomplete'; // a torn record cannot happen (atomic write), a hand-edited one is not trusted
    }
    return 'none';
  }
  return ['onnx', 'savedmodel', 'parity.json'].some((f) => existsSync(path.join(dir, f))) ? 'incomplete' : 'none';
}

export const incompleteExportMessage = (dir: string) =>
  `${dir}: the export is incomplete (interrupted, or still being written; ${EXPORT_FILE} does not ` +
  `record it as complete): re-run recsys export`;

/** The complete record in OUT, or null (none, the pending marker of an interrupted export, unreadable). */
export function readCompleteExportRecord(out: string): ExportRecord | null {
  const file = path.join(out, EXPORT_FILE);
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as ExportRecord;
    return r.format === EXPORT_FORMAT && r.complete === true ? r : null;
  } catch {
    return null;
  }
}

/** The ONNX status export.json records ("passed", "failed"; "missing" or "unreadable" otherwise). */
export function onnxStatusOf(dir: string): string {
  try {
    const record = JSON.parse(readFileSync(path.join(dir, EXPORT_FILE), 'utf8')) as {
      formats?: { onnx?: { status?: string } };
    };
    return record.formats?.onnx?.status ?? 'missing';
  } catch {
    return 'unreadable';
  }
}
