import path from 'node:path';
import type { Connection, Table } from '@lancedb/lancedb';
import { DataError, escapeControlChars, UsageError } from '../lib/errors.js';
import { TEXT_TABLE } from './fulltext.js';
import { loadLance } from './lance.js';
import { INDEX_TABLE, type IndexManifest, readIndexManifest } from './manifest.js';

/** One neighbour: the item's id (a string, or the source row for row-keyed vectors) and its cosine similarity. */
export interface Hit {
  id: string | number;
  score: number;
}

/** How an ANN query trades recall for speed; ignored by exact search. */
export interface AnnQueryOptions {
  /** IVF partitions probed (ivf_pq). */
  nprobes: number;
  /** HNSW candidate list size; null: max(100, k × refine factor). */
  ef: number | null;
  /** Re-rank k × this many ANN candidates by their exact distance (0: off). */
  refineFactor: number;
}

/**
 * An index opened for queries: exact search scans every vector (LanceDB's flat KNN, bypassing any
 * index) and is the reference; ANN search uses the index the manifest names. Scores are cosine
 * similarities, 1 − LanceDB's cosine distance, highest first; equal scores are ordered by id.
 */
export class VectorStore {
  private texts: Table | undefined;

  private constructor(
    readonly dir: string,
    readonly manifest: IndexManifest,
    private readonly table: Table,
    private readonly db: Connection,
  ) {}

  static async open(dir: string, verbose = false): Promise<VectorStore> {
    const manifest = readIndexManifest(dir);
    const lance = await loadLance(verbose);
    const db = await lance.connect(dir);
    const names = await db.tableNames();
    if (!names.includes(INDEX_TABLE))
      throw new DataError(`${path.join(dir, `${INDEX_TABLE}.lance`)}: missing; the index is damaged (rebuild it)`);
    return new VectorStore(dir, manifest, await db.openTable(INDEX_TABLE), db);
  }

  get exactOnly(): boolean {
    return this.manifest.ann.kind === 'none';
  }

  async search(vector: Float32Array, k: number, exact: boolean, ann: AnnQueryOptions, exclude?: Hit['id']) {
    const dim = this.manifest.dimension;
    if (vector.length !== dim)
      throw new DataError(`query vector has dimension ${vector.length}; the index ${this.dir} has ${dim}`);
    const key = this.manifest.key;
    const limit = exclude === undefined ? k : k + 1;
    let q = this.table.query().nearestTo(vector).distanceType('cosine').select([key, '_distance']).limit(limit);
    if (exact || this.exactOnly) q = q.bypassVectorIndex();
    else if (this.manifest.ann.kind === 'ivf_pq') q = q.nprobes(ann.nprobes);
    else q = q.ef(ann.ef ?? Math.max(100, limit * Math.max(ann.refineFactor, 1)));
    if (!exact && !this.exactOnly && ann.refineFactor > 0) q = q.refineFactor(ann.refineFactor);
    const rows = (await q.toArray()) as Record<string, unknown>[];
    const hits: Hit[] = rows.map((r) => ({ id: keyValue(r[key]), score: 1 - Number(r._distance) }));
    hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return (exclude === undefined ? hits : hits.filter((h) => h.id !== exclude)).slice(0, k);
  }

  /**
   * BM25 full-text search over the index's `texts` table (built with `recsys index --texts`): the best
   * `k` items for `text`, scored by LanceDB's BM25 (`_score`), highest first.
   */
  async fullText(text: string, k: number): Promise<Hit[]> {
    if (!this.manifest.text)
      throw new UsageError(
        `${this.dir}: no full-text index; rebuild it with recsys index --texts FILE --text-column C`,
      );
    this.texts ??= await this.db.openTable(TEXT_TABLE);
    const key = this.manifest.key;
    const q = this.texts.query().fullTextSearch(text, { columns: 'text' }).select([key, '_score']).limit(k);
    const rows = (await q.toArray()) as Record<string, unknown>[];
    const hits = rows.map((r) => ({ id: keyValue(r[key]), score: Number(r._score) }));
    return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The stored vector of an item (for item-to-item neighbours). */
  async vectorOf(id: string): Promise<{ id: Hit['id']; vector: Float32Array }> {
    const key = this.manifest.key;
    let value: Hit['id'];
    let where: string;
    if (key === 'row') {
      if (!/^\d+$/.test(id))
        throw new UsageError(
          `--similar-to ${escapeControlChars(id)}: this index is keyed by source row; give a row number`,
        );
      value = Number(id);
      where = `\`row\` = ${value}`;
    } else {
      value = id;
      where = `id = '${id.replace(/'/g, "''")}'`;
    }
    const rows = (await this.table.query().where(where).select(['vector']).limit(1).toArray()) as {
      vector: { toArray(): Float32Array } | number[];
    }[];
    if (!rows.length) throw new DataError(`${this.dir}: no item with ${key} "${escapeControlChars(id)}"`);
    const v = rows[0].vector;
    return { id: value, vector: Float32Array.from(Array.isArray(v) ? v : v.toArray()) };
  }

  close(): void {
    this.texts?.close();
    this.table.close();
    this.db.close();
  }
}

const keyValue = (v: unknown): Hit['id'] => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : String(v));
