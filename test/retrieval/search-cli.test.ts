import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { judgeHits, readQrels } from '../../src/eval/qrels.js';
import { RankingAccumulator } from '../../src/eval/ranking-stream.js';
import { repoRoot, runCli, tempDir, vocabPath } from '../helpers/cli.js';
import { bruteForceTopK } from './fixtures.js';

/**
 * recsys embed → index → search on a small random checkpoint, as a user runs them: hits equal a
 * float64 brute-force cosine top-k over embeddings.arrow, queries embedded with the index's model
 * (another is refused), item-to-item neighbours, qrels metrics and gates, atomic output.
 */

const root = tempDir('recsys-search-');
const modelDir = path.join(root, 'model');
const otherTokenizer = path.join(root, 'model-other-vocab');
const items = path.join(root, 'items.csv');
const queries = path.join(root, 'queries.csv');
const qrelsFile = path.join(root, 'qrels.tsv');
const emb = path.join(root, 'emb');
const index = path.join(root, 'index');
const WORDS = 'a b c d e f g h i j k l m n o p'.split(' ');

/**
 * The reference checkpoint (vocab_size 1000) with a 1000-token vocab: the special tokens, then the
 * WordPiece vocab's characters and first words, so the texts tokenise to distinct ids and their
 * vectors differ. `shift` rotates the word ids: another tokenizer for the same weights.
 */
function modelFrom(dir: string, shift: number) {
  mkdirSync(dir);
  const fixture = path.join(repoRoot, 'test/fixtures/reference/cls-l2-h64');
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(path.join(fixture, f), path.join(dir, f));
  const lines = readFileSync(vocabPath, 'utf8').split('\n');
  const words = lines.slice(999, 999 + 896);
  const vocab = [...lines.slice(0, 104), ...words.slice(shift), ...words.slice(0, shift)];
  writeFileSync(path.join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
}

beforeAll(() => {
  modelFrom(modelDir, 0);
  modelFrom(otherTokenizer, 7);
  const text = (i: number) => Array.from({ length: 2 + (i % 5) }, (_, j) => WORDS[(i * 7 + j * 3) % 16]).join(' ');
  writeFileSync(items, `item_id,text\n${Array.from({ length: 60 }, (_, i) => `p${i},${text(i)}`).join('\n')}\n`);
  writeFileSync(queries, `qid,q\n${Array.from({ length: 8 }, (_, i) => `q${i},${text(i * 5 + 1)}`).join('\n')}\n`);
  const judgments = ['q0\t0\tp1\t1', 'q0\t0\tp2\t0.1', 'q1\t0\tp6\t1', 'q2\t0\tp59\t1', 'q3\t0\tp16\t1'];
  writeFileSync(qrelsFile.replace('.tsv', '.qrels'), `${judgments.join('\n')}\n`);
  const e = runCli(['embed', '--model', modelDir, '--input', items, '--id-column', 'item_id', '--out', emb]);
  if (e.code !== 0) throw new Error(e.stderr);
  const i = runCli(['index', '--vectors', emb, '--out', index, '--ann', 'none']);
  if (i.code !== 0) throw new Error(i.stderr);
}, 300_000);

const search = (extra: string[]) => runCli(['search', '--index', index, ...extra]);
const textSearch = (out: string, extra: string[] = []) =>
  search([
    '--model',
    modelDir,
    '--queries',
    queries,
    '--text-column',
    'q',
    '--id-column',
    'qid',
    '--output',
    out,
    ...extra,
  ]);
const readHits = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { query_id?: string; item_id?: string; hits: { id: string; score: number }[] });

function readVectors(dir: string) {
  const t = tableFromIPC(readFileSync(path.join(dir, 'embeddings.arrow')));
  const dim = 64;
  const flat = new Float32Array(t.numRows * dim);
  const ids: string[] = [];
  for (let i = 0; i < t.numRows; i++) {
    flat.set(t.getChild('vector')!.get(i)!.toArray() as Float32Array, i * dim);
    ids.push(String(t.getChild('id')!.get(i)));
  }
  return { flat, ids, dim };
}

