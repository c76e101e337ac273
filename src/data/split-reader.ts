import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';
import { DataError } from '../lib/errors.js';
import type { DatasetManifest } from './manifest.js';

/** One split of a prepared dataset in compact typed arrays (no per-row JS objects). */
export interface SplitArrays {
  size: number;
  /** Token ids of all rows back to back; row i is ids[offsets[i] .. offsets[i+1]). */
  ids: Int32Array;
  typeIds: Int8Array;
  offsets: Int32Array;
  labels: Int32Array;
  /** 1-based source row numbers. */
  rows: Float64Array;
  /** Regression / multi-label: the target vectors back to back, `width` per row. */
  targets?: Float32Array;
  width?: number;
}

export interface SplitBatch {
  ids: Int32Array;
  typeIds: Int8Array;
  offsets: Int32Array;
  labels: Int32Array;
  rows: Float64Array;
  size: number;
  targets?: Float32Array;
  width?: number;
  /** The group key of each row (data.group_column, e.g. the query of a pair), when the dataset has one. */
  groups?: (string | null)[];
}

/** The column types recsys prepare writes (data/shards.ts), as apache-arrow names them. */
const SHARD_TYPES: Record<string, string> = {
  input_ids: 'List<Int32>',
  token_type_ids: 'List<Int8>',
  label: 'Int32',
  row: 'Int64',
};

/** Columns of one Arrow record batch as typed arrays (offsets rebased to 0). */
function columnsOf(batch: RecordBatch, file: string): SplitBatch {
  const ids = batch.getChild('input_ids')?.data[0];
  const types = batch.getChild('token_type_ids')?.data[0];
  const label = batch.getChild('label');
  const row = batch.getChild('row');
  if (!ids || !types || !label || !row)
    throw new DataError(`${file}: not a recsys dataset shard (expected columns input_ids, token_type_ids, label, row)`);
  // A shard of the right columns but other types would fail below as a bare TypeError (or read wrong numbers).
  for (const [name, want] of Object.entries(SHARD_TYPES)) {
    const got = String(batch.schema.fields.find((f) => f.name === name)?.type);
    if (got !== want)
      throw new DataError(
        `${file}: column "${name}" is ${got}, expected ${want} (not a recsys dataset shard); re-run recsys prepare`,
      );
  }
  const group = batch.getChild('group');
  const off = ids.valueOffsets as Int32Array;
  const start = off[0];
  const end = off[batch.numRows];
  const offsets = Int32Array.from(off.subarray(0, batch.numRows + 1), (o) => o - start);
  return {
    ...targetsOf(batch, file),
    size: batch.numRows,
    ids: (ids.children[0].values as Int32Array).subarray(start, end),
    typeIds: (types.children[0].values as Int8Array).subarray(start, end),
    offsets,
    labels: Int32Array.from(label.toArray() as Int32Array),
    rows: Float64Array.from(row.toArray() as BigInt64Array, Number),
    ...(group ? { groups: Array.from(group.toArray() as (string | null)[]) } : {}),
  };
}

/** The `targets` column (regression / multi-label shards): one fixed-width float vector per row. */
function targetsOf(batch: RecordBatch, file: string): { targets?: Float32Array; width?: number } {
  const col = batch.getChild('targets')?.data[0];
  if (!col) return {};
  const off = col.valueOffsets as Int32Array;
  const n = batch.numRows;
  const width = n ? (off[n] - off[0]) / n : 0;
  for (let i = 0; i < n; i++)
    if (off[i + 1] - off[i] !== width)
      throw new DataError(`${file}: row ${i} has ${off[i + 1] - off[i]} targets, expected ${width}; re-run prepare`);
  return { targets: Float32Array.from((col.children[0].values as Float32Array).subarray(off[0], off[n])), width };
}

export function splitFile(datasetDir: string, manifest: DatasetManifest, split: string): string {
  const info = manifest.splits[split as keyof DatasetManifest['splits']];
  if (!info) throw new DataError(`${datasetDir}: the dataset has no "${split}" split`);
  const file = path.join(datasetDir, info.file);
  if (!existsSync(file)) throw new DataError(`${file}: missing shard for split "${split}" (the dataset is incomplete)`);
  return file;
}

/** Stream a split batch by batch (evaluation: constant memory). */
export async function* readSplitBatches(file: string): AsyncGenerator<SplitBatch> {
  for await (const batch of readSplitBatchesRaw(file)) yield columnsOf(batch, file);
}

/** A shard's Arrow record batches, with a truncated or corrupt file reported as a DataError. */
export async function* readSplitBatchesRaw(file: string): AsyncGenerator<RecordBatch> {
  // apache-arrow reports a truncated or corrupt file as a JS TypeError: say what it means.
  const unreadable = (err: unknown) =>
    new DataError(
      `${file}: not a readable Arrow file (${
        err instanceof TypeError ? 'truncated or corrupt' : (err as Error).message.split('\n')[0]
      }); re-run recsys prepare`,
    );
  let batches: AsyncIterator<RecordBatch>;
  try {
    const reader = await RecordBatchReader.from(createReadStream(file));
    await reader.open();
    if (!reader.schema?.fields)
      throw new DataError(`${file}: not a readable Arrow file (no schema); re-run recsys prepare`);
    batches = reader[Symbol.asyncIterator]();
  } catch (err) {
    throw err instanceof DataError ? err : unreadable(err);
  }
  for (;;) {
    let next: IteratorResult<RecordBatch>;
    try {
      next = await batches.next();
    } catch (err) {
      throw unreadable(err);
    }
    if (next.done) return;
    yield next.value;
  }
}

/** Load a whole split compactly (training shuffles across it). */
export async function loadSplit(file: string): Promise<SplitArrays> {
  const parts: SplitBatch[] = [];
  for await (const b of readSplitBatches(file)) parts.push(b);
  const size = parts.reduce((a, p) => a + p.size, 0);
  const tokens = parts.reduce((a, p) => a + p.ids.length, 0);
  const out: SplitArrays = {
    size,
    ids: new Int32Array(tokens),
    typeIds: new Int8Array(tokens),
    offsets: new Int32Array(size + 1),
    labels: new Int32Array(size),
    rows: new Float64Array(size),
  };
  const width = parts.find((p) => p.width)?.width;
  if (parts.some((p) => p.targets)) {
    out.width = width ?? 0;
    out.targets = new Float32Array(size * out.width);
  }
  let r = 0;
  let t = 0;
  for (const p of parts) {
    out.ids.set(p.ids, t);
    out.typeIds.set(p.typeIds, t);
    for (let i = 1; i <= p.size; i++) out.offsets[r + i] = t + p.offsets[i];
    out.labels.set(p.labels, r);
    out.rows.set(p.rows, r);
    if (out.targets && p.targets) out.targets.set(p.targets, r * out.width!);
    r += p.size;
    t += p.ids.length;
  }
  return out;
}

/** Row i as the (ids, typeIds) pair padBatch takes. */
export function rowOf(s: { ids: Int32Array; typeIds: Int8Array; offsets: Int32Array }, i: number) {
  return {
    ids: s.ids.subarray(s.offsets[i], s.offsets[i + 1]),
    typeIds: s.typeIds.subarray(s.offsets[i], s.offsets[i + 1]),
  };
}
