import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { judgeHits, readQrels } from '../../src/eval/qrels.js';
import { RankingAccumulator } from '../../src/eval/ranking-stream.js';
import { readJsonLines, repoRoot, runCli, tempDir, vocabPath } from '../helpers/cli.js';

/**
 * recsys rank on a small random pair classifier (labels apparel, electronics, home): its scores equal
 * softmax(predict's logits) of the same pairs, each query's candidates come out best first, search
 * hits joined with the query and catalogue files give the same ranking as the equivalent candidates
 * file, qrels metrics equal the ranking module on the written output, and gates / baselines exit 1.
 */

const root = tempDir('recsys-rank-');
const modelDir = path.join(root, 'model');
const candidates = path.join(root, 'candidates.csv');
const catalogue = path.join(root, 'catalogue.csv');
const queries = path.join(root, 'queries.csv');
const hits = path.join(root, 'hits.jsonl');
const qrels = path.join(root, 'qrels.csv');
const WORDS = 'a b c d e f g h i j k l m n o p'.split(' ');
const text = (i: number) => Array.from({ length: 2 + (i % 4) }, (_, j) => WORDS[(i * 5 + j * 3) % 16]).join(' ');
const SCORE = ['--score', 'label_probability', '--score-label', 'apparel'];

beforeAll(() => {
  mkdirSync(modelDir);
  const fixture = path.join(repoRoot, 'test/fixtures/reference/cls-l2-h64');
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(path.join(fixture, f), path.join(modelDir, f));
  const lines = readFileSync(vocabPath, 'utf8').split('\n');
  writeFileSync(
    path.join(modelDir, 'vocab.txt'),
    `${[...lines.slice(0, 104), ...lines.slice(999, 999 + 896)].join('\n')}\n`,
  );
  writeFileSync(catalogue, `pid,title\n${Array.from({ length: 30 }, (_, i) => `p${i},${text(i)}`).join('\n')}\n`);
  writeFileSync(queries, `qid,q\n${Array.from({ length: 4 }, (_, i) => `q${i},${text(i * 7 + 3)}`).join('\n')}\n`);
  const rows = ['qid,q,pid,title'];
  const hitLines: string[] = [];
  for (let q = 0; q < 4; q++) {
    const ids = Array.from({ length: 6 }, (_, j) => (q * 5 + j * 4) % 30);
    for (const i of ids) rows.push(`q${q},${text(q * 7 + 3)},p${i},${text(i)}`);
    hitLines.push(JSON.stringify({ query_id: `q${q}`, hits: ids.map((i, r) => ({ id: `p${i}`, score: 1 - r / 10 })) }));
  }
  writeFileSync(candidates, `${rows.join('\n')}\n`);
  writeFileSync(hits, `${hitLines.join('\n')}\n`);
  writeFileSync(
    qrels,
    'query_id,product_id,esci_label\nq0,p0,Exact\nq0,p4,Substitute\nq1,p9,Exact\nq2,p29,Exact\nq9,p1,Exact\n',
  );
});

const rank = (out: string, extra: string[] = []) =>
  runCli([
    'rank',
    '--model',
    modelDir,
    ...SCORE,
    '--query-column',
    'q',
    '--text-column',
    'title',
    '--group-column',
    'qid',
    '--id-column',
    'pid',
    '--output',
    out,
    '--no-progress',
    ...extra,
  ]);

