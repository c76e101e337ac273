/**
 * Training pairs for the shop cross-encoder: every row of the judged pairs file (data/pairs-mined.csv:
 * train, validation and test rows, unchanged) plus label-free pseudo-queries drawn from the catalogue,
 * each paired with products labelled by how much of the query their title carries. Per catalogue product
 * and pseudo-query (a 2–4 word span of its title without the marketing tail, as shoppers type):
 *   - Exact: the product itself, and one other product whose title has every word of the span;
 *   - Substitute: `--substitutes` products of the same category whose title has some but not all of the
 *     span's words (those sharing the most first), the shop's "same kind, other attribute value or brand";
 *   - Irrelevant: a product of another category sharing a span word (the "mouse trap" for "gaming mouse"
 *     that retrieval brings back) and a random product of another category.
 * The catalogue is the corpus that is searched, not a judgement: the pseudo-pairs use no query or qrel,
 * and the test rows are copied only so that prepare finds the split it evaluates on. This hands the model
 * many more cross-[SEP] comparisons than the ~350 training queries' judgements hold.
 *
 * `--scatter` draws the 2–4 words from anywhere in the title, in any order, lowercased (configs/rerank.yaml):
 *   npx tsx scripts/catalogue-pairs.ts --out out/rerank/pairs.csv --per-item 3 --scatter [--substitutes 2] [--seed 7]
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { toCsv } from './lib/csv.js';
import { tokenize } from './lib/baseline.js';
import { Rng } from './lib/prng.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    'per-item': { type: 'string', default: '1' },
    substitutes: { type: 'string', default: '2' },
    scatter: { type: 'boolean', default: false },
    seed: { type: 'string', default: '7' },
    pairs: { type: 'string', default: 'data/pairs-mined.csv' },
    catalogue: { type: 'string', default: 'data/catalogue.csv' },
  },
  strict: true,
});
if (!values.out) {
  process.stderr.write(
    'usage: npx tsx scripts/catalogue-pairs.ts --out FILE [--per-item 1] [--substitutes 2] [--seed 7]\n',
  );
  process.exit(2);
}

type Row = Record<string, string>;
const COLUMNS = ['query_id', 'query', 'product_id', 'product_title', 'esci_label', 'split'];
const read = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Row[];
// The generator's PRNG (mulberry32), so the same seed gives the same file everywhere.
const rng = new Rng(Number(values.seed));
const random = () => rng.next();
const pick = <T>(items: T[]): T | undefined => items[Math.floor(random() * items.length)];
/** The tokens the overlap is counted on: the bag-of-words baseline's (lowercased letters and digits). */
const tokens = (text: string) => new Set(tokenize(text));

const pairs = read(values.pairs);
const catalogue = read(values.catalogue);
const titleTokens = catalogue.map((item) => tokens(item.title));
const byCategory = new Map<string, number[]>();
for (const [i, item] of catalogue.entries()) {
  byCategory.set(item.category, [...(byCategory.get(item.category) ?? []), i]);
}
const rows: Row[] = pairs.map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c]])));
const perItem = Number(values['per-item']);
const nSubstitutes = Number(values.substitutes);

catalogue.forEach((item, i) => {
  // Words of the title without the marketing tails ("| Premium Quality", "- Upgraded Version").
  const words = item.title
    .split(/[|]| - /)[0]
    .replace(/[,()]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  const sameCategory = byCategory.get(item.category) ?? [];
  for (let k = 0; k < perItem; k++) {
    const len = Math.min(words.length, 2 + Math.floor(random() * 3));
    let query: string;
    if (values.scatter) {
      // 2–4 words from anywhere in the title, in any order, lowercased: shoppers' queries ("block set 1000
      // pieces") are seldom a contiguous piece of one title, so a contiguous span teaches "is this substring
      // in the title" instead of "which of the asked words does the title carry".
      const order = words.map((w, j) => ({ w, r: random(), j }));
      const chosen = order.sort((a, b) => a.r - b.r).slice(0, len);
      if (random() < 0.5) chosen.sort((a, b) => a.j - b.j);
      query = chosen.map((c) => c.w.toLowerCase()).join(' ');
    } else {
      const start = Math.floor(random() * (words.length - len + 1));
      query = words.slice(start, start + len).join(' ');
    }
    const span = [...tokens(query)];
    const shared = (j: number) => span.filter((t) => titleTokens[j].has(t)).length;
    const queryId = `cat-${item.product_id}-${k}`;
    const add = (j: number, label: string) =>
      rows.push({
        query_id: queryId,
        query,
        product_id: catalogue[j].product_id,
        product_title: catalogue[j].title,
        esci_label: label,
        split: 'train',
      });
    add(i, 'Exact');
    const others = sameCategory.filter((j) => j !== i);
    const full = pick(others.filter((j) => shared(j) === span.length));
    if (full !== undefined) add(full, 'Exact');
    // Partial matches, most shared words first, ties in random order.
    const partial = others
      .map((j) => ({ j, n: shared(j), r: random() }))
      .filter((c) => c.n > 0 && c.n < span.length)
      .sort((a, b) => b.n - a.n || a.r - b.r);
    for (const c of partial.slice(0, nSubstitutes)) add(c.j, 'Substitute');
    const elsewhere = catalogue.flatMap((other, j) => (other.category !== item.category ? [j] : []));
    const lookalike = pick(elsewhere.filter((j) => shared(j) > 0));
    if (lookalike !== undefined) add(lookalike, 'Irrelevant');
    const unrelated = pick(elsewhere);
    if (unrelated !== undefined && unrelated !== lookalike) add(unrelated, 'Irrelevant');
  }
});
const out = path.resolve(values.out);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(`${out}.tmp`, toCsv(COLUMNS, rows));
renameSync(`${out}.tmp`, out);
process.stdout.write(
  `${rows.length} pairs (${pairs.length} judged + ${rows.length - pairs.length} catalogue) → ${out}\n`,
);
