/**
 * Training triplets for the shop bi-encoder: the judged triplets of the training queries
 * (data/triplets.csv) plus label-free pseudo-queries drawn from the catalogue itself: for each product,
 * a short span of its title (2–4 words, as shoppers type) is the anchor, the title its positive and
 * another product's title a (random, easy) negative. The catalogue is the corpus that is searched, not
 * a judgement: no test query or qrel is read. This teaches the encoder every word of the catalogue,
 * not only the words of the ~350 training queries.
 *
 *   npx tsx scripts/catalogue-triplets.ts --out out/biencoder/triplets.csv [--per-item 2] [--seed 7]
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { toCsv } from './lib/csv.js';
import { Rng } from './lib/prng.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    'per-item': { type: 'string', default: '2' },
    seed: { type: 'string', default: '7' },
    triplets: { type: 'string', default: 'data/triplets.csv' },
    catalogue: { type: 'string', default: 'data/catalogue.csv' },
  },
  strict: true,
});
if (!values.out) {
  process.stderr.write('usage: npx tsx scripts/catalogue-triplets.ts --out FILE [--per-item 2] [--seed 7]\n');
  process.exit(2);
}

type Row = Record<string, string>;
const read = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Row[];
// The generator's PRNG (mulberry32), so the same seed gives the same file everywhere.
const rng = new Rng(Number(values.seed));
const random = () => rng.next();
const pick = (n: number) => Math.floor(random() * n);

const triplets = read(values.triplets);
const catalogue = read(values.catalogue);
const rows: Row[] = triplets.map((t) => ({ ...t }));
const perItem = Number(values['per-item']);
catalogue.forEach((item, i) => {
  // Words of the title without the marketing tails ("| Premium Quality", "- Upgraded Version").
  const words = item.title
    .split(/[|]| - /)[0]
    .replace(/[,()]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  for (let k = 0; k < perItem; k++) {
    const len = Math.min(words.length, 2 + pick(3));
    const start = pick(words.length - len + 1);
    let other = pick(catalogue.length);
    if (other === i) other = (other + 1) % catalogue.length;
    rows.push({
      query_id: `cat-${item.product_id}-${k}`,
      query: words.slice(start, start + len).join(' '),
      positive: item.title,
      negative: catalogue[other].title,
      split: 'train',
    });
  }
});
const out = path.resolve(values.out);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(`${out}.tmp`, toCsv(['query_id', 'query', 'positive', 'negative', 'split'], rows));
renameSync(`${out}.tmp`, out);
process.stdout.write(
  `${rows.length} triplets (${triplets.length} judged + ${rows.length - triplets.length} catalogue) → ${out}\n`,
);
