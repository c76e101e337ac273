import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from '../../src/retrieval/fusion.js';
import { repoRoot, runCli, tempDir, vocabPath } from '../helpers/cli.js';
import { py, reference, runPython } from '../helpers/python.js';

/**
 * Full-text and hybrid search on the sample shop (data/catalogue.csv, the test queries of
 * data/queries.csv): `index --texts` builds LanceDB's BM25 index, `search --fts` agrees with rank-bm25
 * on the same texts (loosely: the tokenizers and the idf formula differ by design), `search --hybrid`
 * is exactly the reciprocal-rank fusion of the vector and BM25 top-100 lists, and `--baseline` gates.
 */

const root = tempDir('recsys-hybrid-');
const modelDir = path.join(root, 'model');
const emb = path.join(root, 'emb');
const index = path.join(root, 'index');
const queries = path.join(root, 'queries.csv');
const qrels = path.join(repoRoot, 'data/qrels.csv');
const catalogue = path.join(repoRoot, 'data/catalogue.csv');
const ref = reference(py('rank_bm25'));

beforeAll(() => {
  mkdirSync(modelDir);
  const fixture = path.join(repoRoot, 'test/fixtures/reference/cls-l2-h64');
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(path.join(fixture, f), path.join(modelDir, f));
  const lines = readFileSync(vocabPath, 'utf8').split('\n');
  writeFileSync(
    path.join(modelDir, 'vocab.txt'),
    `${[...lines.slice(0, 104), ...lines.slice(999, 999 + 896)].join('\n')}\n`,
  );
  const all = readFileSync(path.join(repoRoot, 'data/queries.csv'), 'utf8').trim().split('\n');
  writeFileSync(
    queries,
    `${[
      all[0],
      ...all
        .slice(1)
        .filter((l) => l.endsWith(',test'))
        .slice(0, 40),
    ].join('\n')}\n`,
  );
  const e = runCli([
    'embed',
    '--model',
    modelDir,
    '--input',
    catalogue,
    '--text-column',
    'title',
    '--id-column',
    'product_id',
    '--out',
    emb,
    '--no-progress',
  ]);
  if (e.code !== 0) throw new Error(e.stderr);
  const i = runCli(['index', '--vectors', emb, '--out', index, '--texts', catalogue, '--text-column', 'title']);
  if (i.code !== 0) throw new Error(i.stderr);
}, 300_000);

const search = (out: string, extra: string[]) =>
  runCli([
    'search',
    '--index',
    index,
    '--queries',
    queries,
    '--text-column',
    'query',
    '--id-column',
    'query_id',
    '--output',
    out,
    ...extra,
  ]);
const readHits = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { query_id: string; hits: { id: string; score: number }[] });

describe('search --fts / --hybrid', () => {
  it('records the text index in the manifest; --fts needs no model and ranks like rank-bm25', () => {
    ref.require();
    const m = JSON.parse(readFileSync(path.join(index, 'manifest.json'), 'utf8'));
    expect(m.text).toMatchObject({ column: 'title', id_column: 'product_id', count: 4374, scoring: 'bm25' });
    const out = path.join(root, 'fts.jsonl');
    const r = search(out, ['--fts', '--k', '10']);
    expect(r.code, r.stderr).toBe(0);
    const ours = readHits(out);
    const code = `
import csv, json, re, sys
from rank_bm25 import BM25Okapi
tok = lambda s: re.findall(r"[a-z0-9]+", s.lower())
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
bm25 = BM25Okapi([tok(r["title"]) for r in rows], k1=1.2, b=0.75)
out = {}
for q in csv.DictReader(open(sys.argv[2], newline="")):
    s = bm25.get_scores(tok(q["query"]))
    order = sorted(range(len(rows)), key=lambda i: -s[i])[:10]
    out[q["query_id"]] = [rows[i]["product_id"] for i in order]
print(json.dumps(out))`;
    const theirs = JSON.parse(runPython(code, [catalogue, queries])) as Record<string, string[]>;
    let overlap = 0;
    let top1 = 0;
    for (const q of ours) {
      const want = new Set(theirs[q.query_id]);
      overlap += q.hits.filter((h) => want.has(h.id)).length / 10;
      if (theirs[q.query_id][0] === q.hits[0]?.id) top1++;
    }
    // Measured on these 40 queries: top-10 overlap 0.85, the same best hit for 0.85 (BM25 ties are broken
    // differently; a query sharing no word with any title has no BM25 hit at all in LanceDB).
    expect(overlap / ours.length).toBeGreaterThan(0.6);
    expect(top1 / ours.length).toBeGreaterThan(0.5);
  });

  it('--hybrid is the reciprocal-rank fusion of the vector and BM25 top-100', () => {
    const [vec, fts, hyb] = ['vec', 'fts100', 'hybrid'].map((n) => path.join(root, `${n}.jsonl`));
    expect(search(vec, ['--model', modelDir, '--k', '100']).code).toBe(0);
    expect(search(fts, ['--fts', '--k', '100']).code).toBe(0);
    const r = search(hyb, ['--model', modelDir, '--hybrid', '--k', '10', '--qrels', qrels]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recall@10 [\d.]+ {2}ndcg@10 [\d.]+/);
    const v = readHits(vec);
    const f = readHits(fts);
    for (const [i, q] of readHits(hyb).entries()) {
      const want = reciprocalRankFusion([v[i].hits, f[i].hits], 10);
      expect(q.hits.map((h) => h.id)).toEqual(want.map((h) => h.id));
      for (const [j, h] of q.hits.entries()) expect(h.score).toBeCloseTo(want[j].score, 12);
    }
  });

  it('--baseline: a previous --json report; a drop beyond --max-drop exits 1, naming the metric', () => {
    const out = path.join(root, 'b.jsonl');
    const first = search(out, ['--fts', '--qrels', qrels, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const base = path.join(root, 'base.json');
    writeFileSync(base, first.stdout);
    expect(search(out, ['--fts', '--qrels', qrels, '--baseline', base]).code).toBe(0);
    const better = JSON.parse(first.stdout);
    better.ranking.metrics['recall@10'] += 0.2;
    writeFileSync(base, JSON.stringify(better));
    const drop = search(out, ['--fts', '--qrels', qrels, '--baseline', base, '--max-drop', '0.1']);
    expect(drop.code).toBe(1);
    expect(drop.stderr).toMatch(
      /gate FAIL recall@10 = [\d.]+, needs >= [\d.]+ \(baseline [\d.]+ minus max drop 0\.1\)/,
    );
    const noQrels = search(out, ['--fts', '--baseline', base]);
    expect(noQrels.code).toBe(2);
    expect(noQrels.stderr).toMatch(/gates need --qrels/);
  });
});
