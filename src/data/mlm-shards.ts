import { closeSync, openSync, readSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Message, RecordBatchReader, type Schema } from 'apache-arrow';
import { tempNameFor } from '../lib/atomic.js';
import { DataError } from '../lib/errors.js';
import { ShardWriter } from './shards.js';

/**
 * The tokenized pretraining corpus on disk: each split is a series of Arrow IPC files of at most
 * `shardRows` sequences (the columns recsys prepare writes, so pyarrow, DuckDB and readSplitBatches
 * read them), cut into record batches of RECORD_ROWS rows. Training draws rows in a seeded random
 * order across the whole split, as Hugging Face datasets does over its memory-mapped Arrow files:
 * ShardedRows decodes the record batch that holds a row on demand and keeps a bounded number of
 * them, so memory does not grow with the corpus.
 */

/** Rows per record batch: what one random row costs to read (64 KB at 128 tokens). */
export const RECORD_ROWS = 128;

/** Record batches kept decoded: 8 MB of 128-token rows, enough for a batch and the next few. */
export const CACHED_BATCHES = 64;

/** One split as the corpus manifest records it. */
export interface CorpusSplitInfo {
  rows: number;
  tokens: number;
  /** Shard files in row order, relative to the corpus dir. */
  files: string[];
  /** Every row's length when they are all the same (packed blocks): no need to read them back. */
  uniform_length: number | null;
}

const shardName = (split: string, n: number) => `${split}-${String(n).padStart(5, '0')}.arrow`;

/** Writes a split's sequences into numbered shards under temp names; commit() renames them into place. */
export class CorpusShardWriter {
  private writer: ShardWriter | null = null;
  private readonly written: { file: string; tmp: string }[] = [];
  /** Shards being closed (flushed and synced) while the next one is written. */
  private readonly pending: Promise<void>[] = [];
  private readonly zeros: Int8Array;
  private rowsInShard = 0;
  private lengths = new Set<number>();
  rows = 0;
  tokens = 0;

  constructor(
    private readonly dir: string,
    private readonly split: string,
    private readonly shardRows: number,
    maxLength: number,
  ) {
    this.zeros = new Int8Array(maxLength);
  }

  /** One sequence; `row` is its 1-based source row (one_per_row) or block number (group_texts). */
  write(ids: ArrayLike<number>, row: number): void {
    if (!this.writer || this.rowsInShard === this.shardRows) this.next();
    const typeIds = ids.length <= this.zeros.length ? this.zeros.subarray(0, ids.length) : new Int8Array(ids.length);
    this.writer!.write({ ids, typeIds, label: 0, row });
    this.rowsInShard++;
    this.rows++;
    this.tokens += ids.length;
    if (this.lengths.size < 2) this.lengths.add(ids.length);
  }

  private next(): void {
    void this.closeCurrent();
    const file = shardName(this.split, this.written.length);
    const tmp = tempNameFor(path.join(this.dir, file));
    this.written.push({ file, tmp });
    this.writer = new ShardWriter(tmp, false, false, false, RECORD_ROWS);
    this.rowsInShard = 0;
  }

  private closeCurrent(): Promise<void> {
    const w = this.writer;
    if (!w) return Promise.resolve();
    const closing = w.close();
    closing.catch(() => undefined); // awaited in commit()
    this.pending.push(closing);
    return closing;
  }

  /** Close the last shard, wait for every shard to be on disk, and rename them into place. */
  async commit(): Promise<CorpusSplitInfo> {
    if (!this.writer) this.next(); // an empty split still gets one (empty) shard
    await this.closeCurrent();
    this.writer = null;
    await Promise.all(this.pending);
    for (const w of this.written) await rename(w.tmp, path.join(this.dir, w.file));
    const uniform = this.lengths.size === 1 ? [...this.lengths][0] : this.rows === 0 ? 0 : null;
    return { rows: this.rows, tokens: this.tokens, files: this.written.map((w) => w.file), uniform_length: uniform };
  }

  async abort(): Promise<void> {
    void this.closeCurrent();
    this.writer = null;
    await Promise.allSettled(this.pending);
    for (const w of this.written) await rm(w.tmp, { force: true });
  }
}

interface Block {
  offset: number;
  metaLength: number;
  bodyLength: number;
}

/** The record batch metadata fields read (apache-arrow's decoded RecordBatch header). */
interface BatchHeader {
  length: number | bigint;
  buffers: { offset: number | bigint; length: number | bigint }[];
}

/** Buffers of a shard's record batch: input_ids, token_type_ids (2 + 2 each), label, length, row (2 each). */
const SHARD_BUFFERS = 14;

interface DecodedBatch {
  ids: Int32Array;
  offsets: Int32Array;
  lengths: Int32Array;
}

/** What a reader has held, for tests and logs: memory is bounded by cachedBatches × RECORD_ROWS rows. */
export interface ReaderStats {
  batchesDecoded: number;
  rowsHeld: number;
  maxRowsHeld: number;
}

/** Synchronous random access to the rows of one split's shards, a bounded number of record batches in memory. */
export class ShardedRows {
  readonly stats: ReaderStats = { batchesDecoded: 0, rowsHeld: 0, maxRowsHeld: 0 };
  private readonly cache = new Map<number, DecodedBatch>();
  private fds: (number | null)[];

  private constructor(
    private readonly files: string[],
    private readonly blocks: Block[][],
    readonly size: number,
    private readonly shardRows: number,
    private readonly cachedBatches: number,
  ) {
    this.fds = files.map(() => null);
  }

