import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import {
  Field,
  FixedSizeList,
  Float32,
  Int64,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { tempNameFor } from '../lib/atomic.js';

/** Rows per Arrow record batch: large enough to read fast, small enough that memory stays flat. */
const BATCH_ROWS = 1024;

/**
 * embeddings.arrow, streamed: `id` (utf8) when the input has an id column, else `row` (the 1-based
 * source row, int64), and `vector` FixedSizeList<float32>[dim]. Written as an Arrow IPC file (what
 * pyarrow.ipc.open_file, DuckDB, Polars and LanceDB read) under a temp name, renamed by `commit()`.
 */
export class EmbeddingWriter {
  private readonly tmp: string;
  private readonly writer = new RecordBatchFileWriter();
  private readonly out: WriteStream;
  private readonly schema: Schema;
  private readonly vectorType: FixedSizeList<Float32>;
  private keys: (string | number)[] = [];
  private vectors: Float32Array[] = [];
  private pendingRows = 0;
  private written = 0;
  count = 0;

  constructor(
    readonly file: string,
    readonly dim: number,
    private readonly withId: boolean,
  ) {
    this.vectorType = new FixedSizeList(dim, new Field('item', new Float32(), false));
    const key = withId ? new Field('id', new Utf8(), true) : new Field('row', new Int64(), false);
    this.schema = new Schema([key, new Field('vector', this.vectorType, false)]);
    mkdirSync(path.dirname(file), { recursive: true });
    this.tmp = tempNameFor(file);
    this.out = createWriteStream(this.tmp);
    this.writer.toNodeStream().pipe(this.out);
  }

  /** Rows of one forward batch: their ids (or source rows) and their vectors, row-major [rows, dim]. */
  add(keys: (string | number)[], vectors: Float32Array): void {
    this.keys.push(...keys);
    this.vectors.push(vectors);
    this.pendingRows += keys.length;
    this.count += keys.length;
    if (this.pendingRows >= BATCH_ROWS) this.flush();
  }

  private flush(): void {
    if (this.pendingRows === 0 && this.written > 0) return;
    const n = this.pendingRows;
    const flat = new Float32Array(n * this.dim);
    let at = 0;
    for (const v of this.vectors) {
      flat.set(v, at);
      at += v.length;
    }
    const keyData = this.withId
      ? (vectorFromArray(this.keys as string[], new Utf8()).data[0] as never)
      : makeData({ type: new Int64(), length: n, nullCount: 0, data: BigInt64Array.from(this.keys, BigInt) });
    const child = makeData({ type: new Float32(), length: n * this.dim, nullCount: 0, data: flat });
    const vectorData = makeData({ type: this.vectorType, length: n, nullCount: 0, child });
    const struct = makeData({
      type: new Struct(this.schema.fields),
      length: n,
      nullCount: 0,
      children: [keyData, vectorData],
    });
    this.writer.write(new RecordBatch(this.schema, struct));
    this.written++;
    this.keys = [];
    this.vectors = [];
    this.pendingRows = 0;
  }

  /** Finish the file, sync it, and rename it into place. */
  async commit(): Promise<void> {
    this.flush();
    this.writer.finish();
    await finished(this.out);
    const fd = await open(this.tmp, 'r+');
    await fd.sync();
    await fd.close();
    await rename(this.tmp, this.file);
  }

  /** Give up: close the stream and remove the temp file (never throws). */
  async abort(): Promise<void> {
    try {
      this.writer.abort();
      this.out.destroy();
    } catch {}
    await rm(this.tmp, { force: true }).catch(() => {});
  }
}
