/**
 * Streaming ranking evaluation: `RankingAccumulator` takes one query's candidates at a time and
 * keeps only running sums, so memory is one query's candidates plus the set of query ids seen.
 * Grouping helpers turn rows into queries: `groupContiguous` when a query's rows are adjacent (one
 * query in memory), `QueryBuffer` when they arrive in any order (two numbers per row, nothing else).
 */
import { DataError } from '../lib/errors.js';
import {
  DEFAULT_K,
  type QueryCandidates,
  type QueryRankingResult,
  type RankingOptions,
  rankingMetricNames,
  rankQuery,
} from './ranking.js';

export interface RankingStreamOptions extends RankingOptions {
  /**
   * Queries with no relevant item (none with a relevant gain, among candidates or unretrieved):
   * `zero` (default) keeps them in the averages, where every binary metric is 0 for them and nDCG is
   * 0 when all gains are 0 (as sklearn's ndcg_score scores an all-zero row); `exclude` leaves them
   * out of the averages. Either way they are counted in `n_without_relevant`.
   */
  withoutRelevant?: 'zero' | 'exclude';
}

/** The averaged report; keys are the JSON report's. */
export interface RankingSummary {
  n_queries: number;
  n_without_relevant: number;
  /** Queries in the averages: n_queries, less n_without_relevant under `exclude`. */
  n_averaged: number;
  n_candidates: number;
  k: number[];
  /** Relevance rule for the binary metrics, e.g. "gain > 0" or "gain >= 1". */
  relevant_if: string;
  without_relevant: 'zero' | 'exclude';
  /** Means over the averaged queries; null when there is none. */
  metrics: Record<string, number | null>;
}

export interface QueryRankingRecord extends QueryRankingResult {
  query: string;
}

export class RankingAccumulator {
  private readonly opts: RankingStreamOptions;
  private readonly names: string[];
  private readonly sums: Record<string, number> = {};
  private readonly seen = new Set<string>();
  private queries = 0;
  private withoutRelevant = 0;
  private averaged = 0;
  private candidates = 0;

  constructor(opts: RankingStreamOptions = {}) {
    const k = [...new Set(opts.k ?? DEFAULT_K)].sort((a, b) => a - b);
    this.opts = { ...opts, k };
    this.names = rankingMetricNames(k);
    for (const name of this.names) this.sums[name] = 0;
  }

  /** Scores one query and adds it to the averages; returns its values (e.g. for a per-query file). */
  addQuery(query: string, c: QueryCandidates): QueryRankingRecord {
    if (this.seen.has(query)) {
      throw new DataError(`query "${query}" was added twice: each query's candidates must come as one group`);
    }
    this.seen.add(query);
    const result = rankQuery(c, this.opts, query);
    this.queries++;
    this.candidates += result.candidates;
    const excluded = result.relevant === 0 && this.opts.withoutRelevant === 'exclude';
    if (result.relevant === 0) this.withoutRelevant++;
    if (!excluded) {
      this.averaged++;
      for (const name of this.names) this.sums[name] += result.values[name];
    }
    return { query, ...result };
  }

  summary(): RankingSummary {
    const metrics: Record<string, number | null> = {};
    for (const name of this.names) metrics[name] = this.averaged > 0 ? this.sums[name] / this.averaged : null;
    const min = this.opts.minRelevantGain;
    return {
      n_queries: this.queries,
      n_without_relevant: this.withoutRelevant,
      n_averaged: this.averaged,
      n_candidates: this.candidates,
      k: [...(this.opts.k ?? DEFAULT_K)],
      relevant_if: min === undefined ? 'gain > 0' : `gain >= ${min}`,
      without_relevant: this.opts.withoutRelevant ?? 'zero',
      metrics,
    };
  }
}

/**
 * Rows whose query's rows are adjacent (sorted or grouped input): yields each query's rows when the
 * next query starts, so one query is held. A query id that comes back after its group ended is a
 * DataError naming `where(row)`; the ids seen are kept to notice that.
 */
export async function* groupContiguous<T>(
  rows: AsyncIterable<T> | Iterable<T>,
  queryOf: (row: T) => string,
  where: (row: T) => string = () => '',
): AsyncGenerator<{ query: string; rows: T[] }> {
  const seen = new Set<string>();
  let current: { query: string; rows: T[] } | undefined;
  for await (const row of rows) {
    const query = queryOf(row);
    if (current && current.query === query) {
      current.rows.push(row);
      continue;
    }
    if (current) yield current;
    if (seen.has(query)) {
      const at = where(row);
      throw new DataError(
        `${at ? `${at}: ` : ''}query "${query}" appears again after its rows ended; rows of a query must be adjacent ` +
          '(sort by the query column, or group in any order with QueryBuffer)',
      );
    }
    seen.add(query);
    current = { query, rows: [row] };
  }
  if (current) yield current;
}

/**
 * Rows in any order: keeps only each row's score and gain (two numbers) per query until the input
 * ends, then hands the queries out in first-seen order, releasing each one as it goes.
 */
export class QueryBuffer {
  private readonly byQuery = new Map<string, { scores: number[]; gains: number[] }>();
  private count = 0;

  add(query: string, score: number, gain: number): void {
    let q = this.byQuery.get(query);
    if (!q) {
      q = { scores: [], gains: [] };
      this.byQuery.set(query, q);
    }
    q.scores.push(score);
    q.gains.push(gain);
    this.count++;
  }

  get rows(): number {
    return this.count;
  }

  *drain(): Generator<{ query: string; scores: number[]; gains: number[] }> {
    for (const [query, q] of this.byQuery) {
      this.byQuery.delete(query);
      this.count -= q.scores.length;
      yield { query, ...q };
    }
  }
}

export interface ScoredRow {
  query: string;
  score: number;
  gain: number;
}

/** Convenience over rows in any order: the averaged metrics of every query (see QueryBuffer). */
export function rankRows(rows: Iterable<ScoredRow>, opts: RankingStreamOptions = {}): RankingSummary {
  const buffer = new QueryBuffer();
  for (const r of rows) buffer.add(r.query, r.score, r.gain);
  const acc = new RankingAccumulator(opts);
  for (const q of buffer.drain()) acc.addQuery(q.query, q);
  return acc.summary();
}
