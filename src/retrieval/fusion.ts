import type { Hit } from './store.js';

/** The constant of reciprocal-rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009), also LanceDB's default. */
export const RRF_K = 60;

/**
 * Reciprocal-rank fusion: an item's score is the sum over the rankings that hold it of 1 / (k + rank),
 * rank 1-based. It needs no calibration between BM25 scores and cosines, which live on unrelated
 * scales. Ties are ordered by id, so the output does not depend on the order of the lists.
 */
export function reciprocalRankFusion(rankings: readonly (readonly Hit[])[], limit: number, k = RRF_K): Hit[] {
  const scores = new Map<Hit['id'], number>();
  for (const ranking of rankings)
    ranking.forEach((h, i) => {
      scores.set(h.id, (scores.get(h.id) ?? 0) + 1 / (k + i + 1));
    });
  return [...scores]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, limit);
}

/** Candidates each list contributes before fusion: enough that an item ranked well by one list can win. */
export const FUSION_DEPTH = 100;

/** The retrieval functions of `search --fts` and `--hybrid` over an opened store. */
export function textRetrievers(
  store: import('./store.js').VectorStore,
  k: number,
  vector: (v: Float32Array, depth: number) => Promise<Hit[]>,
) {
  const depth = Math.max(k, FUSION_DEPTH);
  return {
    fts: async (q: { text?: string }) => store.fullText(q.text ?? '', k),
    hybrid: async (q: { text?: string; vector: Float32Array }) =>
      reciprocalRankFusion([await vector(q.vector, depth), await store.fullText(q.text ?? '', depth)], k),
    depth,
  };
}
