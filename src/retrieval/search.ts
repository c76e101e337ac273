import { judgeHits, type Qrels } from '../eval/qrels.js';
import { type RankingSummary, RankingAccumulator } from '../eval/ranking-stream.js';
import { AtomicTextStream } from '../lib/atomic-stream.js';
import type { QueryVector } from './queries.js';
import type { AnnQueryOptions, Hit, VectorStore } from './store.js';

export interface SearchOptions {
  k: number;
  exact: boolean;
  ann: AnnQueryOptions;
  /** hits.jsonl; unset: the hits go to `write` only (stdout). */
  output?: string;
  /** The key's name in each output line: query_id, row or item_id. */
  keyName: string;
  qrels?: Qrels;
  /** Cut-offs of the ranking metrics (--k is always one). */
  cutoffs?: number[];
  onProgress?: (queries: number) => void;
  /** Where lines go without --output. */
  write?: (line: string) => void;
  /** How a query's hits are found; default: vector search (store.search). */
  retrieve?: (q: QueryVector) => Promise<Hit[]>;
  /** The mode reported when `retrieve` is given. */
  mode?: 'fts' | 'hybrid';
}

export interface SearchSummary {
  queries: number;
  k: number;
  mode: 'exact' | 'ann' | 'fts' | 'hybrid';
  seconds: number;
  queries_per_second: number;
  output: string | null;
  /** With qrels: the averaged ranking metrics of the judged queries. */
  ranking?: RankingSummary & { n_unjudged: number };
}

/**
 * Each query's top-k hits (cosine similarity, highest first) as one JSON line
 * `{<keyName>: key, hits: [{id, score}]}`, written to a temp file renamed into place at the end.
 * With qrels, each query's hits are judged (eval/qrels.ts judgeHits: judged items that were not
 * retrieved count against recall and nDCG) and averaged by the streaming ranking accumulator;
 * queries the qrels do not know are counted as unjudged, not scored.
 */
export async function runSearch(
  store: VectorStore,
  queries: AsyncIterable<QueryVector>,
  opts: SearchOptions,
): Promise<SearchSummary> {
  const t0 = performance.now();
  const out = opts.output ? new AtomicTextStream(opts.output) : undefined;
  const cutoffs = [...new Set([opts.k, ...(opts.cutoffs ?? [])])].sort((a, b) => a - b);
  const acc = opts.qrels ? new RankingAccumulator({ k: cutoffs }) : undefined;
  let unjudged = 0;
  let n = 0;
  try {
    for await (const q of queries) {
      const hits: Hit[] = opts.retrieve
        ? await opts.retrieve(q)
        : await store.search(q.vector, opts.k, opts.exact, opts.ann, q.exclude);
      const line = `${JSON.stringify({ [opts.keyName]: q.key, hits })}\n`;
      if (out) await out.write(line);
      else opts.write?.(line);
      if (opts.qrels && acc) {
        const judged = judgeHits(
          opts.qrels,
          String(q.key),
          hits.map((h) => ({ id: String(h.id), score: h.score })),
        );
        if (judged.judged) acc.addQuery(String(q.key), judged);
        else unjudged++;
      }
      if (++n % 100 === 0) opts.onProgress?.(n);
    }
    await out?.commit();
  } catch (err) {
    await out?.abort();
    throw err;
  }
  const seconds = (performance.now() - t0) / 1000;
  const summary: SearchSummary = {
    queries: n,
    k: opts.k,
    mode: opts.mode ?? (opts.exact || store.exactOnly ? 'exact' : 'ann'),
    seconds,
    queries_per_second: seconds > 0 ? n / seconds : 0,
    output: opts.output ?? null,
  };
  if (acc) summary.ranking = { ...acc.summary(), n_unjudged: unjudged };
  return summary;
}

/** The metrics lines of a search with qrels (empty without). */
export function rankingLines(summary: SearchSummary): string {
  const r = summary.ranking;
  if (!r) return '';
  const k = summary.k;
  const f = (name: string) => `${name} ${r.metrics[name] == null ? 'n/a' : (r.metrics[name] as number).toFixed(4)}`;
  return (
    `${[`recall@${k}`, `ndcg@${k}`, `mrr@${k}`, 'map'].map(f).join('  ')}\n` +
    `judged queries ${r.n_queries} (${r.n_without_relevant} without relevant), unjudged ${r.n_unjudged}\n`
  );
}

export function searchedLine(s: SearchSummary): string {
  return (
    `searched ${s.queries} queries (${s.mode}, k ${s.k}) in ${s.seconds.toFixed(2)} s` +
    ` (${s.queries_per_second.toFixed(1)} queries/s)${s.output ? ` → ${s.output}` : ''}`
  );
}
