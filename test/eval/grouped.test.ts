import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir, vocabPath } from '../helpers/cli.js';
import { py, reference, runPython } from '../helpers/python.js';
import { rankSchema } from '../../src/config/schema.js';
import { GroupedRanking, pairScoring } from '../../src/eval/grouped.js';
import { makeRun } from './fixtures.js';

/**
 * `recsys eval` on a grouped dataset (query–product pairs with data.group_column) reports per-query
 * ranking metrics; sklearn's ndcg_score on recsys's own predictions (the logits it wrote, turned into
 * expected ESCI gains, grouped by the query of each source row) must give the same averages within 1e-6.
 */

const ref = reference(py('sklearn', 'numpy', 'torch', 'transformers'));

/**
 * The first queries of data/pairs.csv, the first 8 judged products of each (the shop judges ~55 per query;
 * 8 keep ~90 queries of every split in a small sample), their rows adjacent, the split column kept.
 */
function pairsSample(file: string, rows: number): void {
  const [header, ...lines] = readFileSync(path.join(repoRoot, 'data/pairs.csv'), 'utf8').trim().split('\n');
  const perQuery = new Map<string, number>();
  const kept = lines.filter((l) => {
    const query = l.slice(0, l.indexOf(','));
    perQuery.set(query, (perQuery.get(query) ?? 0) + 1);
    return perQuery.get(query)! <= 8;
  });
  writeFileSync(file, `${[header, ...kept.slice(0, rows)].join('\n')}\n`);
}

function prepareGrouped(csv: string, out: string, extra: string[] = []) {
  const flags = ['--text-column', 'query', '--pair-column', 'product_title', '--label-column', 'esci_label'];
  const r = runCli([
    'prepare',
    '--input',
    csv,
    ...flags,
    '--split-column',
    'split',
    '--tokenizer',
    vocabPath,
    '--max-length',
    '32',
    '--out',
    out,
    '--no-progress',
    ...extra,
  ]);
  expect(r.code, r.stderr).toBe(0);
}

const SKLEARN = `
import csv, json, sys
import numpy as np
from sklearn.metrics import ndcg_score
pred_file, csv_file, split = sys.argv[1:4]
gains = {"Exact": 1.0, "Substitute": 0.1, "Complement": 0.01, "Irrelevant": 0.0}
with open(csv_file, newline="") as f:
    query_of = {i + 1: r["query_id"] for i, r in enumerate(csv.DictReader(f))}
groups = {}
for line in open(pred_file):
    p = json.loads(line)
    logits = np.array(p["logits"], dtype=np.float64)
    probs = np.exp(logits - logits.max()); probs /= probs.sum()
    labels = json.loads(sys.argv[4])
    score = float(sum(probs[i] * gains[l] for i, l in enumerate(labels)))
    groups.setdefault(query_of[p["row"]], []).append((score, gains[p["label"]]))
out = {}
for k in (1, 3, 5, 10):
    vals = [ndcg_score([[g for _, g in rows]], [[s for s, _ in rows]], k=k) for rows in groups.values()]
    out[f"ndcg@{k}"] = float(np.mean(vals))
out["n_queries"] = len(groups)
print(json.dumps(out))
`;

