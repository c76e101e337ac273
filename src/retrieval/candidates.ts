/**
 * The (query, product) pairs `recsys rank` scores, one query at a time, from either
 *  - a candidates file (CSV/TSV/JSONL/Arrow): one row per pair with the query text, the product text,
 *    the query's id (group) and optionally the product's id; a query's rows must be adjacent, so one
 *    query is held in memory; or
 *  - `recsys search` output (hits.jsonl, one line per query) joined with the queries file (query id →
 *    text) and the catalogue (product id → text), both held in memory as id → text maps.
 * A row that cannot be used (no query text, product text or query id) is a reject, never a silent drop.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { cellText, requireColumns } from '../data/readers/columns.js';
import { type InputFormat, openSource } from '../data/readers/index.js';
import type { Reject } from '../data/rejects.js';
import { DataError, UsageError } from '../lib/errors.js';

export interface Candidate {
  /** The product id (--id-column, or the hit's id), else the 1-based source row. */
  id: string | number;
  text: string;
  /** The first-stage score (the search hit's cosine), kept next to the re-ranker's. */
  retrievalScore?: number;
}

export interface CandidateGroup {
  query: string;
  queryText: string;
  candidates: Candidate[];
}

export type RejectSink = (r: Reject) => void;

export interface CandidateFileOptions {
  file: string;
  format: InputFormat | 'auto';
  queryColumn: string;
  textColumn: string;
  groupColumn: string;
  idColumn?: string;
}

/** Rows of a candidates file, grouped by the query id (adjacent rows); unusable rows go to `reject`. */
export async function* candidateFileGroups(
  o: CandidateFileOptions,
  reject: RejectSink,
): AsyncGenerator<CandidateGroup> {
  const source = openSource(o.file, o.format);
  await requireColumns(source, o.file, [o.queryColumn, o.textColumn, o.groupColumn, o.idColumn]);
  const seen = new Set<string>();
  let current: CandidateGroup | undefined;
  for await (const r of source.rows()) {
    const bad = (reason: string) => reject({ row: r.row, line: r.line, reason, raw: r.raw });
    if (r.error || !r.values) {
      bad(r.error ?? 'unreadable row');
      continue;
    }
    const group = cellText(r.values[o.groupColumn])?.trim();
    const queryText = cellText(r.values[o.queryColumn]);
    const text = cellText(r.values[o.textColumn]);
    const id = o.idColumn ? cellText(r.values[o.idColumn])?.trim() : r.row;
    if (!group) bad(`empty or missing query id (column "${o.groupColumn}")`);
    else if (!queryText?.trim()) bad(`empty or missing query text (column "${o.queryColumn}")`);
    else if (!text?.trim()) bad(`empty or missing text (column "${o.textColumn}")`);
    else if (id === undefined || id === '') bad(`empty or missing id (column "${o.idColumn}")`);
    else {
      if (current?.query !== group) {
        if (current) yield current;
        if (seen.has(group))
          throw new DataError(
            `${o.file}: row ${r.row}: query "${group}" appears again after its rows ended; a query's candidates ` +
              `must be adjacent (sort the file by "${o.groupColumn}")`,
          );
        seen.add(group);
        current = { query: group, queryText, candidates: [] };
      }
      current.candidates.push({ id, text });
    }
  }
  if (current) yield current;
}

export interface TextTable {
  file: string;
  format: InputFormat | 'auto';
  idColumn: string;
  textColumn: string;
}

/** id → text of a whole file (the catalogue, the queries); a duplicate id with another text is an error. */
export async function readTextTable(t: TextTable): Promise<Map<string, string>> {
  const source = openSource(t.file, t.format);
  await requireColumns(source, t.file, [t.idColumn, t.textColumn]);
  const out = new Map<string, string>();
  for await (const r of source.rows()) {
    const where = `${t.file}: row ${r.row}`;
    if (r.error || !r.values) throw new DataError(`${where}: ${r.error ?? 'unreadable row'}`);
    const id = cellText(r.values[t.idColumn])?.trim();
    const text = cellText(r.values[t.textColumn]);
    if (!id) throw new DataError(`${where}: empty or missing id (column "${t.idColumn}")`);
    if (!text?.trim()) continue; // an item without text cannot be scored: its hits are rejected below
    const prev = out.get(id);
    if (prev !== undefined && prev !== text)
      throw new DataError(`${where}: id "${id}" appears twice with different texts (column "${t.textColumn}")`);
    out.set(id, text);
  }
  return out;
}

/**
 * `recsys search` output joined with the query texts and the catalogue: each line's hits become the
 * query's candidates, their cosine kept as the retrieval score. A hit whose id the catalogue lacks,
 * or a query whose id the queries file lacks, is a reject naming the hits line.
 */
export async function* hitsGroups(
  hitsFile: string,
  queries: Map<string, string>,
  catalogue: Map<string, string>,
  reject: RejectSink,
): AsyncGenerator<CandidateGroup> {
  const lines = createInterface({ input: createReadStream(hitsFile), crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (!text.trim()) continue;
    const bad = (reason: string) => reject({ row: line, line, reason, raw: text.slice(0, 200) });
    let o: { query_id?: unknown; hits?: unknown };
    try {
      o = JSON.parse(text);
    } catch {
      throw new DataError(`${hitsFile}: line ${line} is not JSON (expected recsys search output)`);
    }
    if (o.query_id === undefined || !Array.isArray(o.hits))
      throw new UsageError(
        `${hitsFile}: line ${line} has no "query_id" and "hits" (run recsys search with --id-column for the queries)`,
      );
    const query = String(o.query_id);
    const queryText = queries.get(query);
    if (queryText === undefined) {
      bad(`query id "${query}" is not in the queries file`);
      continue;
    }
    const candidates: Candidate[] = [];
    for (const h of o.hits as { id?: unknown; score?: unknown }[]) {
      const id = String(h.id);
      const t = catalogue.get(id);
      if (t === undefined) bad(`hit "${id}" of query "${query}" has no text in the catalogue`);
      else candidates.push({ id, text: t, retrievalScore: typeof h.score === 'number' ? h.score : undefined });
    }
    yield { query, queryText, candidates };
  }
}
