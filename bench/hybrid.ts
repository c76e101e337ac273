/**
 * bench/hybrid: recall@10 and nDCG@10 of BM25 alone, vector search alone and their reciprocal-rank
 * fusion (`recsys search --fts`, default, `--hybrid`) on the sample shop: the catalogue's titles
 * (data/catalogue.csv) embedded with --model and indexed with a full-text index, the held-out test
 * queries of data/queries.csv, judged by data/qrels.csv (ESCI gains). Runs the CLI as a user would.
 *
 *   npx tsx bench/hybrid.ts --model RUN_OR_MODEL_DIR [--split test] [--k 10]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { toCsv } from '../scripts/lib/csv.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    split: { type: 'string', default: 'test' },
    k: { type: 'string', default: '10' },
  },
  strict: true,
});
if (!values.model) {
  process.stderr.write('usage: npx tsx bench/hybrid.ts --model RUN_OR_MODEL_DIR [--split test] [--k 10]\n');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dir = mkdtempSync(path.join(tmpdir(), 'recsys-bench-hybrid-'));
const recsys = (args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/recsys.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  if (r.status !== 0) throw new Error(`recsys ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
};
try {
  const catalogue = path.join(root, 'data/catalogue.csv');
  const rows = parse(readFileSync(path.join(root, 'data/queries.csv'), 'utf8'), { columns: true }) as Record<
    string,
    string
  >[];
  const queries = path.join(dir, 'queries.csv');
  writeFileSync(
    queries,
    toCsv(
      ['query_id', 'query'],
      rows.filter((r) => r.split === values.split),
    ),
  );
  const emb = path.join(dir, 'emb');
  const index = path.join(dir, 'index');
  recsys([
    'embed',
    '--model',
    values.model,
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
  recsys(['index', '--vectors', emb, '--out', index, '--texts', catalogue, '--text-column', 'title']);
  const k = Number(values.k);
  process.stdout.write(`${rows.filter((r) => r.split === values.split).length} ${values.split} queries, k ${k}\n`);
  process.stdout.write(`| retrieval | recall@${k} | nDCG@${k} | MRR@${k} |\n| --- | ---: | ---: | ---: |\n`);
  for (const [name, flags] of [
    ['BM25 (--fts)', ['--fts']],
    ['vector (exact)', ['--model', values.model]],
    ['hybrid (RRF, --hybrid)', ['--model', values.model, '--hybrid']],
  ] as const) {
    const out = recsys([
      'search',
      '--index',
      index,
      '--queries',
      queries,
      '--text-column',
      'query',
      '--id-column',
      'query_id',
      '--k',
      String(k),
      '--qrels',
      path.join(root, 'data/qrels.csv'),
      '--output',
      path.join(dir, 'hits.jsonl'),
      '--json',
      ...flags,
    ]);
    const m = JSON.parse(out).ranking.metrics;
    const f = (x: number) => x.toFixed(3);
    process.stdout.write(`| ${name} | ${f(m[`recall@${k}`])} | ${f(m[`ndcg@${k}`])} | ${f(m[`mrr@${k}`])} |\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
