import { DataError } from '../lib/errors.js';

/** Label map: ids follow an explicit list, or the sorted label values (numeric order for integers). */
export function buildLabelList(seen: Iterable<string>, explicit: string[] | null): string[] {
  const values = [...new Set(seen)];
  if (explicit) return [...explicit];
  const numeric = values.length > 0 && values.every((v) => /^-?\d+$/.test(v));
  return numeric ? values.sort((a, b) => Number(a) - Number(b)) : values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Labels are compared as strings: 1 and "1" are the same label. */
export function labelKey(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') {
    const t = value.trim();
    return t === '' ? undefined : t;
  }
  return undefined;
}

export function checkEvalLabelsInTrain(countsBySplit: Record<string, Map<string, number>>, file: string): void {
  const train = countsBySplit.train ?? new Map();
  const missing: string[] = [];
  for (const split of ['validation', 'test']) {
    for (const label of countsBySplit[split]?.keys() ?? []) {
      if (!train.has(label)) missing.push(`"${label}" (${split})`);
    }
  }
  if (missing.length) {
    // One readable line even when every row has its own label: the first few, then a count.
    const shown =
      missing.length > 10 ? `${missing.slice(0, 10).join(', ')} … and ${missing.length - 10} more` : missing.join(', ');
    throw new DataError(`${file}: labels present in validation/test but not in train: ${shown}`);
  }
}
