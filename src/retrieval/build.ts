import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { removeStaleTemps, tempNameFor, writeJsonAtomic } from '../lib/atomic.js';
import { DataError, UsageError } from '../lib/errors.js';
import { sha256File } from '../lib/hash.js';
import { buildTextTable, type TextSource } from './fulltext.js';
import { loadLance, toLance } from './lance.js';
import {
  type AnnKind,
  type AnnSettings,
  INDEX_MANIFEST_FILE,
  INDEX_TABLE,
  INDEX_VECTORS_MANIFEST_FILE,
  type IndexManifest,
} from './manifest.js';
import { readVectorBatches, readVectorsManifest, VECTORS_FILE, VECTORS_MANIFEST_FILE } from './vectors.js';

export interface IndexBuildOptions {
  vectors: string;
  out: string;
  /** `auto`: exact search only below `annMinRows` vectors, else HNSW. */
  ann: AnnKind | 'auto';
  annMinRows: number;
  /** IVF partitions (null: about √count); PQ sub-vectors (null: dimension/8, or the largest divisor that fits). */
  partitions: number | null;
  subVectors: number | null;
  hnswM: number;
  efConstruction: number;
  overwrite: boolean;
  /** Rows per LanceDB write (default WRITE_ROWS; tests lower it to exercise appends). */
  writeRows?: number;
  /** Item texts for a full-text (BM25) index beside the vectors (search --fts / --hybrid). */
  texts?: TextSource;
  verbose?: boolean;
  onProgress?: (rows: number) => void;
}

/** Rows per LanceDB write: large enough for few fragments, small enough that memory stays flat. */
const WRITE_ROWS = 65_536;

export function resolveAnn(opts: IndexBuildOptions, count: number, dim: number): AnnSettings {
  const kind = opts.ann === 'auto' ? (count < opts.annMinRows ? 'none' : 'hnsw') : opts.ann;
  if (kind === 'none') return { kind };
  if (kind === 'hnsw') return { kind, m: opts.hnswM, ef_construction: opts.efConstruction };
  // PQ codebooks have 256 centroids per sub-vector: fewer rows than that cannot train them.
  if (count < 256) throw new UsageError(`--ann ivf_pq needs at least 256 vectors to train its codebooks (${count})`);
  const partitions = opts.partitions ?? Math.max(1, Math.min(Math.round(Math.sqrt(count)), Math.floor(count / 256)));
  const subVectors = opts.subVectors ?? dim / ([8, 4, 2, 1].find((w) => dim % w === 0) as number);
  if (dim % subVectors !== 0) throw new UsageError(`index.sub_vectors ${subVectors} must divide the dimension ${dim}`);
  return { kind, partitions, sub_vectors: subVectors };
}

/** A complete index of other vectors needs --overwrite; a dir recsys did not write is never replaced. */
function checkOut(out: string, sourceSha: string, overwrite: boolean): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new UsageError(`${out}: exists and is not a directory; choose another --out`);
  const manifest = path.join(out, INDEX_MANIFEST_FILE);
  const entries = readdirSync(out);
  if (!existsSync(manifest)) {
    if (entries.length)
      throw new UsageError(
        `${out}: not empty and not a recsys index (${entries.slice(0, 3).join(', ')}); choose another --out`,
      );
    return;
  }
  let prev: Partial<IndexManifest> = {};
  try {
    prev = JSON.parse(readFileSync(manifest, 'utf8'));
  } catch {}
  if (prev.kind !== 'vector-index')
    throw new UsageError(`${manifest}: not a recsys index manifest; choose another --out`);
  if (prev.vectors?.sha256 !== sourceSha && !overwrite)
    throw new UsageError(
      `${out}: holds an index of other vectors (${prev.vectors?.dir}); pass --overwrite to replace it`,
    );
}

/** Batches regrouped to about `chunkRows` rows, each handed to `write` as one LanceDB table. */
async function writeRows(
  batches: AsyncIterable<RecordBatch>,
  write: (batches: RecordBatch[]) => Promise<void>,
  chunkRows: number,
  onProgress?: (rows: number) => void,
): Promise<number> {
  let pending: RecordBatch[] = [];
  let pendingRows = 0;
  let rows = 0;
  for await (const batch of batches) {
    if (batch.numRows === 0) continue;
    pending.push(batch);
    pendingRows += batch.numRows;
    if (pendingRows >= chunkRows) {
      await write(pending);
      rows += pendingRows;
      onProgress?.(rows);
      pending = [];
      pendingRows = 0;
    }
  }
  if (pending.length) await write(pending);
  return rows + pendingRows;
}

