import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import {
  DataType,
  type FixedSizeList,
  Precision,
  type RecordBatch,
  RecordBatchReader,
  type Schema,
} from 'apache-arrow';
import { DataError, UsageError } from '../lib/errors.js';
import { readJsonObject } from '../lib/json-file.js';

export const VECTORS_FILE = 'embeddings.arrow';
export const VECTORS_MANIFEST_FILE = 'manifest.json';

/**
 * The fields of an embeddings dir's manifest.json (`recsys embed`) that an index relies on: the
 * model identity that queries must match, and the shape of embeddings.arrow.
 */
export interface VectorsManifest {
  kind: 'embeddings';
  model: { ref: string; kind: string; weights_file: string; weights_sha256: string };
  pooling: string;
  normalize: boolean;
  dimension: number;
  count: number;
  key: { column: 'id' | 'row'; source_column: string | null };
  max_length: number;
  truncation: string;
  tokenizer_sha256: string;
  [more: string]: unknown;
}

/** Read and check DIR/manifest.json of an embeddings dir; missing pieces are one-line usage errors. */
export function readVectorsManifest(dir: string): VectorsManifest {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`${dir}: not a directory (--vectors takes the --out dir of recsys embed)`);
  const file = path.join(dir, VECTORS_MANIFEST_FILE);
  if (!existsSync(file))
    throw new UsageError(`${file}: missing; not a complete recsys embed output (an interrupted run writes none)`);
  const m = readJsonObject(file) as Partial<VectorsManifest>;
  if (m.kind !== 'embeddings') throw new DataError(`${file}: not an embeddings manifest (kind "${m.kind}")`);
  const bad = (['dimension', 'count'] as const).filter((k) => !Number.isInteger(m[k]) || (m[k] as number) < 1);
  if (bad.length) throw new DataError(`${file}: ${bad.join(', ')} must be positive integers`);
  if (!m.model?.weights_sha256 || !m.tokenizer_sha256 || !m.key?.column)
    throw new DataError(`${file}: model.weights_sha256, tokenizer_sha256 and key.column are required`);
  if (!existsSync(path.join(dir, VECTORS_FILE))) throw new DataError(`${dir}: ${VECTORS_FILE} is missing`);
  return m as VectorsManifest;
}

/** The file's schema must be the key column and `vector` FixedSizeList<float32>[dimension]. */
export function checkVectorsSchema(file: string, schema: Schema, m: VectorsManifest): void {
  const key = schema.fields.find((f) => f.name === m.key.column);
  if (!key) throw new DataError(`${file}: no "${m.key.column}" column (the manifest's key)`);
  const vector = schema.fields.find((f) => f.name === 'vector');
  // Type ids, not instanceof: an Arrow file may be decoded by another copy of apache-arrow's classes.
  const type = vector?.type as FixedSizeList | undefined;
  const child = type && DataType.isFixedSizeList(type) ? type.children[0].type : undefined;
  if (!type || !child || !DataType.isFloat(child) || child.precision !== Precision.SINGLE)
    throw new DataError(`${file}: "vector" must be FixedSizeList<float32>, found ${type ?? 'no such column'}`);
  if (type.listSize !== m.dimension)
    throw new DataError(`${file}: vectors have dimension ${type.listSize}; the manifest says ${m.dimension}`);
}

/** The record batches of embeddings.arrow, one at a time (memory: one batch), schema checked first. */
export async function* readVectorBatches(dir: string, m: VectorsManifest): AsyncGenerator<RecordBatch> {
  const file = path.join(dir, VECTORS_FILE);
  const handle = await open(file, 'r');
  try {
    const reader = await RecordBatchReader.from(handle);
    await reader.open();
    checkVectorsSchema(file, reader.schema, m);
    for await (const batch of reader) yield batch;
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`${file}: not a readable Arrow IPC file (${(err as Error).message})`);
  } finally {
    await handle.close();
  }
}