describe('recsys eval on a grouped dataset', () => {
  it.skipIf(ref.skip)('reports nDCG@k per query equal to sklearn ndcg_score averaged (1e-6)', () => {
    ref.require();
    const dir = tempDir('recsys-grouped-');
    const csv = path.join(dir, 'pairs.csv');
    pairsSample(csv, 700);
    const dataset = path.join(dir, 'dataset');
    prepareGrouped(csv, dataset, ['--group-column', 'query_id']);
    const run = path.join(dir, 'run');
    makeRun(dataset, run, ['--seed', '5']);
    const predictions = path.join(dir, 'pred.jsonl');
    const r = runCli(['eval', '--run', run, '--backend', 'cpu', '--json', '--predictions', predictions]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const ranking = report.ranking;
    expect(ranking.group_column).toBe('query_id');
    expect(ranking.n_queries).toBeGreaterThanOrEqual(10);
    const sk = JSON.parse(runPython(SKLEARN, [predictions, csv, 'test', JSON.stringify(report.labels)]));
    expect(ranking.n_queries).toBe(sk.n_queries);
    for (const k of [1, 3, 5, 10]) {
      const ours = ranking.metrics[`ndcg@${k}`];
      expect(Math.abs(ours - sk[`ndcg@${k}`]), `ndcg@${k}: recsys ${ours}, sklearn ${sk[`ndcg@${k}`]}`).toBeLessThan(
        1e-6,
      );
    }
    // The scores vary (a constant model would tie everything and prove little).
    const scores = readFileSync(predictions, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).logits[0]);
    expect(new Set(scores).size).toBeGreaterThan(scores.length / 2);

    // Gates on ranking metrics: a minimum above the value fails (exit 1), naming the metric.
    const gate = runCli(['eval', '--run', run, '--backend', 'cpu', '--min', 'ndcg@10=1.01', '--min', 'mrr=0']);
    expect(gate.code).toBe(1);
    expect(gate.stdout).toMatch(/gate FAIL ndcg@10 = 0\.\d{6}, needs >= 1\.01 \(--min\)/);
    expect(gate.stdout).toMatch(/gate PASS mrr = /);
    expect(gate.stdout).toMatch(/ranking per query_id \(score: expected gain/);

    // A baseline report with a higher nDCG fails the baseline gate; the same report passes.
    const base = path.join(dir, 'base.json');
    writeFileSync(base, r.stdout);
    expect(runCli(['eval', '--run', run, '--backend', 'cpu', '--baseline', base]).code).toBe(0);
    const better = JSON.parse(r.stdout);
    better.ranking.metrics['ndcg@10'] += 0.05;
    writeFileSync(base, JSON.stringify(better));
    const worse = runCli(['eval', '--run', run, '--backend', 'cpu', '--baseline', base]);
    expect(worse.code).toBe(1);
    expect(worse.stdout).toMatch(/gate FAIL ndcg@10 = .*baseline/);
  });

  it.skipIf(ref.skip)('refuses a ranking gate on a dataset without a group column', () => {
    ref.require();
    const dir = tempDir('recsys-grouped-');
    const csv = path.join(dir, 'pairs.csv');
    pairsSample(csv, 120);
    const dataset = path.join(dir, 'dataset');
    prepareGrouped(csv, dataset);
    const run = path.join(dir, 'run');
    makeRun(dataset, run, ['--seed', '5']);
    const r = runCli(['eval', '--run', run, '--backend', 'cpu', '--min', 'ndcg@10=0.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /ndcg@10 is a per-query ranking metric: it needs a dataset prepared with data.group_column/,
    );
  });

  it('scores rows by expected gain within their group; shards without the group column give no ranking', () => {
    const rank = rankSchema.parse({});
    const labels = ['Exact', 'Irrelevant'];
    const g = new GroupedRanking(labels, pairScoring(labels, rank), rank, 'query_id');
    g.add('r1', 'q1', [2, 0], 1); // scored high but Irrelevant
    g.add('r2', 'q1', [0, 2], 0); // scored low but Exact
    g.add('r3', 'q2', [0, 0], 1); // a query without a relevant item
    const s = g.summary()!;
    expect(s).toMatchObject({ n_queries: 2, n_without_relevant: 1, n_candidates: 3, group_column: 'query_id' });
    expect(s.metrics['mrr@10']).toBeCloseTo(0.25, 12); // q1: the Exact at rank 2; q2: 0
    expect(() => g.add('r4', null, [0, 0], 0)).toThrow(/r4: no group key/);
    const old = new GroupedRanking(labels, pairScoring(labels, rank), rank, 'query_id');
    old.add('r1', undefined, [0, 1], 0);
    expect(old.summary()).toBeUndefined();
  });
});