async function createAnnIndex(table: import('@lancedb/lancedb').Table, ann: AnnSettings): Promise<void> {
  if (ann.kind === 'none') return;
  const { Index } = await loadLance();
  const config =
    ann.kind === 'hnsw'
      ? Index.hnswSq({ distanceType: 'cosine', numPartitions: 1, m: ann.m, efConstruction: ann.ef_construction })
      : Index.ivfPq({ distanceType: 'cosine', numPartitions: ann.partitions, numSubVectors: ann.sub_vectors });
  await table.createIndex('vector', { config, replace: true });
}

/**
 * `recsys index`: embeddings.arrow streamed into a LanceDB table (batches → IPC bytes → LanceDB),
 * an ANN index on it, the embeddings manifest copied, and the index manifest written last. All of
 * it is built in a temp sibling dir that is renamed into place, so INDEX is a complete index or
 * absent (an old index is moved aside first and removed after the swap).
 */
export async function buildIndex(opts: IndexBuildOptions): Promise<IndexManifest> {
  const m = readVectorsManifest(opts.vectors);
  const sourceSha = await sha256File(path.join(opts.vectors, VECTORS_FILE));
  checkOut(opts.out, sourceSha, opts.overwrite);
  const ann = resolveAnn(opts, m.count, m.dimension);
  await mkdir(path.dirname(opts.out), { recursive: true });
  await removeStaleTemps(path.dirname(opts.out), { of: path.basename(opts.out) });
  const tmp = tempNameFor(opts.out);
  try {
    const lance = await loadLance(opts.verbose);
    const db = await lance.connect(tmp);
    let table: import('@lancedb/lancedb').Table | undefined;
    const count = await writeRows(
      readVectorBatches(opts.vectors, m),
      async (batches) => {
        const data = toLance(batches);
        if (table) await table.add(data);
        else table = await db.createTable(INDEX_TABLE, data, { mode: 'create' });
      },
      opts.writeRows ?? WRITE_ROWS,
      opts.onProgress,
    );
    if (!table || count !== m.count)
      throw new DataError(`${opts.vectors}: ${VECTORS_FILE} has ${count} vectors; its manifest says ${m.count}`);
    const t0 = performance.now();
    await createAnnIndex(table, ann);
    if (ann.kind !== 'none') ann.build_seconds = Number(((performance.now() - t0) / 1000).toFixed(2));
    table.close();
    const text = opts.texts ? await buildTextTable(db, opts.texts, m.key.column) : undefined;
    if (text && text.count !== count)
      throw new DataError(
        `${opts.texts!.file}: ${text.count} rows; the index has ${count} vectors (one text per item)`,
      );
    db.close();
    await copyFile(path.join(opts.vectors, VECTORS_MANIFEST_FILE), path.join(tmp, INDEX_VECTORS_MANIFEST_FILE));
    const manifest: IndexManifest = {
      kind: 'vector-index',
      format: 1,
      table: INDEX_TABLE,
      distance: 'cosine',
      key: m.key.column,
      dimension: m.dimension,
      count,
      ann,
      vectors: { dir: opts.vectors, sha256: sourceSha },
      model: m.model,
      pooling: m.pooling,
      normalize: m.normalize,
      max_length: m.max_length,
      truncation: m.truncation,
      tokenizer_sha256: m.tokenizer_sha256,
      created: new Date().toISOString(),
      ...(text ? { text } : {}),
    };
    await writeJsonAtomic(path.join(tmp, INDEX_MANIFEST_FILE), manifest);
    await swapInto(tmp, opts.out);
    return manifest;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/** Rename the finished temp dir to `out`; an old `out` is renamed aside first and removed after. */
async function swapInto(tmp: string, out: string): Promise<void> {
  if (!existsSync(out)) return rename(tmp, out);
  const old = tempNameFor(out);
  await rename(out, old);
  await rename(tmp, out);
  await rm(old, { recursive: true, force: true });
}
