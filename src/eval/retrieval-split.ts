/**
 * Retrieval metrics of a bi-encoder split (`task: embedding`), the one definition training's
 * validation and `recsys eval` share: every distinct positive and hard negative of the split is the
 * corpus, every distinct anchor a query whose relevant items are the positives of its rows; each query
 * ranks the whole corpus by the dot product of unit-length sentence vectors (cosine).
 */
import { tokensOf, type TripletSplit } from '../data/triplet-shards.js';
import { RankingAccumulator, type RankingSummary } from './ranking-stream.js';

/** Cut-offs of the retrieval metrics (recall@10, ndcg@10, mrr@10, …). */
export const RETRIEVAL_K = [1, 5, 10] as const;

/** Every retrieval metric name (what early stopping and eval gates may name). */
export function retrievalMetricNames(): string[] {
  const names: string[] = [];
  for (const base of ['ndcg', 'recall', 'mrr', 'map', 'precision', 'hit_rate'])
    for (const k of RETRIEVAL_K) names.push(`${base}@${k}`);
  return names;
}

/** The split as queries over a corpus: texts as token ids, relevance as corpus positions. */
export interface RetrievalTask {
  queries: Int32Array[];
  relevant: Set<number>[];
  corpus: Int32Array[];
}

export function retrievalTask(s: TripletSplit): RetrievalTask {
  const corpus = new Map<string, number>();
  const corpusTexts: Int32Array[] = [];
  const docOf = (ids: Int32Array) => {
    const key = ids.join(',');
    let at = corpus.get(key);
    if (at === undefined) {
      at = corpusTexts.length;
      corpus.set(key, at);
      corpusTexts.push(ids);
    }
    return at;
  };
  const queries = new Map<string, { text: Int32Array; relevant: Set<number> }>();
  for (let i = 0; i < s.size; i++) {
    const anchor = tokensOf(s.anchor, i);
    const key = anchor.join(',');
    const q = queries.get(key) ?? { text: anchor, relevant: new Set<number>() };
    q.relevant.add(docOf(tokensOf(s.positive, i)));
    queries.set(key, q);
    const neg = tokensOf(s.negative, i);
    if (neg.length) docOf(neg);
  }
  const list = [...queries.values()];
  return { queries: list.map((q) => q.text), relevant: list.map((q) => q.relevant), corpus: corpusTexts };
}

/**
 * Rank the corpus for every query: `queryVectors` and `corpusVectors` are unit-length, row-major
 * [n, dim] in the task's order. Only the @k metrics are reported (full-depth ones would rank the
 * whole corpus, which the catalogue search never does).
 */
export function scoreRetrieval(
  task: RetrievalTask,
  queryVectors: Float32Array,
  corpusVectors: Float32Array,
  dim: number,
): RankingSummary {
  const acc = new RankingAccumulator({ k: RETRIEVAL_K });
  const n = task.corpus.length;
  const scores = new Float32Array(n);
  const gains = new Float32Array(n);
  task.queries.forEach((_, qi) => {
    for (let d = 0; d < n; d++) {
      let dot = 0;
      for (let h = 0; h < dim; h++) dot += queryVectors[qi * dim + h] * corpusVectors[d * dim + h];
      scores[d] = dot;
      gains[d] = task.relevant[qi].has(d) ? 1 : 0;
    }
    acc.addQuery(String(qi), { scores, gains });
  });
  const summary = acc.summary();
  const metrics: Record<string, number | null> = {};
  for (const [name, v] of Object.entries(summary.metrics)) if (name.includes('@')) metrics[name] = v;
  return { ...summary, metrics };
}
