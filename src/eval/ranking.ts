/**
 * Per-query ranking metrics over plain numbers (no tfjs): nDCG@k and DCG@k exactly as
 * `sklearn.metrics.ndcg_score` / `dcg_score` (linear gains, log2 discount, tied scores averaged),
 * and recall@k, precision@k, hit rate@k, MRR@k and average precision under the same tie rule.
 *
 * Ties: candidates with exactly equal scores form a group, and every metric is its expected value
 * over all orderings of each group (McSherry & Najork, ECIR 2008, which sklearn's
 * `_tie_averaged_dcg` cites). A ranking therefore never depends on the order the rows arrived in:
 * a model that scores every candidate alike gets the average of all orderings, not the credit of
 * a file sorted by relevance.
 *
 * Unretrieved judgments (`unretrievedGains`: judged items that are not among the candidates, as
 * when `search` returns top-k hits) count in the ideal DCG and in the number of relevant items,
 * and never as retrieved (the trec_eval convention). With k <= the number of candidates this is
 * sklearn with those items appended below every candidate.
 */
import { DataError } from '../lib/errors.js';

export const DEFAULT_K = [1, 3, 5, 10] as const;

export interface RelevanceOptions {
  /** A candidate is relevant when its gain is >= this; unset: when its gain is > 0. */
  minRelevantGain?: number;
}

export interface RankingOptions extends RelevanceOptions {
  /** Cut-offs for the @k metrics (default 1, 3, 5, 10). */
  k?: readonly number[];
}

/** One query's candidates: parallel arrays of model scores and gains (graded relevance). */
export interface QueryCandidates {
  scores: ArrayLike<number>;
  gains: ArrayLike<number>;
  /** Gains of judged items that are not among the candidates. */
  unretrievedGains?: ArrayLike<number>;
}

/** Metric names: `ndcg@K`, `dcg@K`, `recall@K`, `precision@K`, `hit_rate@K`, `mrr@K`, `map@K`, and the
 * full-depth `ndcg`, `dcg`, `recall`, `mrr`, `map` (over every candidate). */
export type RankingValues = Record<string, number>;

export interface QueryRankingResult {
  candidates: number;
  /** Relevant items: among the candidates plus unretrieved ones. */
  relevant: number;
  values: RankingValues;
}

/** Metrics that have a full-depth value next to their @k values. */
export const FULL_DEPTH_METRICS = ['ndcg', 'dcg', 'recall', 'mrr', 'map'] as const;
export const AT_K_METRICS = ['ndcg', 'dcg', 'recall', 'precision', 'hit_rate', 'mrr', 'map'] as const;

/** log2 discounts 1/log2(i + 2), grown on demand; computed as sklearn does (1 / (ln(i+2) / ln 2)). */
const discountCache: number[] = [];
function discount(i: number): number {
  for (let j = discountCache.length; j <= i; j++) discountCache.push(1 / (Math.log(j + 2) / Math.LN2));
  return discountCache[i];
}

/** Sum of discounts over 0-based positions [from, to). */
function discountSum(from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += discount(i);
  return s;
}

export function isRelevant(gain: number, opts: RelevanceOptions): boolean {
  return opts.minRelevantGain === undefined ? gain > 0 : gain >= opts.minRelevantGain;
}

/** A block of tied candidates in rank order: `start` is its first 0-based position. */
interface TieGroup {
  start: number;
  size: number;
  gainSum: number;
  relevant: number;
}

function checkCandidates(c: QueryCandidates, query: string): void {
  if (c.scores.length !== c.gains.length) {
    throw new DataError(`query "${query}": ${c.scores.length} scores but ${c.gains.length} gains`);
  }
  for (let i = 0; i < c.scores.length; i++) {
    if (!Number.isFinite(c.scores[i])) throw new DataError(`query "${query}": candidate ${i} has score ${c.scores[i]}`);
  }
  for (const [what, gains] of [
    ['candidate', c.gains],
    ['unretrieved judgment', c.unretrievedGains ?? []],
  ] as const) {
    for (let i = 0; i < gains.length; i++) {
      const g = gains[i];
      if (!Number.isFinite(g) || g < 0) {
        throw new DataError(`query "${query}": ${what} ${i} has gain ${g}; gains must be finite and >= 0`);
      }
    }
  }
}

/** Candidates in descending score order, as blocks of exactly equal scores (-0 equals 0, as in numpy). */
function tieGroups(c: QueryCandidates, opts: RelevanceOptions): TieGroup[] {
  const order = Array.from({ length: c.scores.length }, (_, i) => i).sort((a, b) => c.scores[b] - c.scores[a]);
  const groups: TieGroup[] = [];
  let group: TieGroup | undefined;
  order.forEach((i, rank) => {
    if (!group || c.scores[order[rank - 1]] !== c.scores[i]) {
      group = { start: rank, size: 0, gainSum: 0, relevant: 0 };
      groups.push(group);
    }
    group.size++;
    group.gainSum += c.gains[i];
    if (isRelevant(c.gains[i], opts)) group.relevant++;
  });
  return groups;
}

/** sklearn's _tie_averaged_dcg: each group's mean gain times the discounts of its positions below k. */
function dcgAt(groups: TieGroup[], k: number): number {
  let dcg = 0;
  for (const g of groups) {
    if (g.start >= k) break;
    dcg += (g.gainSum / g.size) * discountSum(g.start, Math.min(g.start + g.size, k));
  }
  return dcg;
}

