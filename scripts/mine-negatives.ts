/**
 * Hard negatives for the shop's re-ranker: the judged pairs (data/pairs.csv) plus, for every train and
 * validation query, catalogue products that retrieval brings back but nobody judged, labelled Irrelevant.
 * A re-ranker trained on judged pairs alone has never seen such products; after hybrid retrieval they are
 * most of its candidates, and the qrels count them as not relevant. Test queries get no mined rows, so the
 * test split stays the judged pairs of pairs.csv and the bag-of-words bar of scripts/baseline-rank.ts is
 * measured on the same rows.
 *
 * Per query: the `--hard` best BM25 matches (titles, lower-cased words, k1 1.2, b 0.75) that the query's
 * judgements do not name, and `--easy` random unjudged products (the vector half of hybrid retrieval also
 * returns unrelated items). Seeded and deterministic; the mined rows follow each query's judged rows.
 *
 * The shop judges every product of a query's own, related and accessory families by one rule
 * (scripts/lib/shop.ts), so an unjudged product is one that rule calls Irrelevant: the BM25 matches mined
 * here are other families sharing the query's words ("mouse trap" for "gaming mouse"), true hard negatives.
 *
 *   npx tsx scripts/mine-negatives.ts [--data data] [--hard 3] [--easy 6] [--seed 7]
 *                                     [--out data/pairs-mined.csv]
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { toCsv } from './lib/csv.js';
import { Rng } from './lib/prng.js';
import { SHOP_COLUMNS } from './lib/shop.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'data' },
    hard: { type: 'string', default: '3' },
    easy: { type: 'string', default: '6' },
    seed: { type: 'string', default: '7' },
    out: { type: 'string', default: 'data/pairs-mined.csv' },
  },
  strict: true,
});
type Row = Record<string, string>;
const read = (name: string) => parse(readFileSync(path.join(values.data!, name), 'utf8'), { columns: true }) as Row[];
const catalogue = read('catalogue.csv');
const pairs = read('pairs.csv');
const nHard = Number(values.hard);
const nEasy = Number(values.easy);
const rng = Rng.derive(Number(values.seed), 'mine-negatives');

const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** BM25 over the catalogue titles: an inverted index of term → (product, term frequency). */
const K1 = 1.2;
const B = 0.75;
const docs = catalogue.map((p) => words(p.title));
const avgLength = docs.reduce((s, d) => s + d.length, 0) / docs.length;
const postings = new Map<string, Map<number, number>>();
docs.forEach((d, i) => {
  for (const w of d) {
    const list = postings.get(w) ?? new Map<number, number>();
    list.set(i, (list.get(i) ?? 0) + 1);
    postings.set(w, list);
  }
});
function bm25(query: string): number[] {
  const scores = new Map<number, number>();
  for (const w of new Set(words(query))) {
    const list = postings.get(w);
    if (!list) continue;
    const idf = Math.log(1 + (docs.length - list.size + 0.5) / (list.size + 0.5));
    for (const [doc, tf] of list) {
      const norm = tf + K1 * (1 - B + (B * docs[doc].length) / avgLength);
      scores.set(doc, (scores.get(doc) ?? 0) + (idf * tf * (K1 + 1)) / norm);
    }
  }
  // Best first; ties by catalogue order, so the output does not depend on Map iteration details.
  return [...scores].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([doc]) => doc);
}

const byQuery = new Map<string, Row[]>();
for (const r of pairs) byQuery.set(r.query_id, [...(byQuery.get(r.query_id) ?? []), r]);
const out: Row[] = [];
let mined = 0;
for (const [queryId, judged] of byQuery) {
  out.push(...judged);
  const { query, split } = judged[0];
  if (split === 'test') continue;
  const seen = new Set(judged.map((r) => r.product_id));
  const picked: number[] = [];
  for (const doc of bm25(query)) {
    if (picked.length >= nHard) break;
    if (seen.has(catalogue[doc].product_id)) continue;
    picked.push(doc);
  }
  for (const doc of picked) seen.add(catalogue[doc].product_id);
  for (let easy = 0, tries = 0; easy < nEasy && tries < 100; tries++) {
    const doc = rng.int(catalogue.length);
    if (seen.has(catalogue[doc].product_id)) continue;
    seen.add(catalogue[doc].product_id);
    picked.push(doc);
    easy++;
  }
  for (const doc of picked) {
    const p = catalogue[doc];
    out.push({
      query_id: queryId,
      query,
      product_id: p.product_id,
      product_title: p.title,
      esci_label: 'Irrelevant',
      split,
    });
  }
  mined += picked.length;
}
writeFileSync(`${values.out}.tmp`, toCsv([...SHOP_COLUMNS.pairs], out));
renameSync(`${values.out}.tmp`, values.out!);
process.stdout.write(
  `${values.out}: ${pairs.length} judged pairs + ${mined} mined Irrelevant (train/validation queries)\n`,
);
