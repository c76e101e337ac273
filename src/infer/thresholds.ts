import { existsSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../lib/errors.js';
import { readJsonObject } from '../lib/json-file.js';

/** A multi-label run's per-label decision thresholds, beside config.json in its model dir and exports. */
export const THRESHOLDS_FILE = 'thresholds.json';

export interface ThresholdsFile {
  problem_type: 'multi_label_classification';
  split: string;
  rows: number;
  labels: string[];
  thresholds: number[];
  validation_f1: number[];
}

/** The thresholds in DIR, checked against the model's labels; null when DIR has none (0.5 then applies). */
export function readThresholds(dir: string, labels: string[]): number[] | null {
  const file = path.join(dir, THRESHOLDS_FILE);
  if (!existsSync(file)) return null;
  const doc = readJsonObject(file) as Partial<ThresholdsFile>;
  const t = doc.thresholds;
  if (!Array.isArray(t) || t.length !== labels.length || !t.every((x) => typeof x === 'number' && x >= 0 && x <= 1))
    throw new DataError(`${file}: "thresholds" must be ${labels.length} numbers in [0, 1], one per label`);
  if (JSON.stringify(doc.labels) !== JSON.stringify(labels))
    throw new DataError(
      `${file}: its labels ${JSON.stringify(doc.labels)} are not the model's ${JSON.stringify(labels)}`,
    );
  return t;
}
