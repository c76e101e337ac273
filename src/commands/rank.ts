import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { InputFormat } from '../data/readers/index.js';
import { gateLines, gateSummary } from '../eval/gates.js';
import { maxDropOf } from '../eval/ranking-baseline.js';
import { GateError } from '../lib/errors.js';
import { makeLogger } from '../lib/log.js';
import { rowsProgress } from '../lib/progress.js';
import { rankCandidates } from '../retrieval/rank.js';
import { type CommonOptions, flagOverrides, requiredFlag } from './options.js';

interface RankFlags extends CommonOptions {
  model?: string;
  candidates?: string;
  hits?: string;
  queries?: string;
  catalogue?: string;
  format?: string;
  queryColumn: string;
  textColumn: string;
  groupColumn: string;
  idColumn?: string;
  output?: string;
  qrels?: string;
  min?: string[];
  baseline?: string;
  maxDrop?: string;
  baselineMetrics?: string;
  offline?: boolean;
  progress?: boolean;
}

const FLAGS = {
  score: 'rank.score',
  scoreLabel: 'rank.score_label',
  top: 'rank.top',
  batchSize: 'rank.batch_size',
  backend: 'backend',
};

/** `recsys rank --model M (--candidates FILE | --hits FILE --queries Q --catalogue C) --output F [--qrels]`. */
export async function rankCommand(opts: RankFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  const model = requiredFlag(opts.model, 'rank', '--model');
  const output = path.resolve(requiredFlag(opts.output, 'rank', '--output'));
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts as never, FLAGS) });
  const bar = rowsProgress('ranking', opts.progress !== false && !opts.json);
  let result: Awaited<ReturnType<typeof rankCandidates>>;
  try {
    result = await rankCandidates({
      config,
      model,
      candidates: opts.candidates,
      hits: opts.hits,
      queries: opts.queries,
      catalogue: opts.catalogue,
      format: (opts.format ?? 'auto') as InputFormat | 'auto',
      queryColumn: opts.queryColumn,
      textColumn: opts.textColumn,
      groupColumn: opts.groupColumn,
      idColumn: opts.idColumn,
      output,
      qrels: opts.qrels,
      min: opts.min ?? [],
      baseline: opts.baseline,
      maxDrop: maxDropOf(opts.maxDrop, !!opts.baseline),
      baselineMetrics: opts.baselineMetrics?.split(',').map((m) => m.trim()),
      offline: opts.offline,
      verbose: opts.verbose,
      log,
      onProgress: bar?.tick,
    });
  } finally {
    bar?.stop();
  }
  const { summary: s, gates } = result;
  if (opts.json) process.stdout.write(`${JSON.stringify({ ...s, rejected: result.rejected, gates }, null, 2)}\n`);
  else {
    log.info(
      `ranked ${s.pairs} pairs of ${s.queries} queries in ${s.seconds.toFixed(1)} s ` +
        `(${Math.round(s.pairs_per_second)} ` +
        `pairs/s, score: ${s.score}) → ${output}` +
        (result.rejected ? `; ${result.rejected} rejected (see ${result.rejectsFile})` : ''),
    );
    const r = s.ranking;
    if (r) {
      const f = (name: string) => `${name} ${r.metrics[name] == null ? 'n/a' : (r.metrics[name] as number).toFixed(4)}`;
      for (const k of r.k) process.stdout.write(`${[`ndcg@${k}`, `recall@${k}`, `mrr@${k}`].map(f).join('  ')}\n`);
      process.stdout.write(`${f('map')}\n`);
      process.stdout.write(
        `judged queries ${r.n_queries} (${r.n_without_relevant} without relevant), unjudged ${r.n_unjudged}\n`,
      );
    }
    if (gates) process.stdout.write(`${gateLines(gates).join('\n')}\n`);
  }
  if (gates && !gates.passed) throw new GateError(gateSummary(gates));
}
