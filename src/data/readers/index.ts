import { existsSync, statSync } from 'node:fs';
import { DataError, UsageError } from '../../lib/errors.js';
import { arrowSource } from './arrow.js';
import { csvSource } from './csv.js';
import { jsonlSource } from './jsonl.js';
import type { InputFormat, RowSource } from './types.js';

export type { InputFormat, RowSource, SourceRow } from './types.js';

const BY_EXTENSION: Record<string, InputFormat> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'jsonl',
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
};

export function detectFormat(file: string, format: InputFormat | 'auto'): InputFormat {
  if (format !== 'auto') return format;
  const ext = file.slice(file.lastIndexOf('.')).toLowerCase();
  const found = BY_EXTENSION[ext];
  if (!found)
    throw new UsageError(
      `${file}: cannot tell the format from the extension "${ext}"; set data.format (csv | tsv | jsonl | arrow)`,
    );
  return found;
}

export function openSource(file: string, format: InputFormat | 'auto', delimiter?: string): RowSource {
  if (!existsSync(file)) throw new UsageError(`${file}: input file not found`);
  if (!statSync(file).isFile()) throw new UsageError(`${file}: not a file`);
  if (statSync(file).size === 0) throw new DataError(`${file}: empty file`);
  const fmt = detectFormat(file, format);
  switch (fmt) {
    case 'csv':
      return csvSource(file, delimiter ?? ',');
    case 'tsv':
      return csvSource(file, delimiter ?? '\t');
    case 'jsonl':
      return jsonlSource(file);
    case 'arrow':
      return arrowSource(file);
  }
}
