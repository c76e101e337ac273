import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rankQuery } from '../../src/eval/ranking.js';
import { parseRankingMetric, rankingMetricNames } from '../../src/eval/ranking.js';
import {
  groupContiguous,
  QueryBuffer,
  RankingAccumulator,
  type RankingSummary,
  rankRows,
} from '../../src/eval/ranking-stream.js';
import { DataError } from '../../src/lib/errors.js';
import { Rng } from '../../src/lib/rng.js';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { referencePython } from '../helpers/python.js';

/**
 * The ranking metrics against two references computed by scripts/make_ranking_reference.py:
 * sklearn (ndcg_score, dcg_score, average_precision_score) and an exhaustive average over every
 * ordering of the tied candidates, scored with the textbook definitions. The committed vectors
 * (test/fixtures/ranking/ranking.json) are checked, and the script runs live on them and on
 * freshly generated groups; without Python and sklearn the live checks fail.
 */

const TOL = 1e-6;
const KS = [1, 3, 5, 10];
const script = path.join(repoRoot, 'scripts/make_ranking_reference.py');
const fixture = path.join(repoRoot, 'test/fixtures/ranking/ranking.json');

interface Query {
  id: string;
  scores: number[];
  gains: number[];
  unretrieved_gains: number[];
}
interface Reference {
  k: number[];
  min_relevant_gain: number | null;
  per_query: { id: string; relevant: number; sklearn: Record<string, number>; exhaustive: Record<string, number> }[];
  mean: Record<string, number>;
  'sklearn_mean_ndcg@10': number | null;
  n_without_relevant: number;
}

function pythonCompute(queries: Query[], minRelevantGain: number | null): Reference {
  const dir = tempDir('recsys-ranking-');
  const input = path.join(dir, 'in.json');
  const output = path.join(dir, 'out.json');
  writeFileSync(input, JSON.stringify({ k: KS, min_relevant_gain: minRelevantGain, queries }));
  const r = spawnSync(referencePython(), [script, 'compute', input, output], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`make_ranking_reference.py compute failed (${r.status}): ${r.stderr}`);
  return JSON.parse(readFileSync(output, 'utf8'));
}

/** recsys on the queries; every reference value must agree. Returns the largest difference seen. */
function compareWith(queries: Query[], ref: Reference): number {
  const acc = new RankingAccumulator({ k: KS, minRelevantGain: ref.min_relevant_gain ?? undefined });
  let worst = 0;
  let compared = 0;
  queries.forEach((q, i) => {
    const ours = acc.addQuery(q.id, { scores: q.scores, gains: q.gains, unretrievedGains: q.unretrieved_gains });
    const want = ref.per_query[i];
    expect(want.id).toBe(q.id);
    expect(ours.relevant, q.id).toBe(want.relevant);
    for (const set of ['sklearn', 'exhaustive'] as const) {
      for (const [key, value] of Object.entries(want[set])) {
        const diff = Math.abs(ours.values[key] - value);
        worst = Math.max(worst, diff);
        compared++;
        expect(diff, `${q.id} ${key}: recsys ${ours.values[key]}, ${set} ${value}`).toBeLessThanOrEqual(TOL);
      }
    }
    expect(Object.keys(ours.values).sort()).toEqual(Object.keys(want.exhaustive).sort());
  });
  const summary = acc.summary();
  expect(summary.n_queries).toBe(queries.length);
  expect(summary.n_without_relevant).toBe(ref.n_without_relevant);
  for (const [key, value] of Object.entries(ref.mean)) {
    expect(Math.abs((summary.metrics[key] as number) - value), `mean ${key}`).toBeLessThanOrEqual(TOL);
  }
  expect(compared).toBeGreaterThan(queries.length * 10);
  return worst;
}

/** Seeded groups with ties, graded and ESCI gains, unretrieved judgments, groups larger than k. */
function randomQueries(seed: number, count: number): Query[] {
  const rng = new Rng(seed);
  const scales = [
    [1, 0.1, 0.01, 0],
    [0, 1, 2, 3],
  ];
  const queries: Query[] = [];
  for (let q = 0; q < count; q++) {
    const n = 2 + rng.int(22);
    const scale = scales[q % 2];
    const pool = Array.from({ length: n }, () => Math.round(rng.next() * 1000) / 100);
    // Ties: a few blocks of equal scores, at most 720 orderings in all (the exhaustive reference
    // enumerates them).
    const scores: number[] = [];
    let orderings = 1;
    for (let i = 0; i < n; ) {
      let size = Math.min(n - i, rng.next() < 0.3 ? 2 + rng.int(3) : 1);
      const perms = [1, 1, 2, 6, 24][size];
      if (orderings * perms > 720) size = 1;
      else orderings *= perms;
      for (let j = 0; j < size; j++) scores.push(pool[i]);
      i += size;
    }
    const gains = scores.map(() => scale[rng.int(4)]);
    const unretrieved = q % 4 === 3 ? [scale[rng.int(3)]] : [];
    queries.push({ id: `live${q}`, scores, gains, unretrieved_gains: unretrieved });
  }
  return queries;
}

