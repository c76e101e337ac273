import { createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import {
  Field,
  type Float32,
  type Int8,
  type Int32,
  List,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  type Schema,
  Struct,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';

/**
 * Streams rows into one Arrow IPC file (the "file" format pyarrow.ipc.open_file, DuckDB and Polars read
 * as-is), a record batch every `batchRows` rows so memory stays flat; `close` writes an empty batch for an
 * empty file (readers need one for the schema) and syncs the file before it is renamed into place.
 * The dataset's shards and the bi-encoder's triplet shards are this with their own schema and columns.
 */
export class ArrowFileWriter<Row> {
  private pending: Row[] = [];
  private readonly writer = new RecordBatchFileWriter();
  private readonly out: WriteStream;
  rows = 0;

  constructor(
    readonly file: string,
    private readonly schema: Schema,
    /** The columns of a batch of rows, in the schema's order. */
    private readonly columns: (rows: Row[]) => unknown[],
    private readonly batchRows: number,
  ) {
    this.out = createWriteStream(file);
    this.writer.toNodeStream().pipe(this.out);
  }

  write(row: Row): void {
    this.pending.push(row);
    this.rows++;
    if (this.pending.length >= this.batchRows) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.writer.write(this.batchOf(this.pending));
    this.pending = [];
  }

  private batchOf(rows: Row[]): RecordBatch {
    const children = this.columns(rows) as never[];
    const struct = makeData({ type: new Struct(this.schema.fields), length: rows.length, nullCount: 0, children });
    return new RecordBatch(this.schema, struct);
  }

  async close(): Promise<void> {
    this.flush();
    if (this.rows === 0) this.writer.write(this.batchOf([]));
    this.writer.finish();
    await finished(this.out);
    const fd = await open(this.file, 'r+');
    await fd.sync();
    await fd.close();
  }
}

/** A List<type> column of variable-length rows (token ids, targets): one flat child plus offsets. */
export function listColumn<T extends Int32 | Int8 | Float32>(
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

/** A nullable Utf8 column. */
export function stringColumn(values: Array<string | undefined>) {
  return vectorFromArray(
    values.map((v) => v ?? null),
    new Utf8(),
  ).data[0];
}
