/**
 * `recsys rank`: everything between the flags and the printout. Usage errors (columns, gates, the
 * baseline, labels without a gain) come before the model is loaded; then the candidates stream
 * through the model (rerank.ts) and the metrics, when qrels are given, meet their gates.
 */
import path from 'node:path';
import type { RecsysConfig } from '../config/schema.js';
import type { InputFormat } from '../data/readers/index.js';
import { RejectsWriter } from '../data/rejects.js';
import { evaluateGates, type GateReport, type GateSpec } from '../eval/gates.js';
import { GainMap } from '../eval/gains.js';
import { pairScoring } from '../eval/grouped.js';
import { readQrels } from '../eval/qrels.js';
import { rankingBaselineGates, readRankingBaseline } from '../eval/ranking-baseline.js';
import { openModel } from '../infer/model.js';
import { DataError, UsageError } from '../lib/errors.js';
import { ensureWritableFile } from '../lib/fs-errors.js';
import type { Logger } from '../lib/log.js';
import { type CandidateGroup, candidateFileGroups, hitsGroups, readTextTable, type RejectSink } from './candidates.js';
import { rankingGates } from './gates.js';
import { type RankSummary, runRank } from './rerank.js';

export interface RankRequest {
  config: RecsysConfig;
  model: string;
  /** A candidates file, or search output (`hits`) with the `queries` and `catalogue` files. */
  candidates?: string;
  hits?: string;
  queries?: string;
  catalogue?: string;
  format: InputFormat | 'auto';
  queryColumn: string;
  textColumn: string;
  groupColumn: string;
  idColumn?: string;
  output: string;
  qrels?: string;
  min: string[];
  baseline?: string;
  maxDrop: number | null;
  baselineMetrics?: string[];
  offline?: boolean;
  verbose?: boolean;
  log: Logger;
  onProgress?: (pairs: number) => void;
}

export interface RankResult {
  summary: RankSummary;
  rejected: number;
  rejectsFile: string;
  gates?: GateReport;
}

function checkSources(req: RankRequest): void {
  if (!!req.candidates === !!req.hits)
    throw new UsageError(
      'recsys rank: give --candidates FILE, or --hits FILE (recsys search output) with --queries and --catalogue',
    );
  if (req.hits && (!req.queries || !req.catalogue))
    throw new UsageError(
      'recsys rank: --hits needs --queries FILE (query id → text) and --catalogue FILE (product id → text)',
    );
  if (req.hits && !req.idColumn)
    throw new UsageError('recsys rank: --hits needs --id-column, the product id column of --catalogue');
}

/** The --min and --baseline gates, checked before any work. */
function rankGates(req: RankRequest): { specs: GateSpec[]; skipped: string[]; cutoffs: number[] } {
  const rank = req.config.rank;
  const gated = rankingGates(rank.min, req.min, Number.MAX_SAFE_INTEGER);
  const k = Math.max(...rank.k, ...gated.cutoffs);
  const base = req.baseline
    ? rankingBaselineGates(readRankingBaseline(path.resolve(req.baseline)), {
        maxDrop: req.maxDrop,
        metrics: req.baselineMetrics,
        defaults: [`ndcg@${k}`, `recall@${k}`, `mrr@${k}`, 'map'],
        gated: gated.specs.map((s) => s.metric),
      })
    : { specs: [], skipped: [] };
  const specs = [...gated.specs, ...base.specs];
  if ((specs.length || base.skipped.length) && !req.qrels)
    throw new UsageError('recsys rank: --min and --baseline gates need --qrels FILE');
  return { specs, skipped: base.skipped, cutoffs: gated.cutoffs };
}

export async function rankCandidates(req: RankRequest): Promise<RankResult> {
  checkSources(req);
  const rank = req.config.rank;
  const gates = rankGates(req);
  ensureWritableFile(req.output, 'output');
  const qrels = req.qrels ? await readQrels(path.resolve(req.qrels), { gains: new GainMap(rank.gains) }) : undefined;
  const rejectsFile = req.output.replace(/(\.[^./]+)?$/, '.rejects.csv');
  const rejects = new RejectsWriter(rejectsFile);
  const reject: RejectSink = (r) => {
    rejects.add(r);
    if (rank.max_bad_rows !== null && rejects.count > rank.max_bad_rows)
      throw new DataError(
        `more than ${rank.max_bad_rows} rejected candidates (rank.max_bad_rows); ` +
          `the first: row ${rejects.first[0].row}: ` +
          `${rejects.first[0].reason} (all in ${rejectsFile})`,
      );
  };
  let groups: AsyncIterable<CandidateGroup>;
  if (req.candidates) {
    const o = { ...req, file: path.resolve(req.candidates) };
    groups = candidateFileGroups(o, reject);
  } else {
    const queries = await readTextTable({
      file: path.resolve(req.queries!),
      format: 'auto',
      idColumn: req.groupColumn,
      textColumn: req.queryColumn,
    });
    const catalogue = await readTextTable({
      file: path.resolve(req.catalogue!),
      format: 'auto',
      idColumn: req.idColumn!,
      textColumn: req.textColumn,
    });
    groups = hitsGroups(path.resolve(req.hits!), queries, catalogue, reject);
  }
  const model = await openModel(req.model, {
    backend: req.config.backend,
    offline: req.offline,
    verbose: req.verbose,
    log: req.log,
  });
  for (const m of model.messages) req.log.info(m);
  // The score is a probability (or expected gain) over a softmax of the labels: a regression or multi-label
  // head has no such distribution.
  if (model.headKind !== 'single_label_classification') {
    await model.close();
    throw new UsageError(`${req.model}: rank needs a single-label pair classifier; this model is ${model.headKind}`);
  }
  let summary: RankSummary;
  try {
    summary = await runRank(model, groups, {
      output: req.output,
      scoring: pairScoring(model.labels, rank),
      batchSize: rank.batch_size,
      top: rank.top,
      qrels,
      k: [...new Set([...rank.k, ...gates.cutoffs])].sort((a, b) => a - b),
      withoutRelevant: rank.without_relevant,
      reject,
      onProgress: req.onProgress,
    });
    await rejects.close();
  } catch (err) {
    await rejects.abort();
    throw err;
  } finally {
    await model.close();
  }
  const report =
    summary.ranking && (gates.specs.length || gates.skipped.length)
      ? evaluateGates(gates.specs, summary.ranking.metrics, gates.skipped)
      : undefined;
  return { summary, rejected: rejects.count, rejectsFile, gates: report };
}
