import { UsageError } from '../../lib/errors.js';
import type { RowSource } from './types.js';

/**
 * The columns a command reads must exist before any row is read: one usage error naming every
 * missing one and listing the file's columns. Unset (optional) columns are passed as undefined.
 */
export async function requireColumns(
  source: RowSource,
  file: string,
  wanted: Array<string | null | undefined>,
): Promise<string[]> {
  const columns = await source.columns();
  const missing = wanted.filter((c): c is string => !!c && !columns.includes(c));
  if (missing.length)
    throw new UsageError(
      `${file}: column ${missing.map((c) => `"${c}"`).join(', ')} not found; columns are ${columns.join(', ')}`,
    );
  return columns;
}

/** A cell read as text: strings as they are, numbers (JSONL, Arrow) as their decimal form, else undefined. */
export function cellText(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}