describe('ranking metrics against sklearn and the exhaustive tie average', () => {
  const doc = JSON.parse(readFileSync(fixture, 'utf8')) as { queries: Query[]; references: Reference[] };

  it('match the committed reference vectors (relevant = gain > 0, and gain >= 0.5)', () => {
    expect(doc.references.map((r) => r.min_relevant_gain)).toEqual([null, 0.5]);
    for (const ref of doc.references) expect(compareWith(doc.queries, ref)).toBeLessThanOrEqual(1e-12);
  });

  it('the committed vectors are what the script computes with the installed sklearn (live)', () => {
    for (const committed of doc.references) {
      const live = pythonCompute(doc.queries, committed.min_relevant_gain);
      expect(live.per_query.length).toBe(committed.per_query.length);
      live.per_query.forEach((p, i) => {
        for (const set of ['sklearn', 'exhaustive'] as const) {
          expect(Object.keys(p[set]).sort()).toEqual(Object.keys(committed.per_query[i][set]).sort());
          for (const [key, v] of Object.entries(p[set])) {
            expect(Math.abs(v - committed.per_query[i][set][key]), `${p.id} ${key}`).toBeLessThanOrEqual(1e-12);
          }
        }
      });
    }
  });

  it('match a live reference on fresh seeded groups, sklearn nDCG@k averaged over queries within 1e-6', () => {
    const queries = randomQueries(2026, 60);
    expect(queries.some((q) => q.scores.length > 10 && new Set(q.scores).size < q.scores.length)).toBe(true);
    const ref = pythonCompute(queries, null);
    compareWith(queries, ref);
    // sklearn's ndcg_score per query, averaged over the queries it scores as they are (no
    // unretrieved judgments, two candidates or more), from rows handed over in any order.
    const plain = queries.filter((q, i) => q.unretrieved_gains.length === 0 && 'ndcg' in ref.per_query[i].sklearn);
    const sklearnMean =
      plain.reduce((s, q) => s + ref.per_query[queries.indexOf(q)].sklearn['ndcg@10'], 0) / plain.length;
    const rows = plain.flatMap((q) => q.scores.map((score, i) => ({ query: q.id, score, gain: q.gains[i] })));
    const summary: RankingSummary = rankRows(rows.reverse(), { k: KS });
    expect(summary.n_queries).toBe(plain.length);
    expect(Math.abs((summary.metrics['ndcg@10'] as number) - sklearnMean)).toBeLessThanOrEqual(TOL);
  });
});

