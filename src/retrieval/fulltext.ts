/**
 * Full-text retrieval beside the vectors: `recsys index --texts FILE --text-column title` stores each
 * item's text in a second LanceDB table (`texts`: the index's key and `text`) with LanceDB's full-text
 * index (BM25 over its default tokenizer: lower-cased words); `recsys search --fts` ranks items by BM25
 * alone, and `--hybrid` fuses the BM25 and the vector rankings by reciprocal rank (fusion.ts).
 * The text file is read once, streamed into the table in chunks; its rows are matched to the vectors by
 * the embed id column (or by source row for a row-keyed index).
 */
import { Field, Int64, makeData, RecordBatch, Schema, Struct, Utf8, vectorFromArray } from 'apache-arrow';
import { cellText, requireColumns } from '../data/readers/columns.js';
import { type InputFormat, openSource } from '../data/readers/index.js';
import { DataError } from '../lib/errors.js';
import { sha256File } from '../lib/hash.js';
import { loadLance, toLance } from './lance.js';

export const TEXT_TABLE = 'texts';
const CHUNK_ROWS = 16_384;

export interface TextSource {
  file: string;
  format: InputFormat | 'auto';
  textColumn: string;
  /** The id column of the text file; null: the index is keyed by source row. */
  idColumn: string | null;
}

/** What the index manifest records of its text table. */
export interface TextSettings {
  file: string;
  sha256: string;
  column: string;
  id_column: string | null;
  count: number;
  tokenizer: 'simple';
  scoring: 'bm25';
}

function chunkBatch(key: 'id' | 'row', ids: (string | number)[], texts: string[]): RecordBatch {
  const keyType = key === 'id' ? new Utf8() : new Int64();
  const schema = new Schema([new Field(key, keyType, false), new Field('text', new Utf8(), false)]);
  const keyData =
    key === 'id'
      ? vectorFromArray(ids as string[], new Utf8()).data[0]
      : makeData({ type: new Int64(), length: ids.length, data: BigInt64Array.from(ids, (r) => BigInt(r)) });
  const children = [keyData, vectorFromArray(texts, new Utf8()).data[0]];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: ids.length, children }));
}

/** Write the `texts` table into the (temporary) index db and build its full-text index. */
export async function buildTextTable(
  db: import('@lancedb/lancedb').Connection,
  src: TextSource,
  key: 'id' | 'row',
): Promise<TextSettings> {
  const source = openSource(src.file, src.format);
  await requireColumns(source, src.file, [src.textColumn, src.idColumn]);
  let table: import('@lancedb/lancedb').Table | undefined;
  let ids: (string | number)[] = [];
  let texts: string[] = [];
  let count = 0;
  const flush = async () => {
    if (!ids.length) return;
    const data = toLance([chunkBatch(key, ids, texts)]);
    if (table) await table.add(data);
    else table = await db.createTable(TEXT_TABLE, data, { mode: 'create' });
    count += ids.length;
    ids = [];
    texts = [];
  };
  for await (const r of source.rows()) {
    const where = `${src.file}: row ${r.row}`;
    if (r.error || !r.values) throw new DataError(`${where}: ${r.error ?? 'unreadable row'}`);
    const text = cellText(r.values[src.textColumn]) ?? '';
    const id = src.idColumn ? cellText(r.values[src.idColumn])?.trim() : r.row;
    if (id === undefined || id === '') throw new DataError(`${where}: empty or missing id (column "${src.idColumn}")`);
    ids.push(id);
    texts.push(text);
    if (ids.length >= CHUNK_ROWS) await flush();
  }
  await flush();
  if (!table) throw new DataError(`${src.file}: no rows`);
  const { Index } = await loadLance();
  await table.createIndex('text', { config: Index.fts(), replace: true });
  table.close();
  return {
    file: src.file,
    sha256: await sha256File(src.file),
    column: src.textColumn,
    id_column: src.idColumn,
    count,
    tokenizer: 'simple',
    scoring: 'bm25',
  };
}
