/**
 * The bars a re-ranker must clear on the shop's judged pairs (data/pairs.csv): per-query nDCG@k on
 * the test queries of (a) the majority label, which scores every candidate alike (so each query gets
 * the average over all orderings, sklearn's tie rule), and (b) the bag-of-words logistic regression of
 * scripts/lib/baseline.ts trained on the train queries, ranking by expected ESCI gain. Metrics come
 * from src/eval/ranking.ts, the same code as `recsys eval` on a grouped dataset and `recsys rank`.
 * (c) The same logistic regression trained on the judged pairs plus the mined negatives of
 * scripts/mine-negatives.ts (`--mined`, whose test rows are the judged ones): the re-ranker trains on
 * that file, so the bag of words gets it too, and its better figure is the bar.
 *
 * (d) With `--hits FILE` (a `recsys search` output, e.g. the hybrid top-100 of the test queries), the bar
 * for re-ranking end to end: that list as retrieved, and re-ordered by the bag of words of (c), judged by
 * data/qrels.csv as `recsys rank --qrels` judges it (judged items not retrieved count against it).
 *
 *   npx tsx scripts/baseline-rank.ts [--pairs data/pairs.csv] [--mined data/pairs-mined.csv] [--seed 7] [--json]
 *                                    [--hits hits.jsonl [--data data]]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { ESCI_GAINS } from '../src/eval/gains.js';
import { RankingAccumulator, type RankingSummary, rankRows } from '../src/eval/ranking-stream.js';
import { type Example, LogisticRegression } from './lib/baseline.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: 'data/pairs.csv' },
    mined: { type: 'string', default: 'data/pairs-mined.csv' },
    seed: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
    hits: { type: 'string' },
    data: { type: 'string', default: 'data' },
  },
  strict: true,
});
const read = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
const rows = read(values.pairs!);
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
let lastModel: LogisticRegression | undefined;
const expectedGain = (lr: LogisticRegression, e: Example) =>
  Object.entries(lr.probabilities(e)).reduce((s, [label, q]) => s + q * gain(label), 0);
function bagOfWords(trainOn: Example[]): RankingSummary {
  const lr = new LogisticRegression().fit(trainOn, Number(values.seed));
  lastModel = lr;
  return rankRows(
    test.map((e) => ({ query: e.group!, score: expectedGain(lr, e), gain: gain(e.label) })),
    { k },
  );
}

/** A hits file judged by the qrels: in its own order, and re-ordered by the bag of words. */
function hitsBars(file: string, lr: LogisticRegression): Record<string, RankingSummary> {
  const dataFile = (name: string) => `${values.data}/${name}`;
  const queryText = new Map(read(dataFile('queries.csv')).map((q) => [q.query_id, q.query]));
  const title = new Map(read(dataFile('catalogue.csv')).map((p) => [p.product_id, p.title]));
  const judged = new Map<string, Map<string, number>>();
  for (const r of read(dataFile('qrels.csv'))) {
    if (!judged.has(r.query_id)) judged.set(r.query_id, new Map());
    judged.get(r.query_id)!.set(r.product_id, gain(r.esci_label));
  }
  const retrieved = new RankingAccumulator({ k });
  const reranked = new RankingAccumulator({ k });
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const { query_id: query, hits } = JSON.parse(line) as { query_id: string; hits: { id: string }[] };
    const gains = judged.get(query) ?? new Map<string, number>();
    const ids = new Set(hits.map((h) => h.id));
    const unretrievedGains = [...gains].filter(([id]) => !ids.has(id)).map(([, g]) => g);
    const hitGains = hits.map((h) => gains.get(h.id) ?? 0);
    retrieved.addQuery(query, { scores: hits.map((_, i) => -i), gains: hitGains, unretrievedGains });
    const scores = hits.map((h) =>
      expectedGain(lr, { text: queryText.get(query)!, pair: title.get(h.id)!, label: '', group: query }),
    );
    reranked.addQuery(query, { scores, gains: hitGains, unretrievedGains });
  }
  return { hits_as_retrieved: retrieved.summary(), hits_bag_of_words_mined: reranked.summary() };
}

const results: Record<string, RankingSummary> = { majority, bag_of_words_lr: bagOfWords(train) };
if (values.mined) {
  const mined = read(values.mined);
  const minedTest = mined.filter((r) => r.split === 'test').map(example);
  const sameTest = JSON.stringify(minedTest) === JSON.stringify(test);
  if (!sameTest) {
    process.stderr.write(`baseline-rank: ${values.mined}: its test rows differ from ${values.pairs}'s\n`);
    process.exit(3);
  }
  results.bag_of_words_lr_mined = bagOfWords(mined.filter((r) => r.split === 'train').map(example));
}
if (values.hits) Object.assign(results, hitsBars(values.hits, lastModel!));
if (values.json)
  process.stdout.write(`${JSON.stringify({ train: train.length, test: test.length, results }, null, 2)}\n`);
else {
  process.stdout.write(
    `${values.pairs}: ${train.length} train pairs, ${test.length} test pairs (${majority.n_queries} queries)\n`,
  );
  for (const [name, r] of Object.entries(results)) {
    const m = (x: string) => (r.metrics[x] as number).toFixed(4);
    process.stdout.write(
      `${name.padEnd(24)} ndcg@10 ${m('ndcg@10')}  ndcg@5 ${m('ndcg@5')}  mrr@10 ${m('mrr@10')}  ` +
        `recall@5 ${m('recall@5')}\n`,
    );
  }
}
