/**
 * bench/prepare: rows/s of `recsys prepare` end to end (parse CSV + tokenize + write Arrow) on
 * review-length text at max_length 128, next to Hugging Face `tokenizers` (Rust, batched,
 * all cores) tokenizing the same texts, measured in the same run.
 *
 *   npx tsx bench/prepare.ts [--rows 200000]
 *
 * Needs the reference Python env (bash scripts/setup-python.sh).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { Rng } from '../src/lib/rng.js';

const root = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const rows = Number(arg('rows', '200000'));
const python = process.env.RECSYS_PYTHON ?? path.join(root, '.venv/bin/python');
const vocab = path.join(root, 'data/vocab.txt');

/** Review-like text: 30-150 words drawn (Zipf-like) from the vocabulary's whole words, with punctuation. */
function makeReviews(n: number): string[] {
  const words = readFileSync(vocab, 'utf8')
    .split('\n')
    .filter((w) => /^[a-z]{2,}$/.test(w));
  const rng = new Rng(11);
  const pick = () => words[Math.floor(words.length * rng.next() ** 3)];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 30 + rng.int(120);
    const parts: string[] = [];
    for (let w = 0; w < len; w++) {
      let word = pick();
      if (rng.next() < 0.05) word = word[0].toUpperCase() + word.slice(1);
      parts.push(word + (rng.next() < 0.08 ? (rng.next() < 0.5 ? ',' : '.') : ''));
    }
    if (rng.next() < 0.1) parts.push('"quoted", really!');
    out.push(parts.join(' '));
  }
  return out;
}

const dir = mkdtempSync(path.join(tmpdir(), 'recsys-bench-'));
const texts = makeReviews(rows);
const csvFile = path.join(dir, 'reviews.csv');
writeFileSync(
  csvFile,
  'review,label\n' +
    texts.map((t, i) => `"${t.replace(/"/g, '""')}",${['negative', 'neutral', 'positive'][i % 3]}`).join('\n') +
    '\n',
);
writeFileSync(path.join(dir, 'texts.json'), JSON.stringify(texts));
console.log(
  `${rows} review-length rows (${(readFileSync(csvFile).length / 1e6).toFixed(1)} MB CSV), max_length 128, ${cpus().length} cores`,
);

const t0 = performance.now();
const r = spawnSync(
  process.execPath,
  [
    path.join(root, 'bin/recsys.js'),
    'prepare',
    '--input',
    csvFile,
    '--text-column',
    'review',
    '--label-column',
    'label',
    '--tokenizer',
    vocab,
    '--max-length',
    '128',
    '--out',
    path.join(dir, 'ds'),
    '--json',
  ],
  { encoding: 'utf8' },
);
const recsysSeconds = (performance.now() - t0) / 1000;
if (r.status !== 0) throw new Error(`recsys prepare failed: ${r.stderr}`);

const py = spawnSync(
  python,
  [
    '-c',
    `
import json, sys, time, os
from tokenizers import BertWordPieceTokenizer
texts = json.load(open(sys.argv[1]))
tok = BertWordPieceTokenizer(sys.argv[2], lowercase=True)
tok.enable_truncation(128)
tok.encode_batch(texts[:2000])
t0 = time.perf_counter()
for i in range(0, len(texts), 10000):
    tok.encode_batch(texts[i:i+10000])
print(time.perf_counter() - t0)
`,
    path.join(dir, 'texts.json'),
    vocab,
  ],
  { encoding: 'utf8' },
);
if (py.status !== 0) throw new Error(`HF tokenizers failed: ${py.stderr}`);
const hfSeconds = Number(py.stdout.trim());

const recsysRate = rows / recsysSeconds;
const hfRate = rows / hfSeconds;
console.log(
  `recsys prepare (parse + tokenize + write Arrow, end to end): ${recsysRate.toFixed(0)} rows/s (${recsysSeconds.toFixed(2)} s)`,
);
console.log(
  `HF tokenizers encode_batch (tokenize only, Rust, all cores): ${hfRate.toFixed(0)} rows/s (${hfSeconds.toFixed(2)} s)`,
);
console.log(`recsys peak memory: ${JSON.parse(r.stdout).peak_rss_mb} MB`);
console.log(`ratio recsys / HF tokenizers: ${(recsysRate / hfRate).toFixed(2)}x`);
rmSync(dir, { recursive: true, force: true });