function idealDcgAt(sortedGains: number[], k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, sortedGains.length); i++) dcg += sortedGains[i] * discount(i);
  return dcg;
}

/** Expected number of relevant candidates in the top k. */
function relevantInTop(groups: TieGroup[], k: number): number {
  let n = 0;
  for (const g of groups) {
    if (g.start >= k) break;
    n += (g.relevant * (Math.min(g.start + g.size, k) - g.start)) / g.size;
  }
  return n;
}

/** Probability that at least one relevant candidate is in the top k. */
function hitAt(groups: TieGroup[], k: number): number {
  for (const g of groups) {
    if (g.start >= k) return 0;
    if (g.relevant === 0) continue;
    // C(size - relevant, m) / C(size, m): no relevant one among the group's m slots above k.
    const m = Math.min(g.size, k - g.start);
    let none = 1;
    for (let i = 0; i < m; i++) none *= Math.max(0, g.size - g.relevant - i) / (g.size - i);
    return 1 - none;
  }
  return 0;
}

/** Expected reciprocal rank of the first relevant candidate, 0 when it falls below k. */
function reciprocalRankAt(groups: TieGroup[], k: number): number {
  for (const g of groups) {
    if (g.start >= k) return 0;
    if (g.relevant === 0) continue;
    let rr = 0;
    let noneYet = 1; // probability that the first j-1 slots of the group hold no relevant candidate
    for (let j = 1; j <= g.size && g.start + j <= k; j++) {
      rr += (noneYet * (g.relevant / (g.size - j + 1))) / (g.start + j);
      noneYet *= Math.max(0, g.size - g.relevant - (j - 1)) / (g.size - j + 1);
    }
    return rr;
  }
  return 0;
}

/**
 * Expected average precision at k: (1/R) * sum over relevant candidates ranked <= k of the precision
 * at their rank, R = all relevant items (trec_eval's `map`/`map_cut`). In a group of size g with r
 * relevant, a relevant candidate at slot p has on average (p-1)(r-1)/(g-1) relevant ones before it
 * inside the group.
 */
function averagePrecisionAt(groups: TieGroup[], k: number, totalRelevant: number): number {
  if (totalRelevant === 0) return 0;
  let sum = 0;
  let relevantBefore = 0;
  for (const g of groups) {
    if (g.start >= k) break;
    if (g.relevant > 0) {
      for (let p = 1; p <= g.size && g.start + p <= k; p++) {
        const inGroupBefore = g.size > 1 ? ((p - 1) * (g.relevant - 1)) / (g.size - 1) : 0;
        sum += ((g.relevant / g.size) * (relevantBefore + 1 + inGroupBefore)) / (g.start + p);
      }
    }
    relevantBefore += g.relevant;
  }
  return sum / totalRelevant;
}

/** Every metric of one query. `query` only names the query in error messages. */
export function rankQuery(c: QueryCandidates, opts: RankingOptions = {}, query = '?'): QueryRankingResult {
  checkCandidates(c, query);
  const ks = opts.k ?? DEFAULT_K;
  const groups = tieGroups(c, opts);
  const unretrieved = Array.from(c.unretrievedGains ?? []);
  const sortedGains = [...Array.from(c.gains), ...unretrieved].sort((a, b) => b - a);
  const relevant = groups.reduce((s, g) => s + g.relevant, 0) + unretrieved.filter((g) => isRelevant(g, opts)).length;
  const n = c.scores.length;
  const values: RankingValues = {};
  const atDepth = (k: number, suffix: string, withPrecision: boolean) => {
    const dcg = dcgAt(groups, k);
    const ideal = idealDcgAt(sortedGains, k);
    const hits = relevantInTop(groups, k);
    values[`ndcg${suffix}`] = ideal > 0 ? dcg / ideal : 0;
    values[`dcg${suffix}`] = dcg;
    values[`recall${suffix}`] = relevant > 0 ? hits / relevant : 0;
    values[`mrr${suffix}`] = reciprocalRankAt(groups, k);
    values[`map${suffix}`] = averagePrecisionAt(groups, k, relevant);
    if (withPrecision) {
      values[`precision${suffix}`] = hits / k;
      values[`hit_rate${suffix}`] = hitAt(groups, k);
    }
  };
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw new DataError(`ranking cut-off k must be a positive integer, got ${k}`);
    atDepth(k, `@${k}`, true);
  }
  atDepth(Math.max(n, sortedGains.length), '', false);
  return { candidates: n, relevant, values };
}

/** Metric names in report order for the given cut-offs. */
export function rankingMetricNames(ks: readonly number[] = DEFAULT_K): string[] {
  return [...FULL_DEPTH_METRICS, ...AT_K_METRICS.flatMap((m) => ks.map((k) => `${m}@${k}`))];
}

/** `ndcg@10` → {metric: 'ndcg', k: 10}; `map` → {metric: 'map'}; anything else → undefined. */
export function parseRankingMetric(name: string): { metric: string; k?: number } | undefined {
  const m = /^([a-z_]+)(?:@([1-9]\d*))?$/.exec(name);
  if (!m) return undefined;
  const [, metric, k] = m;
  if (k !== undefined)
    return (AT_K_METRICS as readonly string[]).includes(metric) ? { metric, k: Number(k) } : undefined;
  return (FULL_DEPTH_METRICS as readonly string[]).includes(metric) ? { metric } : undefined;
}
