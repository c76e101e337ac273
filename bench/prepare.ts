/**
 * bench/prepare: rows/s of `recsys prepare` end to end (parse CSV once + tokenize + write Arrow)
 * at max_length 128, next to Hugging Face `tokenizers` (Rust, `encode_batch`, all cores) tokenizing
 * the same texts, tokenize only, measured in the same run and interleaved.
 *
 *   npx tsx bench/prepare.ts [--rows 100000] [--workers 1,2] [--repeat 2] [--seed 11]
 *
 * The texts come from bench/review-text.ts: Zipf-distributed words over millions of word types
 * (inflections, misspellings, pseudo-words, brands, numbers with units and prices), HTML remnants,
 * emoji, curly apostrophes, accents and some CJK, punctuation runs, ALL CAPS, URLs, and long-tailed
 * lengths — so recsys's word cache meets about as many new words as on real reviews. The bench
 * prints the share of distinct words to show it (real corpora of 100k reviews: a few percent,
 * hundreds of thousands of distinct words). HF gets its best batching (the whole list at once, or
 * 10k chunks, whichever is faster) and its ids are compared with the shards recsys wrote.
 * `--workers` lists `data.workers` values to run (each one a full `recsys prepare`).
 *
 * Needs the reference Python env (bash scripts/setup-python.sh).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { bertPreTokenize } from '../src/data/tokenizer/bert-normalize.js';
import { makeReviews } from './review-text.js';

const root = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const rows = Number(arg('rows', '100000'));
const workerCounts = arg('workers', `1,${availableParallelism()}`).split(',').map(Number);
const repeat = Number(arg('repeat', '2'));
const python = process.env.RECSYS_PYTHON ?? path.join(root, '.venv/bin/python');
const vocab = path.join(root, 'data/vocab.txt');

const dir = mkdtempSync(path.join(tmpdir(), 'recsys-bench-'));
const texts = makeReviews(rows, { seed: Number(arg('seed', '11')) });
const csvFile = path.join(dir, 'reviews.csv');
writeFileSync(
  csvFile,
  'review,label\n' +
    texts.map((t, i) => `"${t.replace(/"/g, '""')}",${['negative', 'neutral', 'positive'][i % 3]}`).join('\n') +
    '\n',
);
const textsFile = path.join(dir, 'texts.json');
writeFileSync(textsFile, JSON.stringify(texts));

const norm = { lowercase: true, stripAccents: true, cleanText: true, handleChineseChars: true };
const distinct = new Set<string>();
let words = 0;
for (const t of texts)
  for (const w of bertPreTokenize(t, norm)) {
    words++;
    distinct.add(w);
  }
console.log(
  `${rows} reviews (${(readFileSync(csvFile).length / 1e6).toFixed(1)} MB CSV), max_length 128, ` +
    `${availableParallelism()} cores; ${words} words, ${distinct.size} distinct ` +
    `(${((100 * distinct.size) / words).toFixed(1)}%), ` +
    `${((100 * texts.filter((t) => /[^\x00-\x7f]/.test(t)).length) / rows).toFixed(0)}% of texts not ASCII`,
);
distinct.clear();

function recsysPrepare(workers: number): { seconds: number; rss: number; out: string } {
  const out = path.join(dir, `ds-${workers}`);
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      path.join(root, 'bin/recsys.js'),
      'prepare',
      ...['--input', csvFile, '--text-column', 'review', '--label-column', 'label', '--tokenizer', vocab],
      ...['--max-length', '128', '--out', out, '--overwrite', '--json', '--set', `data.workers=${workers}`],
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`recsys prepare failed: ${r.stderr}`);
  return { seconds, rss: JSON.parse(r.stdout).peak_rss_mb, out };
}

function hfTokenize(dataset?: string): { seconds: number; checked?: number; mismatched?: number } {
  const py = spawnSync(
    python,
    [path.join(root, 'bench/prepare_hf.py'), textsFile, vocab, ...(dataset ? ['--dataset', dataset] : [])],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (py.status !== 0) throw new Error(`HF tokenizers failed: ${py.stderr}`);
  const r = JSON.parse(py.stdout.trim().split('\n').at(-1)!);
  return { seconds: Math.min(r.whole_s, r.chunked_s), checked: r.checked, mismatched: r.mismatched };
}

const rate = (s: number) => Math.round(rows / s);
const best = new Map<string, number>();
const keep = (key: string, s: number) => best.set(key, Math.min(best.get(key) ?? Infinity, s));
for (let i = 0; i < repeat; i++) {
  for (const w of workerCounts) {
    const r = recsysPrepare(w);
    keep(`w${w}`, r.seconds);
    const hf = hfTokenize(i === 0 ? r.out : undefined);
    keep('hf', hf.seconds);
    const check = hf.checked === undefined ? '' : `; ids differ from HF in ${hf.mismatched}/${hf.checked} rows`;
    console.log(
      `  run ${i + 1}: recsys workers=${w} ${rate(r.seconds)} rows/s (${r.seconds.toFixed(2)} s, ` +
        `${r.rss} MB peak RSS); HF ${rate(hf.seconds)} rows/s (${hf.seconds.toFixed(2)} s)${check}`,
    );
    if (hf.mismatched) throw new Error('recsys and HF tokenizers disagree: the comparison is void');
  }
}
const hf = best.get('hf')!;
console.log(`HF tokenizers encode_batch (tokenize only, Rust, all cores), best: ${rate(hf)} rows/s`);
for (const w of workerCounts) {
  const s = best.get(`w${w}`)!;
  console.log(
    `recsys prepare workers=${w} (parse + tokenize + write Arrow, end to end), best: ${rate(s)} rows/s; ` +
      `ratio to HF ${(hf / s).toFixed(2)}x`,
  );
}
rmSync(dir, { recursive: true, force: true });
