import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * OUT/export.json is what makes an export directory complete. While an export moves its files
 * into OUT, export.json says `"complete": false`; only when everything is in place is it replaced
 * by the full record. Readers (eval, predict, a re-export) trust nothing else.
 */
export const EXPORT_FORMAT = 'recsys-export';
export const EXPORT_FILE = 'export.json';

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
  EXPORT_FILE,
]);

/** The marker written before the first entry is moved into OUT. */
export const PENDING_RECORD = {
  format: EXPORT_FORMAT,
  complete: false,
  note: 'an export is being written here; if it stays like this, the export was interrupted: re-run recsys export',
};

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
  `${dir}: the export is incomplete (interrupted, or still being written; ${EXPORT_FILE} does not record it as complete): re-run recsys export`;
