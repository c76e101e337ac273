import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DataError, UsageError } from '../lib/errors.js';
import { readJsonObject } from '../lib/json-file.js';
import type { TextSettings } from './fulltext.js';
import type { VectorsManifest } from './vectors.js';

export const INDEX_MANIFEST_FILE = 'manifest.json';
/** The embeddings manifest the index was built from, copied as it was. */
export const INDEX_VECTORS_MANIFEST_FILE = 'embeddings-manifest.json';
export const INDEX_TABLE = 'items';
export const ANN_KINDS = ['none', 'ivf_pq', 'hnsw'] as const;
export type AnnKind = (typeof ANN_KINDS)[number];

/** How the ANN index was built (`none`: exact search only). */
export interface AnnSettings {
  kind: AnnKind;
  partitions?: number;
  sub_vectors?: number;
  m?: number;
  ef_construction?: number;
  build_seconds?: number;
}

/** INDEX/manifest.json, written last: its presence means the index is complete. */
export interface IndexManifest {
  kind: 'vector-index';
  format: 1;
  table: typeof INDEX_TABLE;
  distance: 'cosine';
  /** The id column: `id` (utf8) or `row` (int64 source row). */
  key: 'id' | 'row';
  dimension: number;
  count: number;
  ann: AnnSettings;
  vectors: { dir: string; sha256: string };
  /** What a query must be embedded with: the embeddings' model, pooling and tokenizer. */
  model: VectorsManifest['model'];
  pooling: string;
  normalize: boolean;
  max_length: number;
  truncation: string;
  tokenizer_sha256: string;
  created: string;
  /** The items' texts with a full-text (BM25) index, for `search --fts` and `--hybrid` (index --texts). */
  text?: TextSettings;
}

export function readIndexManifest(dir: string): IndexManifest {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`${dir}: not a directory (--index takes the --out dir of recsys index)`);
  const file = path.join(dir, INDEX_MANIFEST_FILE);
  if (!existsSync(file))
    throw new UsageError(`${file}: missing; ${dir} is not a complete recsys index (build it with recsys index)`);
  const m = readJsonObject(file) as Partial<IndexManifest>;
  if (m.kind !== 'vector-index') throw new DataError(`${file}: not a recsys index manifest (kind "${m.kind}")`);
  if (m.format !== 1) throw new DataError(`${file}: index format ${m.format}; this recsys reads format 1`);
  if (!Number.isInteger(m.dimension) || !m.model?.weights_sha256 || !m.ann?.kind)
    throw new DataError(`${file}: dimension, model.weights_sha256 and ann are required`);
  return m as IndexManifest;
}

/** The identity a query encoder must share with the index. */
export interface EncoderIdentity {
  weights_sha256: string;
  pooling: string;
  normalize: boolean;
  tokenizer_sha256: string;
}

const short = (sha: string) => `${sha.slice(0, 12)}…`;

/** What differs between the index's model and a query encoder, one phrase each (empty: the same). */
export function identityDifferences(index: IndexManifest, query: EncoderIdentity): string[] {
  const out: string[] = [];
  if (query.weights_sha256 !== index.model.weights_sha256)
    out.push(`weights sha256 ${short(query.weights_sha256)} (index: ${short(index.model.weights_sha256)})`);
  if (query.pooling !== index.pooling) out.push(`pooling ${query.pooling} (index: ${index.pooling})`);
  if (query.normalize !== index.normalize) out.push(`normalize ${query.normalize} (index: ${index.normalize})`);
  if (query.tokenizer_sha256 !== index.tokenizer_sha256)
    out.push(`tokenizer sha256 ${short(query.tokenizer_sha256)} (index: ${short(index.tokenizer_sha256)})`);
  return out;
}
