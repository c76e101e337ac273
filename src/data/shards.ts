import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import {
  Field,
  Float32,
  Int8,
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

/** One tokenized example as it goes into a shard. */
export interface Example {
  ids: ArrayLike<number>;
  typeIds: ArrayLike<number>;
  label: number;
  row: number;
  id?: string;
  /** The group key (data.group_column, e.g. the query of a query–product pair): eval ranks within it. */
  group?: string;
  /** Regression / multi-label: the head's target vector (a `targets` column, List<Float32>). */
  targets?: ArrayLike<number>;
}

export const SHARD_COLUMNS = ['input_ids', 'token_type_ids', 'label', 'length', 'row'] as const;

const BATCH_ROWS = 4096;

/**
 * Streams examples into one Arrow IPC file (the "file" format pyarrow.ipc.open_file, DuckDB and
 * Polars read as-is), a record batch every few thousand rows so memory stays flat.
 */
export class ShardWriter {
  private pending: Example[] = [];
  private readonly writer = new RecordBatchFileWriter();
  private readonly out: WriteStream;
  private readonly schema: Schema;
  rows = 0;

  constructor(
    readonly file: string,
    withId: boolean,
    withGroup = false,
    withTargets = false,
    /** Rows per record batch: the unit a random-access reader (pretraining corpus) decodes at once. */
    private readonly batchRows = BATCH_ROWS,
  ) {
    const fields: Field[] = [
      new Field('input_ids', new List(new Field('item', new Int32(), false)), false),
      new Field('token_type_ids', new List(new Field('item', new Int8(), false)), false),
      new Field('label', new Int32(), false),
      new Field('length', new Int32(), false),
      new Field('row', new Int64(), false),
    ];
    if (withId) fields.push(new Field('id', new Utf8(), true));
    if (withGroup) fields.push(new Field('group', new Utf8(), true));
    if (withTargets) fields.push(new Field('targets', new List(new Field('item', new Float32(), false)), false));
    this.schema = new Schema(fields);
    this.out = createWriteStream(file);
    this.writer.toNodeStream().pipe(this.out);
  }

  write(example: Example): void {
    this.pending.push(example);
    this.rows++;
    if (this.pending.length >= this.batchRows) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.writer.write(toRecordBatch(this.schema, this.pending));
    this.pending = [];
  }

  async close(): Promise<void> {
    this.flush();
    if (this.rows === 0) this.writer.write(toRecordBatch(this.schema, []));
    this.writer.finish();
    await finished(this.out);
    const fd = await import('node:fs/promises').then((m) => m.open(this.file, 'r+'));
    await fd.sync();
    await fd.close();
  }
}

function listData<T extends Int32 | Int8 | Float32>(
  type: T,
  rows: ArrayLike<number>[],
  Values: typeof Int32Array | typeof Int8Array | typeof Float32Array,
) {
  const offsets = new Int32Array(rows.length + 1);
  let total = 0;
  rows.forEach((r, i) => {
    total += r.length;
    offsets[i + 1] = total;
  });
  const flat = new Values(total);
  let at = 0;
  for (const r of rows) {
    flat.set(r, at);
    at += r.length;
  }
  const child = makeData({ type: type as Int32, length: total, nullCount: 0, data: flat as never });
  return makeData({
    type: new List(new Field('item', type as Int32, false)),
    length: rows.length,
    nullCount: 0,
    valueOffsets: offsets,
    child,
  });
}

function toRecordBatch(schema: Schema, rows: Example[]): RecordBatch {
  const n = rows.length;
  const children = [
    listData(
      new Int32(),
      rows.map((r) => r.ids),
      Int32Array,
    ),
    listData(
      new Int8(),
      rows.map((r) => r.typeIds),
      Int8Array,
    ),
    makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from(rows, (r) => r.label) }),
    makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from(rows, (r) => r.ids.length) }),
    makeData({ type: new Int64(), length: n, nullCount: 0, data: BigInt64Array.from(rows, (r) => BigInt(r.row)) }),
  ];
  const strings = (pick: (r: Example) => string | undefined) =>
    vectorFromArray(
      rows.map((r) => pick(r) ?? null),
      new Utf8(),
    ).data[0] as never;
  const has = (name: string) => schema.fields.some((f) => f.name === name);
  // The optional columns in the schema's order: id, group, targets.
  if (has('id')) children.push(strings((r) => r.id));
  if (has('group')) children.push(strings((r) => r.group));
  if (has('targets'))
    children.push(
      listData(
        new Float32(),
        rows.map((r) => r.targets ?? []),
        Float32Array,
      ) as never,
    );
  const struct = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}
