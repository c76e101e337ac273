import { UsageError } from '../lib/errors.js';
import { type GateSpec, parseGateArg } from '../eval/gates.js';
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
