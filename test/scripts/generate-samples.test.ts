import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { baselineForFile, TASKS, TOO_EASY, type Task } from '../../scripts/lib/baseline.js';
import {
  COLUMNS,
  DEFAULT_SEED,
  FILES,
  generateSamples,
  LABEL_COLUMN,
  LABELS,
  staleFiles,
} from '../../scripts/lib/generate.js';
import { Rng } from '../../scripts/lib/prng.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DATA = path.join(ROOT, 'data');
const SCRIPT = path.join(ROOT, 'scripts', 'generate-samples.ts');

const tmpDirs: string[] = [];
function tmp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'recsys-samples-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

function runGenerator(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

function rowsOf(csvText: string): Record<string, string>[] {
  return parse(csvText, { columns: true }) as Record<string, string>[];
}

function labelCounts(task: Task, csvText: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of rowsOf(csvText)) counts[r[LABEL_COLUMN[task]]] = (counts[r[LABEL_COLUMN[task]]] ?? 0) + 1;
  return counts;
}

describe('mulberry32 stream', () => {
  it('is fixed for a seed and differs between seeds and purposes', () => {
    const draw = (r: Rng) => Array.from({ length: 5 }, () => r.next());
    expect(draw(new Rng(7))).toEqual(draw(new Rng(7)));
    expect(draw(new Rng(7))).not.toEqual(draw(new Rng(8)));
    expect(draw(Rng.derive(7, 'intent'))).not.toEqual(draw(Rng.derive(7, 'esci')));
    // Pin the first value so a change of algorithm cannot pass unnoticed.
    expect(new Rng(0).next()).toBeCloseTo(0.26642920868471265, 15);
  });
});

describe('generate-samples (small scale)', () => {
  const small = { seed: 11, scale: 0.05 };

  it('writes identical bytes for the same seed, from the command line, into any directory', () => {
    const a = tmp();
    const b = tmp();
    for (const dir of [a, b]) {
      const res = runGenerator(['--out', dir, '--seed', String(small.seed), '--scale', String(small.scale)]);
      expect(res.stderr).not.toMatch(/error/i);
      expect(res.status).toBe(0);
      expect(res.stdout).toContain('intent.csv: ');
    }
    const files = readdirSync(a).sort();
    expect(files).toEqual([
      'README.md',
      'catalogue.csv',
      'esci.csv',
      'intent.csv',
      'pairs.csv',
      'qrels.csv',
      'queries.csv',
      'reviews.csv',
      'triplets.csv',
    ]);
    for (const f of files) expect(readFileSync(path.join(b, f)).equals(readFileSync(path.join(a, f)))).toBe(true);
    // The in-process generator gives the same bytes, and --check agrees.
    expect(staleFiles(a, generateSamples(small))).toEqual([]);
    expect(runGenerator(['--out', a, '--seed', '11', '--scale', '0.05', '--check']).status).toBe(0);
    expect(runGenerator(['--out', a, '--seed', '12', '--scale', '0.05', '--check']).status).toBe(1);
  });

  it('gives different data for a different seed', () => {
    const one = generateSamples(small).files;
    const two = generateSamples({ ...small, seed: 12 }).files;
    for (const f of Object.values(FILES)) expect(two[f]).not.toEqual(one[f]);
  });

  it('rejects a bad seed or scale with a message', () => {
    const res = runGenerator(['--out', tmp(), '--scale', 'lots']);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('--scale: expected a number, got "lots"');
    expect(() => generateSamples({ seed: -1 })).toThrow('--seed: expected an integer in [0, 2^32), got -1');
  });

  it('has every class, the documented columns and valid CSV', () => {
    const { files } = generateSamples(small);
    for (const task of TASKS) {
      const text = files[FILES[task]];
      expect(text.split('\n')[0]).toBe(COLUMNS[task].join(','));
      const counts = labelCounts(task, text);
      expect(Object.keys(counts).sort()).toEqual([...LABELS[task]].sort());
    }
  });
});

