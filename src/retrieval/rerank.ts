/**
 * Re-ranking with a pair classifier (a cross-encoder): each (query, product) pair goes through the
 * model as `[CLS] query [SEP] product [SEP]`, its class probabilities become one score (expected
 * gain, or the probability of one label: eval/grouped.ts pairScoring), and each query's candidates
 * are written best first as one JSON line, the shape `recsys search` writes:
 * `{"query_id": …, "hits": [{"id": …, "score": …, "retrieval_score"?: …}]}`.
 * Pairs of several queries share a forward batch; memory is the queries of one batch.
 */
import type { Encoded } from '../data/tokenizer/index.js';
import type { PairScoring } from '../eval/grouped.js';
import { softmax } from '../eval/gains.js';
import { judgeHits, type Qrels } from '../eval/qrels.js';
import { RankingAccumulator, type RankingSummary } from '../eval/ranking-stream.js';
import type { InferenceModel } from '../infer/model.js';
import { AtomicTextStream } from '../lib/atomic-stream.js';
import type { CandidateGroup, RejectSink } from './candidates.js';

export interface RankOptions {
  output: string;
  scoring: PairScoring;
  batchSize: number;
  /** Keep the best `top` candidates of each query in the output (null: all). */
  top: number | null;
  qrels?: Qrels;
  k: number[];
  withoutRelevant: 'zero' | 'exclude';
  reject: RejectSink;
  onProgress?: (pairs: number) => void;
}

export interface RankSummary {
  queries: number;
  pairs: number;
  seconds: number;
  pairs_per_second: number;
  output: string;
  score: string;
  ranking?: RankingSummary & { n_unjudged: number };
}

interface Scored {
  id: string | number;
  score: number;
  retrieval_score?: number;
}

interface Pending {
  group: CandidateGroup;
  encoded: (Encoded | null)[];
}

export async function runRank(
  model: Pick<InferenceModel, 'forward' | 'tokenizer' | 'maxLength' | 'truncation' | 'labels'>,
  groups: AsyncIterable<CandidateGroup>,
  opts: RankOptions,
): Promise<RankSummary> {
  const t0 = performance.now();
  const out = new AtomicTextStream(opts.output);
  const acc = opts.qrels ? new RankingAccumulator({ k: opts.k, withoutRelevant: opts.withoutRelevant }) : undefined;
  const n = model.labels.length;
  let pending: Pending[] = [];
  let pendingPairs = 0;
  let queries = 0;
  let pairs = 0;
  let unjudged = 0;

  const flush = async () => {
    const encodings = pending.flatMap((p) => p.encoded.filter((e): e is Encoded => e !== null));
    const logits = new Float32Array(encodings.length * n);
    for (let s = 0; s < encodings.length; s += opts.batchSize)
      logits.set(await model.forward(encodings.slice(s, s + opts.batchSize)), s * n);
    let at = 0;
    let text = '';
    for (const { group, encoded } of pending) {
      const hits: Scored[] = [];
      group.candidates.forEach((c, i) => {
        if (!encoded[i]) return;
        const score = opts.scoring.score(softmax(logits.subarray(at * n, (at + 1) * n)));
        at++;
        hits.push({
          id: c.id,
          score,
          ...(c.retrievalScore !== undefined ? { retrieval_score: c.retrievalScore } : {}),
        });
      });
      // Stable: equal scores keep the input (retrieval) order.
      hits.sort((a, b) => b.score - a.score);
      const kept = opts.top === null ? hits : hits.slice(0, opts.top);
      text += `${JSON.stringify({ query_id: group.query, hits: kept })}\n`;
      if (acc && opts.qrels) {
        const judged = judgeHits(
          opts.qrels,
          group.query,
          kept.map((h) => ({ id: String(h.id), score: h.score })),
        );
        if (judged.judged) acc.addQuery(group.query, judged);
        else unjudged++;
      }
      queries++;
      pairs += hits.length;
    }
    await out.write(text);
    opts.onProgress?.(pairs);
    pending = [];
    pendingPairs = 0;
  };

  try {
    for await (const group of groups) {
      const encoded = group.candidates.map((c) => {
        const enc = model.tokenizer.encode(group.queryText, c.text, model.maxLength, model.truncation);
        if (!enc)
          opts.reject({
            row: 0,
            reason:
              `query "${group.query}", candidate "${c.id}": ` + `the query alone exceeds max_length ${model.maxLength}`,
          });
        return enc;
      });
      pending.push({ group, encoded });
      pendingPairs += encoded.length;
      if (pendingPairs >= opts.batchSize) await flush();
    }
    if (pending.length) await flush();
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
  const seconds = (performance.now() - t0) / 1000;
  const summary: RankSummary = {
    queries,
    pairs,
    seconds,
    pairs_per_second: seconds > 0 ? pairs / seconds : 0,
    output: opts.output,
    score: opts.scoring.describe,
  };
  if (acc) summary.ranking = { ...acc.summary(), n_unjudged: unjudged };
  return summary;
}
