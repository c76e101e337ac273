import { cellText, requireColumns } from '../data/readers/columns.js';
import { type InputFormat, openSource } from '../data/readers/index.js';
import { DataError, escapeControlChars } from '../lib/errors.js';
import type { VectorStore } from './store.js';

/** One query to search with: its key in the output (query id, source row, item id) and its vector. */
export interface QueryVector {
  key: string | number;
  vector: Float32Array;
  /** An item to leave out of the hits (item-to-item search excludes the item itself). */
  exclude?: string | number;
  /** The query's text (full-text and hybrid search). */
  text?: string;
}

/** Texts → their vectors, row-major [texts, dimension] (embed/ provides one over an InferenceModel). */
export type QueryEncoder = (texts: string[]) => Promise<Float32Array>;

export interface QueryFileOptions {
  file: string;
  format: InputFormat | 'auto';
  textColumn: string;
  /** Output key: this column's value; unset: the 1-based source row. */
  idColumn?: string;
  batchSize: number;
  dimension: number;
}

/**
 * The queries of a file, embedded `batchSize` at a time and yielded one by one, so memory is one
 * batch (no encoder: the texts only, for full-text search). A row without text or id is a data
 * error naming its row: a query cannot be skipped quietly when its hits (and its metrics) are what
 * the user asked for.
 */
export async function* embeddedQueries(
  opts: QueryFileOptions,
  encode: QueryEncoder | null,
): AsyncGenerator<QueryVector> {
  const source = openSource(opts.file, opts.format);
  await requireColumns(source, opts.file, [opts.textColumn, opts.idColumn]);
  let keys: (string | number)[] = [];
  let texts: string[] = [];
  const flush = async function* () {
    if (!encode) {
      for (let i = 0; i < keys.length; i++) yield { key: keys[i], vector: new Float32Array(0), text: texts[i] };
      keys = [];
      texts = [];
      return;
    }
    const vectors = await encode(texts);
    const dim = opts.dimension;
    if (vectors.length !== texts.length * dim)
      throw new DataError(`query vectors have dimension ${vectors.length / texts.length}; the index has ${dim}`);
    for (let i = 0; i < keys.length; i++)
      yield { key: keys[i], vector: vectors.slice(i * dim, (i + 1) * dim), text: texts[i] };
    keys = [];
    texts = [];
  };
  for await (const r of source.rows()) {
    const where = `${opts.file}: row ${r.row}${r.line ? ` (line ${r.line})` : ''}`;
    if (r.error) throw new DataError(escapeControlChars(`${where}: ${r.error}`));
    const text = cellText(r.values?.[opts.textColumn]);
    if (!text?.trim()) throw new DataError(`${where}: empty or missing text (column "${opts.textColumn}")`);
    const id = opts.idColumn ? cellText(r.values?.[opts.idColumn])?.trim() : undefined;
    if (opts.idColumn && !id) throw new DataError(`${where}: empty or missing id (column "${opts.idColumn}")`);
    keys.push(id ?? r.row);
    texts.push(text);
    if (texts.length >= opts.batchSize) yield* flush();
  }
  if (texts.length) yield* flush();
}

/** Items of the index as queries (item-to-item neighbours): their stored vectors, each excluding itself. */
export async function* storedItemQueries(store: VectorStore, ids: string[]): AsyncGenerator<QueryVector> {
  for (const id of ids) {
    const { id: key, vector } = await store.vectorOf(id);
    yield { key, vector, exclude: key };
  }
}
