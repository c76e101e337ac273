/**
 * Writes the three sample files and their README from one seed. Each file draws from its own
 * random stream (derived from the seed and the file's name), so changing one generator does not
 * change the other files. The output is a pure function of (seed, scale): same bytes on every
 * machine, no timestamps, no paths.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runBaseline, taskExamplesFromCsv, type BaselineResult, type Task } from './baseline.js';
import { toCsv } from './csv.js';
import { ESCI_DEFAULTS, ESCI_LABELS, generateEsci } from './esci.js';
import { generateIntent, INTENT_DEFAULTS, INTENTS } from './intent.js';
import { Rng } from './prng.js';
import { generateShop, SHOP_COLUMNS, SHOP_FILES, SHOP_QUERIES, type Shop, type ShopFile } from './shop.js';
import { generateReviews, RATING_WEIGHTS, REVIEW_DEFAULTS, SENTIMENTS } from './reviews.js';

export const DEFAULT_SEED = 7;
/** Rows at --scale 1. */
export const BASE_ROWS: Record<Task, number> = { intent: 3000, esci: 4000, reviews: 2500 };
export const MIN_ROWS = 60;

export const COLUMNS: Record<Task, string[]> = {
  intent: ['query_id', 'query', 'intent'],
  esci: ['query_id', 'query', 'product_title', 'product_description', 'esci_label'],
  reviews: ['review_id', 'product', 'title', 'review', 'rating', 'sentiment'],
};
export const LABEL_COLUMN: Record<Task, string> = { intent: 'intent', esci: 'esci_label', reviews: 'sentiment' };
/** Label order for tables: the generator's own order (largest class first for intent). */
export const LABELS: Record<Task, readonly string[]> = { intent: INTENTS, esci: ESCI_LABELS, reviews: SENTIMENTS };
export const FILES: Record<Task, string> = { intent: 'intent.csv', esci: 'esci.csv', reviews: 'reviews.csv' };

export interface GenerateOptions {
  seed?: number;
  scale?: number;
}

export interface FileSummary {
  file: string;
  rows: number;
  bytes: number;
  labels: Record<string, number>;
  groups?: number;
  baseline: BaselineResult;
}

export interface Generated {
  /** File name → contents, README.md included. */
  files: Record<string, string>;
  summary: Record<Task, FileSummary>;
  shop: Record<ShopFile, number>;
}

export function rowsFor(task: Task, scale: number): number {
  return Math.max(MIN_ROWS, Math.round(BASE_ROWS[task] * scale));
}

/** Everything in memory; `writeSamples` puts it on disk. */
export function generateSamples(opts: GenerateOptions = {}): Generated {
  const seed = opts.seed ?? DEFAULT_SEED;
  const scale = opts.scale ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error(`--seed: expected an integer in [0, 2^32), got ${seed}`);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`--scale: expected a positive number, got ${scale}`);

  const csv: Record<Task, string> = {
    intent: toCsv(COLUMNS.intent, generateIntent(Rng.derive(seed, 'intent'), rowsFor('intent', scale))),
    esci: toCsv(COLUMNS.esci, generateEsci(Rng.derive(seed, 'esci'), rowsFor('esci', scale))),
    reviews: toCsv(COLUMNS.reviews, generateReviews(Rng.derive(seed, 'reviews'), rowsFor('reviews', scale))),
  };
  const summary = {} as Record<Task, FileSummary>;
  for (const task of Object.keys(csv) as Task[]) {
    // Read back with a real CSV parser: the summary and the baseline see what a user would.
    const examples = taskExamplesFromCsv(task, csv[task]);
    const labels: Record<string, number> = {};
    for (const l of LABELS[task]) labels[l] = 0;
    for (const e of examples) labels[e.label] = (labels[e.label] ?? 0) + 1;
    summary[task] = {
      file: FILES[task],
      rows: examples.length,
      bytes: Buffer.byteLength(csv[task]),
      labels,
      groups: task === 'esci' ? new Set(examples.map((e) => e.group)).size : undefined,
      baseline: runBaseline(examples, seed),
    };
  }
  const files: Record<string, string> = {};
  for (const task of Object.keys(csv) as Task[]) files[FILES[task]] = csv[task];
  const shop = generateShop(Rng.derive(seed, 'shop'), Math.max(20, Math.round(SHOP_QUERIES * scale)));
  const shopRows = {} as Record<ShopFile, number>;
  for (const name of Object.keys(SHOP_FILES) as ShopFile[]) {
    files[SHOP_FILES[name]] = toCsv(SHOP_COLUMNS[name], shop[name]);
    shopRows[name] = shop[name].length;
  }
  files['README.md'] = readme(seed, scale, summary) + shopReadme(shop);
  return { files, summary, shop: shopRows };
}

