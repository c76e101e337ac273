import { UsageError } from '../lib/errors.js';
import { type GateSpec, parseGateArg } from '../eval/gates.js';
import { rankingBaselineGates, readRankingBaseline } from '../eval/ranking-baseline.js';
import { parseRankingMetric } from '../eval/ranking.js';

const VALID =
  'valid metrics: recall@K, ndcg@K, mrr@K, map@K, precision@K, hit_rate@K, dcg@K (K <= --k), map, mrr, ndcg, recall';

/**
 * Gates on search's ranking metrics (`--min ndcg@10=0.5`, config `search.min`), parsed as eval's
 * gates are (eval/gates.ts); a name is checked against the ranking metrics and a cut-off against
 * the hits searched. Returns the specs and the extra cut-offs they need computed.
 */
export function rankingGates(configMin: Record<string, number>, min: string[], k: number) {
  const specs = new Map<string, GateSpec>();
  const cutoffs = new Set<number>();
  const check = (metric: string, where: string) => {
    const parsed = parseRankingMetric(metric);
    if (!parsed) throw new UsageError(`${where}: unknown metric "${metric}"; ${VALID}`);
    if (parsed.k !== undefined && parsed.k > k)
      throw new UsageError(`${where}: ${metric} needs at least ${parsed.k} hits per query; search returns --k ${k}`);
    if (parsed.k !== undefined) cutoffs.add(parsed.k);
  };
  for (const [metric, threshold] of Object.entries(configMin)) {
    check(metric, `search.min.${metric}`);
    specs.set(metric, { metric, op: '>=', threshold, source: 'config search.min' });
  }
  for (const spec of min) {
    const { metric, threshold } = parseGateArg(spec, '--min');
    check(metric, `--min ${spec}`);
    specs.set(metric, { metric, op: '>=', threshold, source: '--min' });
  }
  return { specs: [...specs.values()], cutoffs: [...cutoffs] };
}

/**
 * search's gates: `--min` / `search.min`, and `--baseline OLD.json [--max-drop D]` (a previous
 * `search --json` report), checked against recall@k, nDCG@k, MRR@k and MAP by default.
 */
export function searchGates(
  configMin: Record<string, number>,
  flags: { min?: string[]; baseline?: string; maxDrop: number | null; baselineMetrics?: string },
  k: number,
) {
  const gated = rankingGates(configMin, flags.min ?? [], k);
  if (!flags.baseline) return { ...gated, skipped: [] as string[] };
  const metrics = flags.baselineMetrics?.split(',').map((m) => m.trim());
  for (const m of metrics ?? []) check(m, k);
  const base = rankingBaselineGates(readRankingBaseline(flags.baseline), {
    maxDrop: flags.maxDrop,
    metrics,
    defaults: [`recall@${k}`, `ndcg@${k}`, `mrr@${k}`, 'map'],
    gated: gated.specs.map((s) => s.metric),
  });
  return { specs: [...gated.specs, ...base.specs], cutoffs: gated.cutoffs, skipped: base.skipped };
}

function check(metric: string, k: number): void {
  const parsed = parseRankingMetric(metric);
  if (!parsed) throw new UsageError(`--baseline-metrics ${metric}: unknown metric; ${VALID}`);
  if (parsed.k !== undefined && parsed.k > k)
    throw new UsageError(`--baseline-metrics ${metric}: needs ${parsed.k} hits per query; search returns --k ${k}`);
}