describe('committed sample data (data/)', () => {
  const committed = Object.fromEntries(
    TASKS.map((t) => [t, readFileSync(path.join(DATA, FILES[t]), 'utf8')]),
  ) as Record<Task, string>;

  it('is exactly what the generator writes with the documented seed (no hand edits)', () => {
    const generated = generateSamples({ seed: DEFAULT_SEED, scale: 1 });
    const stale = staleFiles(DATA, generated);
    expect(stale, `re-run: npx tsx scripts/generate-samples.ts --out data --seed ${DEFAULT_SEED}`).toEqual([]);
    expect(generated.files['README.md']).toContain(
      `npx tsx scripts/generate-samples.ts --out data --seed ${DEFAULT_SEED}\n`,
    );
  });

  it('has the promised sizes and stays small', () => {
    const expected: Record<Task, number> = { intent: 3000, esci: 4000, reviews: 2500 };
    for (const task of TASKS) {
      expect(rowsOf(committed[task]).length).toBe(expected[task]);
      expect(statSync(path.join(DATA, FILES[task])).size).toBeLessThan(1.5 * 1024 * 1024);
    }
  });

  it('is imbalanced like the real thing', () => {
    const intent = Object.values(labelCounts('intent', committed.intent));
    expect(intent).toHaveLength(14);
    expect(Math.max(...intent)).toBeGreaterThanOrEqual(5 * Math.min(...intent));

    const esci = labelCounts('esci', committed.esci);
    const order = Object.entries(esci)
      .sort((a, b) => b[1] - a[1])
      .map(([l]) => l);
    expect(order[0]).toBe('Exact');
    expect(order[3]).toBe('Complement');
    expect(esci.Complement).toBeGreaterThan(100); // rare, but enough to learn from

    const reviews = labelCounts('reviews', committed.reviews);
    expect(reviews.positive).toBeGreaterThan(reviews.negative);
    expect(reviews.negative).toBeGreaterThan(reviews.neutral);
  });

  it('groups several products under each esci query', () => {
    const perQuery = new Map<string, Set<string>>();
    for (const r of rowsOf(committed.esci)) {
      if (!perQuery.has(r.query_id)) perQuery.set(r.query_id, new Set());
      perQuery.get(r.query_id)!.add(r.query);
    }
    expect(perQuery.size).toBeGreaterThan(300);
    expect(perQuery.size).toBeLessThan(4000 / 3);
    for (const queries of perQuery.values()) expect(queries.size).toBe(1); // one query text per id
  });

  it('has reviews that exercise CSV quoting, Unicode and the rating → sentiment rule', () => {
    const rows = rowsOf(committed.reviews);
    const sentimentOf = (r: number) => (r <= 2 ? 'negative' : r === 3 ? 'neutral' : 'positive');
    for (const r of rows) {
      expect(sentimentOf(Number(r.rating))).toBe(r.sentiment);
      const words = r.review.split(/\s+/).filter(Boolean).length;
      expect(words).toBeGreaterThanOrEqual(30);
      expect(words).toBeLessThanOrEqual(150);
    }
    expect(rows.filter((r) => r.review.includes('\n')).length).toBeGreaterThan(50);
    expect(rows.filter((r) => r.review.includes('"')).length).toBeGreaterThan(5);
    expect(rows.filter((r) => r.review.includes(',')).length).toBeGreaterThan(500);
    expect(rows.filter((r) => /[é’“ü]|\p{Extended_Pictographic}/u.test(r.review)).length).toBeGreaterThan(100);
    expect(new Set(rows.map((r) => r.rating))).toEqual(new Set(['1', '2', '3', '4', '5']));
  });

  it('has ambiguous queries: the same intent query text under different labels', () => {
    const labelsByQuery = new Map<string, Set<string>>();
    for (const r of rowsOf(committed.intent)) {
      const q = r.query.toLowerCase().replace(/\s+/g, ' ');
      if (!labelsByQuery.has(q)) labelsByQuery.set(q, new Set());
      labelsByQuery.get(q)!.add(r.intent);
    }
    expect([...labelsByQuery.values()].filter((s) => s.size > 1).length).toBeGreaterThan(20);
  });

  it('is learnable but not given away: a bag-of-words baseline lands between chance and 97%', () => {
    for (const task of TASKS) {
      const r = baselineForFile(task, path.join(DATA, FILES[task]), DEFAULT_SEED);
      expect(r.best_accuracy, task).toBeLessThan(TOO_EASY);
      expect(r.best_accuracy, task).toBeGreaterThan(r.majority + 0.05);
    }
  });

  it('has a shop whose files agree: ids resolve, each query in one split, every label judged', () => {
    const read = (f: string) => rowsOf(readFileSync(path.join(DATA, f), 'utf8'));
    const catalogue = new Map(read('catalogue.csv').map((r) => [r.product_id, r.title]));
    const splitOf = new Map(read('queries.csv').map((r) => [r.query_id, r.split]));
    expect(new Set(splitOf.values())).toEqual(new Set(['train', 'validation', 'test']));
    const qrels = read('qrels.csv');
    const pairs = read('pairs.csv');
    expect(pairs.length).toBe(qrels.length);
    for (const [i, q] of qrels.entries()) {
      expect(catalogue.has(q.product_id), q.product_id).toBe(true);
      expect(q.split).toBe(splitOf.get(q.query_id));
      expect(pairs[i].product_title).toBe(catalogue.get(q.product_id));
      expect(pairs[i].esci_label).toBe(q.esci_label);
    }
    expect(new Set(qrels.map((q) => q.esci_label))).toEqual(new Set(LABELS.esci));
    // Some catalogue products were judged for no query: retrieval has to find the judged ones among them.
    expect(catalogue.size).toBeGreaterThan(new Set(qrels.map((q) => q.product_id)).size);
    for (const t of read('triplets.csv')) {
      expect(t.split).toBe(splitOf.get(t.query_id));
      expect(t.positive).not.toBe(t.negative);
    }
  });
});
