/**
 * Per-query ranking metrics of a pair classifier on a grouped dataset (a query–product split whose
 * rows carry their query in the `group` column): each row's class probabilities become one score
 * (expected gain, or the probability of one label), its true label a gain, and the rows of each
 * group are ranked by score as a re-ranker would rank a query's candidates.
 */
import type { RecsysConfig } from '../config/schema.js';
import { DataError } from '../lib/errors.js';
import {
  expectedGainScorer,
  GainMap,
  gainsForLabels,
  labelProbabilityScorer,
  type ProbabilityScorer,
  softmax,
} from './gains.js';
import { QueryBuffer, RankingAccumulator, type RankingSummary } from './ranking-stream.js';

export type RankConfig = RecsysConfig['rank'];

/** How scores and gains are made from a model's labels; `describe` says it in the report. */
export interface PairScoring {
  score: ProbabilityScorer;
  describe: string;
}

/** The score of a pair from its class probabilities; expected_gain needs a gain for every label. */
export function pairScoring(labels: readonly string[], rank: RankConfig): PairScoring {
  const gains = new GainMap(rank.gains);
  if (rank.score === 'label_probability')
    return { score: labelProbabilityScorer(labels, rank.score_label), describe: `p(${rank.score_label})` };
  return { score: expectedGainScorer(labels, gains), describe: `expected gain (${gains})` };
}

/** The report's ranking block: the averaged metrics and how they were made. */
export interface GroupedRankingReport extends RankingSummary {
  score: string;
  group_column: string | null;
}

/** Rows in any order (two numbers kept per row); the queries are ranked at the end. */
export class GroupedRanking {
  private readonly buffer = new QueryBuffer();
  /** The gain of each label id: what a row's true label is worth. */
  private readonly labelGains: Float64Array;

  constructor(
    labels: readonly string[],
    private readonly scoring: PairScoring,
    private readonly rank: RankConfig,
    private readonly groupColumn: string | null,
  ) {
    this.labelGains = gainsForLabels(labels, new GainMap(rank.gains));
  }

  /** The split has no group column (prepared before shards carried it): no ranking metrics. */
  private noColumn = false;

  add(where: string, group: string | null | undefined, logits: ArrayLike<number>, label: number): void {
    if (group === undefined) {
      this.noColumn = true;
      return;
    }
    if (group === null || group === '')
      throw new DataError(`${where}: no group key; re-run recsys prepare with data.group_column`);
    this.buffer.add(group, this.scoring.score(softmax(logits)), this.labelGains[label]);
  }

  summary(): GroupedRankingReport | undefined {
    if (this.noColumn) return undefined;
    const acc = new RankingAccumulator({ k: this.rank.k, withoutRelevant: this.rank.without_relevant });
    for (const q of this.buffer.drain()) acc.addQuery(q.query, q);
    return { ...acc.summary(), score: this.scoring.describe, group_column: this.groupColumn };
  }
}

/** The text report's ranking block: one line of metrics per cut-off, and the queries counted. */
export function groupedRankingText(r: GroupedRankingReport, digits = 4): string {
  const f = (name: string) => {
    const v = r.metrics[name];
    return v === null || v === undefined ? 'n/a' : v.toFixed(digits);
  };
  const lines = [
    `ranking per ${r.group_column ?? 'group'} (score: ${r.score}; relevant: ${r.relevant_if}): ` +
      `${r.n_queries} queries, ${r.n_candidates} candidates, ${r.n_without_relevant} without a relevant item ` +
      `(${r.without_relevant === 'zero' ? 'scored 0' : 'left out of the averages'})`,
  ];
  for (const k of r.k)
    lines.push(
      `  @${String(k).padEnd(3)} ndcg ${f(`ndcg@${k}`)}  recall ${f(`recall@${k}`)}  mrr ${f(`mrr@${k}`)}  ` +
        `map ${f(`map@${k}`)}`,
    );
  return `${lines.join('\n')}\n`;
}