describe('recsys rank', () => {
  it('scores equal softmax of predict logits, best first; --hits + catalogue ranks like the candidates file', () => {
    const out = path.join(root, 'ranked.jsonl');
    const r = rank(out, ['--candidates', candidates]);
    expect(r.code, r.stderr).toBe(0);
    const ranked = readJsonLines(out);
    expect(ranked.map((l) => l.query_id)).toEqual(['q0', 'q1', 'q2', 'q3']);
    const pred = path.join(root, 'pred.jsonl');
    const p = runCli([
      'predict',
      '--model',
      modelDir,
      '--input',
      candidates,
      '--text-column',
      'q',
      '--pair-column',
      'title',
      '--output',
      pred,
      '--logits',
      '--no-progress',
    ]);
    expect(p.code, p.stderr).toBe(0);
    const probs = readJsonLines(pred).map((l) => {
      const e = l.logits.map((x: number) => Math.exp(x - Math.max(...l.logits)));
      return e[0] / e.reduce((a: number, b: number) => a + b, 0);
    });
    const source = readFileSync(candidates, 'utf8').trim().split('\n').slice(1);
    const scores = new Set<number>();
    for (const line of ranked) {
      for (let i = 1; i < line.hits.length; i++)
        expect(line.hits[i - 1].score).toBeGreaterThanOrEqual(line.hits[i].score);
      for (const h of line.hits) {
        const row = source.findIndex((s) => s.startsWith(`${line.query_id},`) && s.split(',')[2] === h.id);
        expect(Math.abs(h.score - probs[row])).toBeLessThan(1e-6);
        scores.add(h.score);
      }
    }
    expect(scores.size).toBeGreaterThan(12); // the scores vary: the order is the model's, not the input's
    const joined = path.join(root, 'ranked-hits.jsonl');
    const j = rank(joined, ['--hits', hits, '--queries', queries, '--catalogue', catalogue]);
    expect(j.code, j.stderr).toBe(0);
    const fromHits = readJsonLines(joined);
    for (const [i, line] of fromHits.entries()) {
      expect(line.hits.map((h: { id: string }) => h.id)).toEqual(ranked[i].hits.map((h: { id: string }) => h.id));
      expect(line.hits.every((h: { retrieval_score?: number }) => typeof h.retrieval_score === 'number')).toBe(true);
    }
  });

  it('--qrels metrics equal the ranking module on the written output; --min and --baseline gates exit 1', async () => {
    const out = path.join(root, 'ranked-q.jsonl');
    const r = rank(out, ['--candidates', candidates, '--qrels', qrels, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const judged = await readQrels(qrels);
    const acc = new RankingAccumulator({ k: [1, 3, 5, 10] });
    for (const line of readJsonLines(out)) {
      const j = judgeHits(judged, line.query_id, line.hits);
      if (j.judged) acc.addQuery(line.query_id, j);
    }
    const want = acc.summary();
    expect(report.ranking.n_queries).toBe(3);
    expect(report.ranking.n_unjudged).toBe(1);
    for (const [name, v] of Object.entries(want.metrics))
      expect(report.ranking.metrics[name]).toBeCloseTo(v as number, 12);

    const fail = rank(out, ['--candidates', candidates, '--qrels', qrels, '--min', 'ndcg@10=1.01']);
    expect(fail.code).toBe(1);
    expect(fail.stdout).toMatch(/gate FAIL ndcg@10 = 0\.\d{6}, needs >= 1\.01 \(--min\)/);
    const base = path.join(root, 'base.json');
    writeFileSync(base, r.stdout);
    expect(rank(out, ['--candidates', candidates, '--qrels', qrels, '--baseline', base]).code).toBe(0);
    report.ranking.metrics['ndcg@10'] += 0.1;
    writeFileSync(base, JSON.stringify(report));
    const drop = rank(out, ['--candidates', candidates, '--qrels', qrels, '--baseline', base, '--max-drop', '0.05']);
    expect(drop.code).toBe(1);
    expect(drop.stdout).toMatch(/gate FAIL ndcg@10 = .* \(baseline .* minus max drop 0\.05\)/);
  });

  it('rejects unusable rows into a rejects file, refuses split queries and bad flags in one line', () => {
    const bad = path.join(root, 'bad.csv');
    writeFileSync(bad, 'qid,q,pid,title\nq0,a b,p1,c d\nq1,e,p3,e f\nq0,a b,p4,g h\n');
    const out = path.join(root, 'ranked-bad.jsonl');
    const r = rank(out, ['--candidates', bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/row 3: query "q0" appears again after its rows ended/);
    expect(existsSync(out)).toBe(false);
    writeFileSync(bad, 'qid,q,pid,title\nq0,a b,p1,c d\nq0,a b,p2,\nq1,,p3,e f\n');
    const ok = rank(out, ['--candidates', bad]);
    expect(ok.code, ok.stderr).toBe(0);
    const rejects = readFileSync(out.replace('.jsonl', '.rejects.csv'), 'utf8');
    expect(rejects).toMatch(/^2,3,"?empty or missing text \(column ""?title""?\)/m);
    expect(rejects).toMatch(/^3,4,"?empty or missing query text/m);
    const both = rank(out, ['--candidates', bad, '--hits', hits]);
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
    const gates = rank(out, ['--candidates', bad, '--min', 'ndcg@10=0.5']);
    expect(gates.code).toBe(2);
    expect(gates.stderr).toMatch(/gates need --qrels/);
  });
});