  /** Read each shard's footer (where its record batches are) and check the rows add up. */
  static async open(
    dir: string,
    info: CorpusSplitInfo,
    shardRows: number,
    cachedBatches = CACHED_BATCHES,
  ): Promise<ShardedRows> {
    const files = info.files.map((f) => path.join(dir, f));
    const blocks: Block[][] = [];
    for (const file of files) {
      const handle = await open(file, 'r').catch(() => {
        throw new DataError(`${file}: missing shard of the pretraining corpus; delete ${dir} to tokenize it again`);
      });
      try {
        const reader = await RecordBatchReader.from(handle);
        await reader.open();
        const footer = (reader as unknown as { footer?: FooterLike }).footer;
        if (!footer) throw new DataError(`${file}: not an Arrow IPC file; delete ${dir} to tokenize it again`);
        const own: Block[] = [];
        for (let b = 0; b < footer.numRecordBatches; b++) {
          const block = footer.getRecordBatch(b)!;
          own.push({
            offset: Number(block.offset),
            metaLength: block.metaDataLength,
            bodyLength: Number(block.bodyLength),
          });
        }
        const inShard = Math.max(0, Math.min(shardRows, info.rows - blocks.length * shardRows));
        if (own.length !== Math.max(1, Math.ceil(inShard / RECORD_ROWS)))
          throw new DataError(`${file}: holds other rows than its manifest says; delete ${dir} to tokenize it again`);
        blocks.push(own);
      } catch (err) {
        if (err instanceof DataError) throw err;
        throw new DataError(`${file}: unreadable shard (${(err as Error).message}); delete ${dir} to tokenize again`);
      } finally {
        await handle.close();
      }
    }
    if (files.length !== Math.max(1, Math.ceil(info.rows / shardRows)))
      throw new DataError(`${dir}: its shards do not match its manifest; delete it to tokenize it again`);
    return new ShardedRows(files, blocks, info.rows, shardRows, cachedBatches);
  }

  /** Row i's token ids (a view valid until the next call evicts its batch: copy to keep). */
  ids(i: number): Int32Array {
    const b = this.batchOf(i);
    const local = (i % this.shardRows) % RECORD_ROWS;
    return b.ids.subarray(b.offsets[local], b.offsets[local + 1]);
  }

  /** Every row's length, read shard by shard (one_per_row corpora; packed blocks are uniform). */
  lengths(): Int32Array {
    const out = new Int32Array(this.size);
    for (let i = 0; i < this.size; i += RECORD_ROWS) {
      const b = this.batchOf(i);
      out.set(b.lengths.subarray(0, Math.min(b.lengths.length, this.size - i)), i);
    }
    return out;
  }

  private batchOf(i: number): DecodedBatch {
    if (!(i >= 0 && i < this.size)) throw new RangeError(`row ${i} outside 0..${this.size - 1}`);
    const shard = Math.floor(i / this.shardRows);
    const batch = Math.floor((i % this.shardRows) / RECORD_ROWS);
    const key = shard * Math.ceil(this.shardRows / RECORD_ROWS) + batch;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key); // most recently used goes last
      this.cache.set(key, hit);
      return hit;
    }
    const decoded = this.decode(shard, batch);
    this.cache.set(key, decoded);
    this.stats.batchesDecoded++;
    this.stats.rowsHeld += decoded.lengths.length;
    for (const [k, v] of this.cache) {
      if (this.cache.size <= this.cachedBatches) break;
      this.cache.delete(k);
      this.stats.rowsHeld -= v.lengths.length;
    }
    this.stats.maxRowsHeld = Math.max(this.stats.maxRowsHeld, this.stats.rowsHeld);
    return decoded;
  }

  private decode(shard: number, batch: number): DecodedBatch {
    const block = this.blocks[shard]?.[batch];
    const file = this.files[shard];
    const corrupt = (what: string) => new DataError(`${file}: ${what}; delete the corpus to tokenize it again`);
    if (!block) throw corrupt(`has no record batch ${batch}`);
    this.fds[shard] ??= openSync(file, 'r');
    const bytes = new Uint8Array(block.metaLength + block.bodyLength);
    if (readSync(this.fds[shard]!, bytes, 0, bytes.length, block.offset) !== bytes.length) throw corrupt('truncated');
    // The message's metadata lists the body's buffers in schema order, two per column (validity, then
    // offsets or data) and two per list child: input_ids offsets are buffer 1, its values 3, length 11.
    // Reading them directly is ~10× faster than a stream reader per record batch.
    const header = Message.decode(bytes.subarray(8, block.metaLength)).header() as unknown as BatchHeader;
    if (header?.buffers?.length !== SHARD_BUFFERS) throw corrupt(`record batch ${batch} is not a corpus shard's`);
    const n = Number(header.length);
    const body = block.metaLength;
    const int32 = (k: number, count?: number) => {
      const b = header.buffers[k];
      const at = body + Number(b.offset);
      if (at + Number(b.length) > bytes.length) throw corrupt(`record batch ${batch} is cut short`);
      return new Int32Array(bytes.buffer, at, count ?? Number(b.length) / 4);
    };
    const off = n ? int32(1, n + 1) : new Int32Array(1);
    const values = n ? int32(3) : new Int32Array(0);
    return {
      // Copies: the decoded batch must not keep the whole read buffer alive.
      ids: values.slice(off[0], off[n]),
      offsets: Int32Array.from(off, (o) => o - off[0]),
      lengths: n ? int32(11, n).slice() : new Int32Array(0),
    };
  }

  close(): void {
    for (const fd of this.fds) if (fd !== null) closeSync(fd);
    this.fds = this.files.map(() => null);
    this.cache.clear();
    this.stats.rowsHeld = 0;
  }
}

interface FooterLike {
  schema: Schema;
  numRecordBatches: number;
  getRecordBatch(i: number): { offset: number | bigint; metaDataLength: number; bodyLength: number | bigint } | null;
}
