import { readFileSync } from 'node:fs';
import { DataError, type RecsysError } from './errors.js';

type ErrorClass = new (message: string) => RecsysError;

/**
 * Parse a JSON file that recsys wrote (manifests, run summaries, checkpoint state) or that a
 * model dir carries. A hand-edited or damaged file is one line naming it, not a bare SyntaxError
 * that names nothing. Files the user passes as an argument (a tokenizer) fail as usage errors;
 * files inside a dataset, run or export fail as data errors.
 */
export function readJsonFile(file: string, kind: ErrorClass = DataError): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new kind(`${file}: ${code === 'ENOENT' ? 'missing' : `cannot be read (${code ?? (err as Error).message})`}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new kind(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** readJsonFile for files that must hold a JSON object (every file recsys reads is one). */
export function readJsonObject(file: string, kind: ErrorClass = DataError): Record<string, unknown> {
  const v = readJsonFile(file, kind);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new kind(`${file}: expected a JSON object`);
  return v as Record<string, unknown>;
}
