import { Field, Int32, Int64, List, makeData, Schema, Utf8 } from 'apache-arrow';
import { ArrowFileWriter, listColumn, stringColumn } from './arrow-file-writer.js';
import { DataError } from '../lib/errors.js';
import { readSplitBatchesRaw } from './split-reader.js';

/**
 * Shards of a bi-encoder dataset (`task: embedding`): each text's tokens on their own ([CLS] text
 * [SEP], no pair template), one column per role. `negative_ids` is empty for an example without a
 * hard negative.
 */
export const TRIPLET_COLUMNS = ['input_ids', 'positive_ids', 'negative_ids'] as const;

export interface TripletExample {
  texts: ArrayLike<number>[];
  row: number;
  id?: string;
}

const BATCH_ROWS = 4096;

/** One shard of a bi-encoder dataset: TRIPLET_COLUMNS as List<Int32>, `row`, and optionally `id`. */
export class TripletShardWriter extends ArrowFileWriter<TripletExample> {
  constructor(file: string, withId: boolean) {
    const fields: Field[] = TRIPLET_COLUMNS.map(
      (c) => new Field(c, new List(new Field('item', new Int32(), false)), false),
    );
    fields.push(new Field('row', new Int64(), false));
    if (withId) fields.push(new Field('id', new Utf8(), true));
    super(file, new Schema(fields), (rows) => tripletColumns(rows, withId), BATCH_ROWS);
  }
}

function tripletColumns(rows: TripletExample[], withId: boolean): unknown[] {
  const columns: unknown[] = TRIPLET_COLUMNS.map((_, role) =>
    listColumn(
      new Int32(),
      rows.map((r) => r.texts[role] ?? []),
      Int32Array,
    ),
  );
  columns.push(
    makeData({
      type: new Int64(),
      length: rows.length,
      nullCount: 0,
      data: BigInt64Array.from(rows, (r) => BigInt(r.row)),
    }),
  );
  if (withId) columns.push(stringColumn(rows.map((r) => r.id)));
  return columns;
}

/** Token ids of one role for every row, back to back: row i is ids[offsets[i] .. offsets[i+1]). */
export interface TokenColumn {
  ids: Int32Array;
  offsets: Int32Array;
}

/** A bi-encoder split in compact typed arrays. */
export interface TripletSplit {
  size: number;
  anchor: TokenColumn;
  positive: TokenColumn;
  negative: TokenColumn;
  rows: Float64Array;
}

/** Row i of a token column. */
export function tokensOf(c: TokenColumn, i: number): Int32Array {
  return c.ids.subarray(c.offsets[i], c.offsets[i + 1]);
}

function concat(parts: TokenColumn[]): TokenColumn {
  const size = parts.reduce((a, p) => a + p.offsets.length - 1, 0);
  const tokens = parts.reduce((a, p) => a + p.ids.length, 0);
  const out = { ids: new Int32Array(tokens), offsets: new Int32Array(size + 1) };
  let r = 0;
  let t = 0;
  for (const p of parts) {
    out.ids.set(p.ids, t);
    for (let i = 1; i < p.offsets.length; i++) out.offsets[r + i] = t + p.offsets[i];
    r += p.offsets.length - 1;
    t += p.ids.length;
  }
  return out;
}

/** Load a whole bi-encoder split (training shuffles across it). */
export async function loadTripletSplit(file: string): Promise<TripletSplit> {
  const cols: TokenColumn[][] = [[], [], []];
  const rows: Float64Array[] = [];
  for await (const batch of readSplitBatchesRaw(file)) {
    TRIPLET_COLUMNS.forEach((name, k) => {
      const data = batch.getChild(name)?.data[0];
      if (!data || String(data.type) !== 'List<Int32>')
        throw new DataError(`${file}: column "${name}" missing or not List<Int32> (not a bi-encoder dataset shard)`);
      const off = data.valueOffsets as Int32Array;
      const start = off[0];
      cols[k].push({
        ids: (data.children[0].values as Int32Array).subarray(start, off[batch.numRows]),
        offsets: Int32Array.from(off.subarray(0, batch.numRows + 1), (o) => o - start),
      });
    });
    const row = batch.getChild('row');
    if (!row) throw new DataError(`${file}: column "row" missing (not a bi-encoder dataset shard)`);
    rows.push(Float64Array.from(row.toArray() as BigInt64Array, Number));
  }
  const [anchor, positive, negative] = cols.map(concat);
  const size = anchor.offsets.length - 1;
  const allRows = new Float64Array(size);
  let at = 0;
  for (const r of rows) {
    allRows.set(r, at);
    at += r.length;
  }
  return { size, anchor, positive, negative, rows: allRows };
}
