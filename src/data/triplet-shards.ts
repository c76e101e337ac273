import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import {
  Field,
  Int32,
  Int64,
  List,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
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
const idList = () => new List(new Field('item', new Int32(), false));

export class TripletShardWriter {
  private pending: TripletExample[] = [];
  private readonly writer = new RecordBatchFileWriter();
  private readonly out: WriteStream;
  private readonly schema: Schema;
  rows = 0;

  constructor(
    readonly file: string,
    private readonly withId: boolean,
  ) {
    const fields: Field[] = TRIPLET_COLUMNS.map((c) => new Field(c, idList(), false));
    fields.push(new Field('row', new Int64(), false));
    if (withId) fields.push(new Field('id', new Utf8(), true));
    this.schema = new Schema(fields);
    this.out = createWriteStream(file);
    this.writer.toNodeStream().pipe(this.out);
  }

  write(example: TripletExample): void {
    this.pending.push(example);
    this.rows++;
    if (this.pending.length >= BATCH_ROWS) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.writer.write(this.batchOf(this.pending));
    this.pending = [];
  }

  async close(): Promise<void> {
    this.flush();
    if (this.rows === 0) this.writer.write(this.batchOf([]));
    this.writer.finish();
    await finished(this.out);
    const fd = await import('node:fs/promises').then((m) => m.open(this.file, 'r+'));
    await fd.sync();
    await fd.close();
  }

  private batchOf(rows: TripletExample[]): RecordBatch {
    const n = rows.length;
    const children: never[] = TRIPLET_COLUMNS.map((_, role) => listData(rows.map((r) => r.texts[role] ?? [])));
    children.push(
      makeData({
        type: new Int64(),
        length: n,
        nullCount: 0,
        data: BigInt64Array.from(rows, (r) => BigInt(r.row)),
      }) as never,
    );
    if (this.withId)
      children.push(
        vectorFromArray(
          rows.map((r) => r.id ?? null),
          new Utf8(),
        ).data[0] as never,
      );
    const struct = makeData({ type: new Struct(this.schema.fields), length: n, nullCount: 0, children });
    return new RecordBatch(this.schema, struct);
  }
}

function listData(rows: ArrayLike<number>[]) {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => {
    offsets[i + 1] = offsets[i] + r.length;
  });
  const flat = new Int32Array(offsets[rows.length]);
  for (const [i, r] of rows.entries()) flat.set(r, offsets[i]);
  const child = makeData({ type: new Int32(), length: flat.length, nullCount: 0, data: flat });
  return makeData({ type: idList(), length: rows.length, nullCount: 0, valueOffsets: offsets, child }) as never;
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
