import type { DataConfig } from '../config/schema.js';
import { labelKey } from './labels.js';
import type { SourceRow } from './readers/index.js';
import { rowKeys } from './row.js';
import type { SplitName } from './split.js';

/**
 * Rows of a bi-encoder dataset (`task: embedding`). Two shapes of input:
 * - explicit: every row is an example, anchor = data.text_column, positive = data.pair_column,
 *   optional hard negative = data.negative_column;
 * - relevance judgements (data.positive_labels set): every row is a (query, product, label) judgement;
 *   a row whose label is in data.positive_labels is an example (query, product), a row whose label is in
 *   data.negative_labels gives its query a hard negative, any other label is skipped (not an error).
 */
export type TripletRole = 'example' | 'negative' | 'skip';

export type ExaminedTriplet =
  | { ok: true; role: TripletRole; texts: string[]; group?: string; split?: SplitName; id?: string }
  | { ok: false; reason: string };

function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() ? v : undefined;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}

/** The key that ties a hard negative to its query's positives in relevance mode. */
export function queryKeyOf(query: string, group: string | undefined): string {
  return group ?? query.trim();
}

/** Settings that must hold together before any row is read (one-line errors naming the keys). */
export function tripletConfigProblem(data: DataConfig): string | null {
  if (!data.pair_column) return 'task embedding needs data.pair_column (the positive or product text)';
  if (data.positive_labels && data.negative_column)
    return 'data.negative_column and data.positive_labels exclude each other (hard negatives come from one place)';
  if (data.negative_labels && !data.positive_labels) return 'data.negative_labels needs data.positive_labels';
  const both = (data.negative_labels ?? []).filter((l) => data.positive_labels?.includes(l));
  if (both.length) return `label(s) ${both.join(', ')} are in both data.positive_labels and data.negative_labels`;
  return null;
}

export function examineTripletRow(r: SourceRow, data: DataConfig): ExaminedTriplet {
  if (r.error) return { ok: false, reason: r.error };
  const v = r.values!;
  const need = (column: string, what: string): string | { reason: string } =>
    textOf(v[column]) ?? { reason: `empty or missing ${what} (column "${column}")` };
  const anchor = need(data.text_column, 'text');
  if (typeof anchor !== 'string') return { ok: false, ...anchor };
  const pair = need(data.pair_column!, data.positive_labels ? 'product text' : 'positive text');
  if (typeof pair !== 'string') return { ok: false, ...pair };
  const keys = rowKeys(v, data);
  if ('reason' in keys) return { ok: false, reason: keys.reason };
  const { group, split } = keys;
  const id = keys.id?.trim() ? keys.id : undefined;
  if (data.positive_labels) {
    const label = labelKey(v[data.label_column]);
    if (label === undefined) return { ok: false, reason: `missing label (column "${data.label_column}")` };
    // A query's rows always share a split: the query is the group unless a group column says otherwise.
    const key = queryKeyOf(anchor, group);
    if (data.positive_labels.includes(label))
      return { ok: true, role: 'example', texts: [anchor, pair], group: key, split, id };
    if (data.negative_labels?.includes(label)) return { ok: true, role: 'negative', texts: [pair], group: key, split };
    return { ok: true, role: 'skip', texts: [], group: key, split };
  }
  const texts = [anchor, pair];
  if (data.negative_column) {
    const negative = need(data.negative_column, 'negative text');
    if (typeof negative !== 'string') return { ok: false, ...negative };
    texts.push(negative);
  }
  return { ok: true, role: 'example', texts, group, split, id };
}
