import { EXPORT_FILE, EXPORT_FORMAT } from '../infer/export-record.js';

/*
 * How an export is written so a reader never mistakes a half-written one for a complete one (the
 * record's format and how it is read: src/infer/export-record.ts).
 */

/** Entries an export writes at the top of OUT (a directory holding only these is ours to replace). */
export const EXPORT_ENTRIES = new Set([
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.txt',
  'special_tokens_map.json',
  'manifest.json',
  'onnx',
  'savedmodel',
  'parity.json',
  'thresholds.json',
  EXPORT_FILE,
]);

/** The marker written before the first entry is moved into OUT. */
export const PENDING_RECORD = {
  format: EXPORT_FORMAT,
  complete: false,
  note: 'an export is being written here; if it stays like this, the export was interrupted: re-run recsys export',
};
