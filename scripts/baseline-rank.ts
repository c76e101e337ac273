/**
 * The bars a re-ranker must clear on the shop's judged pairs (data/pairs.csv): per-query nDCG@k on
 * the test queries of (a) the majority label, which scores every candidate alike (so each query gets
 * the average over all orderings, sklearn's tie rule), and (b) the bag-of-words logistic regression of
 * scripts/lib/baseline.ts trained on the train queries, ranking by expected ESCI gain. Metrics come
 * from src/eval/ranking.ts, the same code as `recsys eval` on a grouped dataset and `recsys rank`.
 *
 *   npx tsx scripts/baseline-rank.ts [--pairs data/pairs.csv] [--seed 7] [--json]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { ESCI_GAINS } from '../src/eval/gains.js';
import { type RankingSummary, rankRows } from '../src/eval/ranking-stream.js';
import { type Example, LogisticRegression } from './lib/baseline.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: 'data/pairs.csv' },
    seed: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});
const rows = parse(readFileSync(values.pairs!, 'utf8'), { columns: true }) as Record<string, string>[];
const example = (r: Record<string, string>): Example => ({
  text: r.query,
  pair: r.product_title,
  label: r.esci_label,
  group: r.query_id,
});
const train = rows.filter((r) => r.split === 'train').map(example);
const test = rows.filter((r) => r.split === 'test').map(example);
const gain = (label: string) => ESCI_GAINS[label];
const k = [1, 3, 5, 10];

const majority = rankRows(
  test.map((e) => ({ query: e.group!, score: 0, gain: gain(e.label) })),
  { k },
);
const lr = new LogisticRegression().fit(train, Number(values.seed));
const bow = rankRows(
  test.map((e) => {
    const p = lr.probabilities(e);
    const score = Object.entries(p).reduce((s, [label, q]) => s + q * gain(label), 0);
    return { query: e.group!, score, gain: gain(e.label) };
  }),
  { k },
);

const results: Record<string, RankingSummary> = { majority, bag_of_words_lr: bow };
if (values.json)
  process.stdout.write(`${JSON.stringify({ train: train.length, test: test.length, results }, null, 2)}\n`);
else {
  process.stdout.write(
    `${values.pairs}: ${train.length} train pairs, ${test.length} test pairs (${majority.n_queries} queries)\n`,
  );
  for (const [name, r] of Object.entries(results)) {
    const m = (x: string) => (r.metrics[x] as number).toFixed(4);
    process.stdout.write(
      `${name.padEnd(16)} ndcg@10 ${m('ndcg@10')}  ndcg@5 ${m('ndcg@5')}  mrr@10 ${m('mrr@10')}  ` +
        `recall@5 ${m('recall@5')}\n`,
    );
  }
}
