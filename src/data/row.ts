import type { DataConfig } from '../config/schema.js';
import { labelKey } from './labels.js';
import type { SourceRow } from './readers/index.js';
import { splitFromValue, type SplitName } from './split.js';
import type { TargetSpec } from './targets.js';

export type Examined =
  | { ok: true; text: string; pair?: string; label: string; group?: string; split?: SplitName; id?: string }
  | { ok: false; reason: string };

function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}

/** The keys a row of any task may carry besides its texts and targets: its group, split and id. */
export function rowKeys(
  v: NonNullable<SourceRow['values']>,
  data: DataConfig,
): { group?: string; split?: SplitName; id?: string } | { reason: string } {
  let group: string | undefined;
  if (data.group_column) {
    group = textOf(v[data.group_column])?.trim();
    if (!group) return { reason: `missing group key (column "${data.group_column}")` };
  }
  let split: SplitName | undefined;
  if (data.split_column) {
    split = splitFromValue(v[data.split_column]);
    if (!split)
      return {
        reason:
          `unknown split ${JSON.stringify(v[data.split_column] ?? null)} (column ` +
          `"${data.split_column}"; expected train, validation or test)`,
      };
  }
  const id = data.id_column ? textOf(v[data.id_column]) : undefined;
  return { group, split, id };
}

/**
 * Decide whether a source row is usable and pull out its fields. Pass 1 and pass 2 both call
 * this, so they agree row for row on which rows exist.
 */
export function examineRow(
  r: SourceRow,
  data: DataConfig,
  allowedLabels: Set<string> | null,
  targets: TargetSpec | null = null,
): Examined {
  if (r.error) return { ok: false, reason: r.error };
  const v = r.values!;
  const text = textOf(v[data.text_column]);
  if (text === undefined)
    return {
      ok: false,
      reason:
        v[data.text_column] == null
          ? `missing text (column "${data.text_column}")`
          : `text is not a string (column "${data.text_column}")`,
    };
  if (!text.trim()) return { ok: false, reason: `empty text (column "${data.text_column}")` };
  let pair: string | undefined;
  if (data.pair_column) {
    pair = textOf(v[data.pair_column]);
    if (pair === undefined || !pair.trim())
      return { ok: false, reason: `empty or missing pair text (column "${data.pair_column}")` };
  }
  // Regression and multi-label rows: the label is the key of their target vector (data/targets.ts).
  const read = targets?.read(v);
  if (read && !read.ok) return { ok: false, reason: read.reason };
  const label = read ? read.key : labelKey(v[data.label_column]);
  if (label === undefined) {
    const raw = v[data.label_column];
    const blank = raw === null || raw === undefined || (typeof raw === 'string' && !raw.trim());
    return {
      ok: false,
      reason: blank
        ? `missing label (column "${data.label_column}")`
        : `label is not a string or number (column "${data.label_column}")`,
    };
  }
  if (!read && allowedLabels && !allowedLabels.has(label))
    return { ok: false, reason: `label "${label}" is not in data.labels` };
  const keys = rowKeys(v, data);
  if ('reason' in keys) return { ok: false, reason: keys.reason };
  const { group, split, id } = keys;
  return { ok: true, text, pair, label, group, split, id };
}