export function writeSamples(outDir: string, generated: Generated): void {
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of Object.entries(generated.files)) writeFileSync(path.join(outDir, name), text);
}

/** Names of the files in `outDir` whose bytes differ from `generated` (missing ones included). */
export function staleFiles(outDir: string, generated: Generated): string[] {
  return Object.entries(generated.files)
    .filter(([name, text]) => {
      try {
        return readFileSync(path.join(outDir, name), 'utf8') !== text;
      } catch {
        return true;
      }
    })
    .map(([name]) => name);
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const whole = (x: number) => `${Math.round(100 * x)}%`;

function labelTable(s: FileSummary): string {
  const lines = ['| label | rows | share |', '| --- | ---: | ---: |'];
  for (const [label, n] of Object.entries(s.labels)) lines.push(`| \`${label}\` | ${n} | ${pct(n / s.rows)} |`);
  return lines.join('\n');
}

function readme(seed: number, scale: number, s: Record<Task, FileSummary>): string {
  const counts = (t: Task) => Object.values(s[t].labels);
  const ratio = (t: Task) => (Math.max(...counts(t)) / Math.max(1, Math.min(...counts(t)))).toFixed(1);
  const scaleFlag = scale === 1 ? '' : ` --scale ${scale}`;
  const baselineRows = (Object.keys(s) as Task[]).map((t) => {
    const b = s[t].baseline;
    return (
      `| ${s[t].file} | ${b.n_train} / ${b.n_test} | ${pct(b.majority)} | ` +
      `${pct(b.naive_bayes.accuracy)} | ${pct(b.logistic_regression.accuracy)} | ` +
      `${b.logistic_regression.macro_f1.toFixed(3)} |`
    );
  });
  return `# Sample data (synthetic)

<!-- Generated by scripts/generate-samples.ts: edit the generator, not this file. -->

Every row in \`intent.csv\`, \`esci.csv\` and \`reviews.csv\` is **synthetic**: the queries,
brands, phone models, products and reviews are made up by a seeded generator. There is no real
customer data here, and any likeness to a real brand is accidental. The files are small enough for
the repository and big enough to fine-tune a small BERT on.

They were written by:

    npx tsx scripts/generate-samples.ts --out data --seed ${seed}${scaleFlag}

The generator uses its own PRNG (mulberry32, one stream per file derived from the seed), never
\`Math.random\`, so the same seed gives the same bytes on every machine.
\`test/scripts/generate-samples.test.ts\` regenerates them and fails if a committed file differs:
change the generator (\`scripts/lib/\`), re-run the command above, and commit the result.
\`npx tsx scripts/generate-samples.ts --check\` tells whether the files are up to date without
writing anything.

CSV format: UTF-8, a header row, \`\\n\` line ends, RFC 4180 quoting (a field holding a comma, a
double quote or a line break is quoted, and quotes inside it are doubled). Some reviews span
several lines inside their quoted field.

The labels are deliberately not readable off the words: the generator mixes in ambiguity, typos,
near-duplicate texts with different labels, label noise and class imbalance (see "How hard is it?").

## intent.csv: search query → category intent

${s.intent.rows} rows, ${s.intent.bytes} bytes. Columns:

| column | meaning |
| --- | --- |
| \`query_id\` | unique row id (\`iq00001\`…) |
| \`query\` | what the shopper typed: product types, made-up brands, colours, sizes, materials, price phrases \
("under 50"), audiences ("for toddlers"), model numbers, questions, vague gift queries; typos, mixed case, \
doubled spaces |
| \`intent\` | the category the shopper bought from, one of ${LABELS.intent.length} |

Ambiguity is built in: product types that several categories sell ("water bottle", "brush",
"gloves", "mat", "oil", "charger"…), often without the word that would decide; brands that sell
in two categories; vague queries ("gift for dad"); and ${whole(INTENT_DEFAULTS.pNoise)} of labels moved \
to a neighbouring
category, as click-derived labels are. The same query text can appear with different intents.
Largest class / smallest class = ${ratio('intent')}.

${labelTable(s.intent)}

## esci.csv: query–product relevance (ESCI)

${s.esci.rows} rows for ${s.esci.groups} queries (${ESCI_DEFAULTS.minProducts}–${ESCI_DEFAULTS.maxProducts} \
products each), ${s.esci.bytes} bytes. Columns:

| column | meaning |
| --- | --- |
| \`query_id\` | the query (\`eq00001\`…); every product judged for it shares the id, so split by \
\`query_id\` (\`group_column\`) to keep a query out of both train and test |
| \`query\` | the search query |
| \`product_title\` | a marketplace-style product title |
| \`product_description\` | one to five short sentences about the product |
| \`esci_label\` | \`Exact\`, \`Substitute\`, \`Complement\` or \`Irrelevant\` |

- **Exact**: the product family asked for, with every attribute and brand the query names (titles
  leave attributes out at random, as sellers do).
- **Substitute**: the same family with one asked-for attribute or the brand changed (a 10 lb
  dumbbell for "5 lb dumbbells"), or a related family (a kettlebell).
- **Complement**: an accessory (ear tips for earbuds, filters for a coffee maker).
- **Irrelevant**: a product that does not fit (a case for another phone model), a hard negative
  sharing words with the query ("mouse trap" for "gaming mouse", "dog shampoo" for "shampoo"),
  or an unrelated product.

As annotators disagree, ${whole(ESCI_DEFAULTS.pFlip)} of the Exact and Substitute labels are swapped, and
${whole(ESCI_DEFAULTS.pFlip)} of the Complements are judged Irrelevant. The mix is imbalanced like Amazon's ESCI
set: Exact most common, Complement rarest (largest / smallest = ${ratio('esci')}).

${labelTable(s.esci)}

## reviews.csv: product review → sentiment

${s.reviews.rows} rows, ${s.reviews.bytes} bytes. Columns:

| column | meaning |
| --- | --- |
| \`review_id\` | unique row id (\`rv00001\`…) |
| \`product\` | the product reviewed (brand and product type) |
| \`title\` | the review's headline |
| \`review\` | 30–150 words; some with line breaks (paragraphs, Pros/Cons), quotes, curly apostrophes, \
accents and emoji |
| \`rating\` | stars, 1–5 |
| \`sentiment\` | derived from \`rating\`: 1–2 \`negative\`, 3 \`neutral\`, 4–5 \`positive\` |

Reviews mix praise and complaints in proportions that depend on the rating, use negation both
ways ("not bad at all", "not great"), sarcasm in low ratings ("Love how it broke on day two. Five
stars for creativity, I guess."), and ${whole(REVIEW_DEFAULTS.pMismatch)} of them have stars that do not \
match their text.
Stars are drawn J-shaped as on real shops: ${RATING_WEIGHTS.map(([r, w]) => `${r}★ ${whole(w)}`).join(', ')}.

${labelTable(s.reviews)}

## How hard is it?

A bag-of-words baseline (\`npx tsx scripts/baseline-bow.ts\`): unigrams and bigrams, multinomial
naive Bayes and logistic regression, trained on a seeded 80% (split by \`query_id\` for esci) and
scored on the other 20%. For esci the bag holds the query's words, the title's words, the query
words the title shares and those it lacks. "Majority" is always guessing the most common label.
Well above the majority and well below 100% is what we want: a model must learn something, and a
perfect score would mean the labels give themselves away. Naive Bayes falls below the majority on
esci: every product of a query shares the query's words, and the label lies in how the title
relates to the query, which a sum of independent word scores cannot express.

| file | train / test | majority | naive Bayes | logistic regression | LR macro-F1 |
| --- | ---: | ---: | ---: | ---: | ---: |
${baselineRows.join('\n')}

## Other files here

- \`vocab.txt\`: the bert-base-uncased WordPiece vocabulary (30,522 tokens, Apache-2.0, from
  Google's BERT release), so the repository runs without downloading a tokenizer.
- \`tiny-bert/config.json\`: a from-scratch BERT-tiny (2 layers, hidden 128, 2 heads,
  intermediate 512) that \`configs/*.yaml\` train on these files.
`;
}

function shopReadme(shop: Shop): string {
  const labels: Record<string, number> = Object.fromEntries(ESCI_LABELS.map((l) => [l, 0]));
  for (const r of shop.qrels) labels[r.esci_label] = (labels[r.esci_label] ?? 0) + 1;
  const splits: Record<string, number> = { train: 0, validation: 0, test: 0 };
  for (const r of shop.queries) splits[r.split] = (splits[r.split] ?? 0) + 1;
  const judgedIds = new Set(shop.qrels.map((r) => r.product_id));
  const n = shop.qrels.length;
  const perQuery = new Map<string, number>();
  for (const r of shop.qrels) perQuery.set(r.query_id, (perQuery.get(r.query_id) ?? 0) + 1);
  const counts = [...perQuery.values()].sort((a, b) => a - b);
  const judgedPerQuery = counts[counts.length >> 1] ?? 0;
  const labelRows = Object.entries(labels).map(([l, c]) => `| \`${l}\` | ${c} | ${pct(c / n)} |`);
  return `
## The shop: catalogue, queries, judgements (retrieval and re-ranking)

Five files describe one synthetic shop, for \`recsys embed/index/search\` (retrieval), \`recsys rank\`
(a cross-encoder re-ranker) and bi-encoder training. Queries and titles are made the way \`esci.csv\`
makes them (same ambiguity, typos and hard negatives), on a random stream of their own. Each query is in
one split (\`train\`/\`validation\`/\`test\`, 70/10/20 drawn per query:
${Object.entries(splits)
  .map(([k, v]) => `${k} ${v}`)
  .join(', ')}) and every file carries it, so held-out queries stay held out everywhere.

**Every product a query could find relevant is judged.** For each query, every catalogue product of its
product family, of its related families and of its accessory families, plus the products drawn for it as
hard or unrelated negatives, is labelled by one rule (\`judge\` in \`scripts/lib/shop.ts\`): a product whose
fit attribute differs from the one asked (a case for another phone model) is Irrelevant; in the query's
family, Exact when the brand (if asked) and every asked attribute match, else Substitute; a related family
is a Substitute, an accessory a Complement, anything else Irrelevant. The rule reads the product's
attributes, including those its title leaves out, as an annotator who sees the product page would. Then
${whole(ESCI_DEFAULTS.pFlip)} of the labels are moved to their neighbour (Exact↔Substitute,
Complement→Irrelevant) as annotators disagree. An unjudged product is therefore one the rule calls
Irrelevant, and counting it as gain 0 is right (${judgedPerQuery} judgements per query, median).

| file | rows | columns |
| --- | ---: | --- |
| \`catalogue.csv\` | ${shop.catalogue.length} | ${SHOP_COLUMNS.catalogue.join(', ')}: ${judgedIds.size} \
products judged for some query and ${shop.catalogue.length - judgedIds.size} for none; a title drawn for two \
queries is one product |
| \`queries.csv\` | ${shop.queries.length} | ${SHOP_COLUMNS.queries.join(', ')} |
| \`qrels.csv\` | ${n} | ${SHOP_COLUMNS.qrels.join(', ')}: graded judgements, ESCI gains by default \
(Exact 1, Substitute 0.1, Complement 0.01, Irrelevant 0) |
| \`pairs.csv\` | ${shop.pairs.length} | ${SHOP_COLUMNS.pairs.join(', ')}: the judgements as text pairs for a \
cross-encoder |
| \`triplets.csv\` | ${shop.triplets.length} | ${SHOP_COLUMNS.triplets.join(', ')}: one row per Exact \
judgement; the negative is an Irrelevant product of the same query (often one sharing its words), else \
a Complement, else a random catalogue product |
| \`pairs-mined.csv\` | | \`pairs.csv\` plus unjudged products as Irrelevant for the train and validation \
queries (\`npx tsx scripts/mine-negatives.ts\`, run after this generator): the re-ranker's training file |

| label | judgements | share |
| --- | ---: | ---: |
${labelRows.join('\n')}
`;
}