describe('ranking conventions', () => {
  it('does not depend on the order of tied or untied candidates', () => {
    const scores = [0.5, 0.5, 0.9, 0.5, 0.1, 0.9];
    const gains = [1, 0, 0.1, 0.01, 1, 0];
    const base = rankQuery({ scores, gains }).values;
    const rng = new Rng(7);
    for (let t = 0; t < 20; t++) {
      const order = scores.map((_, i) => i).sort(() => rng.next() - 0.5);
      const shuffled = rankQuery({ scores: order.map((i) => scores[i]), gains: order.map((i) => gains[i]) }).values;
      for (const key of Object.keys(base)) expect(shuffled[key]).toBeCloseTo(base[key], 12);
    }
  });

  it('every candidate tied: the mean over orderings', () => {
    // One relevant among 4 tied: hit@1 = 1/4, MRR = mean of 1, 1/2, 1/3, 1/4.
    const v = rankQuery({ scores: [1, 1, 1, 1], gains: [0, 1, 0, 0] }).values;
    expect(v['hit_rate@1']).toBeCloseTo(0.25, 12);
    expect(v.mrr).toBeCloseTo((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4, 12);
    expect(v['precision@3']).toBeCloseTo(0.25, 12);
    expect(v['recall@3']).toBeCloseTo(0.75, 12);
  });

  it('counts queries without a relevant item and keeps them in the averages unless told to exclude them', () => {
    const add = (acc: RankingAccumulator) => {
      acc.addQuery('a', { scores: [2, 1], gains: [1, 0] });
      acc.addQuery('b', { scores: [2, 1], gains: [0, 0] });
      acc.addQuery('c', { scores: [2, 1], gains: [0.1, 0] });
      return acc.summary();
    };
    const zero = add(new RankingAccumulator({ k: [1], minRelevantGain: 0.5 }));
    expect(zero).toMatchObject({ n_queries: 3, n_without_relevant: 2, n_averaged: 3, relevant_if: 'gain >= 0.5' });
    expect(zero.metrics['ndcg@1']).toBeCloseTo(2 / 3, 12); // c's nDCG uses its gains: 1
    expect(zero.metrics['recall@1']).toBeCloseTo(1 / 3, 12);
    const excluded = add(new RankingAccumulator({ k: [1], minRelevantGain: 0.5, withoutRelevant: 'exclude' }));
    expect(excluded).toMatchObject({ n_queries: 3, n_without_relevant: 2, n_averaged: 1 });
    expect(excluded.metrics['recall@1']).toBe(1);
    expect(new RankingAccumulator().summary().metrics.ndcg).toBeNull();
  });

  it('unretrieved judgments count in the ideal and in recall, never as retrieved', () => {
    const v = rankQuery({ scores: [3, 2], gains: [1, 0], unretrievedGains: [1] }, { k: [5] }).values;
    expect(v['recall@5']).toBe(0.5);
    expect(v['ndcg@5']).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 12);
    expect(v['map@5']).toBe(0.5);
    expect(rankQuery({ scores: [], gains: [], unretrievedGains: [1] }).values.ndcg).toBe(0);
  });

  it('rejects bad candidates with one-line DataErrors naming the query', () => {
    expect(() => rankQuery({ scores: [1, 2], gains: [1] }, {}, 'q7')).toThrow(/^query "q7": 2 scores but 1 gains$/);
    expect(() => rankQuery({ scores: [1, Number.NaN], gains: [1, 0] }, {}, 'q7')).toThrow(
      'query "q7": candidate 1 has score NaN',
    );
    expect(() => rankQuery({ scores: [1], gains: [-1] }, {}, 'q7')).toThrow(
      'query "q7": candidate 0 has gain -1; gains must be finite and >= 0',
    );
    expect(() => rankQuery({ scores: [1], gains: [1] }, { k: [0] })).toThrow(DataError);
    const acc = new RankingAccumulator();
    acc.addQuery('q', { scores: [1], gains: [1] });
    expect(() => acc.addQuery('q', { scores: [1], gains: [1] })).toThrow('query "q" was added twice');
  });

  it('metric names parse back for gates', () => {
    expect(rankingMetricNames([10])).toEqual([
      'ndcg',
      'dcg',
      'recall',
      'mrr',
      'map',
      'ndcg@10',
      'dcg@10',
      'recall@10',
      'precision@10',
      'hit_rate@10',
      'mrr@10',
      'map@10',
    ]);
    expect(parseRankingMetric('ndcg@10')).toEqual({ metric: 'ndcg', k: 10 });
    expect(parseRankingMetric('map')).toEqual({ metric: 'map' });
    expect(parseRankingMetric('precision')).toBeUndefined();
    expect(parseRankingMetric('ndcg@0')).toBeUndefined();
    expect(parseRankingMetric('accuracy')).toBeUndefined();
  });
});

describe('grouping rows by query', () => {
  it('groupContiguous yields one query at a time and refuses a query that comes back', async () => {
    const rows = [
      { q: 'a', n: 1 },
      { q: 'a', n: 2 },
      { q: 'b', n: 3 },
    ];
    const groups = [];
    for await (const g of groupContiguous(rows, (r) => r.q)) groups.push([g.query, g.rows.map((r) => r.n)]);
    expect(groups).toEqual([
      ['a', [1, 2]],
      ['b', [3]],
    ]);
    const back = groupContiguous(
      [...rows, { q: 'a', n: 4 }],
      (r) => r.q,
      (r) => `preds.jsonl:${r.n}`,
    );
    await expect(async () => {
      for await (const _ of back) {
        /* drain */
      }
    }).rejects.toThrow(
      /^preds\.jsonl:4: query "a" appears again after its rows ended; rows of a query must be adjacent/,
    );
  });

  it('QueryBuffer takes rows in any order and gives the same metrics as whole groups', () => {
    const buffer = new QueryBuffer();
    const rows: [string, number, number][] = [
      ['x', 0.2, 1],
      ['y', 0.9, 0],
      ['x', 0.8, 0],
      ['y', 0.1, 3],
    ];
    for (const [q, s, g] of rows) buffer.add(q, s, g);
    expect(buffer.rows).toBe(4);
    const drained = [...buffer.drain()];
    expect(drained).toEqual([
      { query: 'x', scores: [0.2, 0.8], gains: [1, 0] },
      { query: 'y', scores: [0.9, 0.1], gains: [0, 3] },
    ]);
    expect(buffer.rows).toBe(0);
    const summary = rankRows(rows.map(([query, score, gain]) => ({ query, score, gain })));
    expect(summary.metrics['mrr@1']).toBe(0);
    expect(summary.metrics.mrr).toBe(0.5);
  });
});