describe('recsys index + search', () => {
  it('writes the index manifest last, with the embed manifest and the source sha', () => {
    const m = JSON.parse(readFileSync(path.join(index, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ kind: 'vector-index', count: 60, dimension: 64, key: 'id', ann: { kind: 'none' } });
    expect(existsSync(path.join(index, 'embeddings-manifest.json'))).toBe(true);
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('--similar-to: neighbours by the stored vector, the item itself excluded, equal to brute force', () => {
    const out = path.join(root, 'similar.jsonl');
    const r = search(['--similar-to', 'p3', '--similar-to', 'p10', '--k', '5', '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    const { flat, ids, dim } = readVectors(emb);
    for (const line of readHits(out)) {
      expect(line.hits.map((h) => h.id)).not.toContain(line.item_id);
      const at = ids.indexOf(line.item_id!);
      const want = bruteForceTopK(flat, dim, ids, flat.slice(at * dim, (at + 1) * dim), 6).filter(
        (h) => h.id !== line.item_id,
      );
      for (const [j, h] of line.hits.entries()) expect(h.score).toBeCloseTo(want[j].score, 6);
    }
  });

  it('text queries: hits equal a float64 brute-force cosine top-k of the same model (ids, scores within 1e-6)', () => {
    const out = path.join(root, 'hits.jsonl');
    const r = textSearch(out, ['--k', '7']);
    expect(r.code, r.stderr).toBe(0);
    const lines = readHits(out);
    expect(lines.map((l) => l.query_id)).toEqual(Array.from({ length: 8 }, (_, i) => `q${i}`));
    // The queries' own vectors: embed the query file with the same model.
    const qEmb = path.join(root, 'qemb');
    expect(runCli(['embed', '--model', modelDir, '--input', queries, '--text-column', 'q', '--out', qEmb]).code).toBe(
      0,
    );
    const { flat, ids, dim } = readVectors(emb);
    const q = tableFromIPC(readFileSync(path.join(qEmb, 'embeddings.arrow'))).getChild('vector')!;
    // The checkpoint tells the texts apart: scores spread, and a query that is an item's text finds it first.
    expect(new Set(lines.flatMap((l) => l.hits.map((h) => h.score.toFixed(4)))).size).toBeGreaterThan(20);
    expect(lines[0].hits[0]).toMatchObject({ id: 'p1' });
    expect(lines[0].hits[0].score).toBeCloseTo(1, 5);
    lines.forEach((line, i) => {
      const want = bruteForceTopK(flat, dim, ids, q.get(i)!.toArray() as Float32Array, 7);
      expect(line.hits.map((h) => h.score)).toEqual([...line.hits.map((h) => h.score)].sort((a, b) => b - a));
      line.hits.forEach((h, j) => {
        expect(Math.abs(h.score - want[j].score)).toBeLessThan(1e-6);
        // Equal scores may come in either order: the id must hold the same score.
        expect(Math.abs(want.find((w) => w.id === h.id)!.score - h.score)).toBeLessThan(1e-6);
      });
    });
  });

  it('--qrels: recall@k, nDCG@k, MRR@k and MAP equal the ranking module on the written hits', async () => {
    const out = path.join(root, 'hits-qrels.jsonl');
    const r = textSearch(out, ['--qrels', qrelsFile.replace('.tsv', '.qrels'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    const qrels = await readQrels(qrelsFile.replace('.tsv', '.qrels'));
    const acc = new RankingAccumulator({ k: [10] });
    for (const l of readHits(out))
      if (qrels.judgments.has(l.query_id!)) acc.addQuery(l.query_id!, judgeHits(qrels, l.query_id!, l.hits));
    const want = acc.summary();
    expect(summary.ranking.n_queries).toBe(4);
    expect(summary.ranking.n_unjudged).toBe(4);
    for (const m of ['recall@10', 'ndcg@10', 'mrr@10', 'map'])
      expect(summary.ranking.metrics[m]).toBeCloseTo(want.metrics[m]!, 12);
    expect(want.metrics['recall@10']).toBeGreaterThan(0);
  });

  it('--min gates: exit 1 with one line per failed condition', () => {
    const out = path.join(root, 'hits-gate.jsonl');
    const r = textSearch(out, [
      '--qrels',
      qrelsFile.replace('.tsv', '.qrels'),
      '--min',
      'ndcg@10=1.01',
      '--min',
      'recall@10=0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^gate FAIL ndcg@10 = [\d.]+, needs >= 1\.01 \(--min\)$/m);
    expect(r.stderr).not.toMatch(/gate FAIL recall/);
    expect(r.stderr).toMatch(/quality gate failed: 1 of 2 conditions \(ndcg@10\)/);
    const bad = textSearch(out, ['--qrels', qrelsFile.replace('.tsv', '.qrels'), '--min', 'ndcg@20=0.1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ndcg@20 needs at least 20 hits per query; search returns --k 10/);
  });

  it('refuses a model that differs from the index manifest, naming what differs', () => {
    const out = path.join(root, 'refused.jsonl');
    const r = search(['--model', otherTokenizer, '--queries', queries, '--text-column', 'q', '--output', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /not the model of the index .*: tokenizer sha256 \w+… \(index: \w+…\); search with its model/,
    );
    expect(r.stderr.split('\n').filter((l) => l.includes('error'))).toHaveLength(1);
    const p = textSearch(out, ['--pooling', 'cls']);
    expect(p.stderr).toMatch(/pooling cls \(index: mean\)/);
    expect(existsSync(out)).toBe(false);
  });

  it('bad inputs are one-line errors', () => {
    const noManifest = path.join(root, 'not-an-index');
    mkdirSync(noManifest);
    const a = runCli(['search', '--index', noManifest, '--similar-to', 'p1']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/manifest\.json: missing; .* is not a complete recsys index/);
    const b = search(['--similar-to', 'nope']);
    expect(b.code).toBe(3);
    expect(b.stderr).toMatch(/no item with id "nope"/);
    const c = runCli(['index', '--vectors', root, '--out', path.join(root, 'x')]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/manifest\.json: missing; not a complete recsys embed output/);
    for (const r of [a, b, c]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a failed search leaves no output and no temp file; an existing output stays as it was', () => {
    const out = path.join(root, 'atomic.jsonl');
    writeFileSync(out, 'old\n');
    const bad = path.join(root, 'bad-queries.csv');
    writeFileSync(bad, 'qid,q\nx1,a b\nx2,\n');
    const r = search([
      '--model',
      modelDir,
      '--queries',
      bad,
      '--text-column',
      'q',
      '--id-column',
      'qid',
      '--output',
      out,
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/bad-queries\.csv: row 2 \(line 3\): empty or missing text \(column "q"\)/);
    expect(readFileSync(out, 'utf8')).toBe('old\n');
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
