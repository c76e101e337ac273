/**
 * `--baseline OLD.json [--max-drop D]` for ranking metrics, with eval's semantics (gates.ts): each
 * compared metric must stay at or above the baseline's value minus the allowed drop, else the gate
 * fails (exit 1). OLD.json is a previous `recsys search --json`, `recsys rank --json` or `recsys eval
 * --json` report of a grouped dataset: all three keep the averaged metrics under `ranking.metrics`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from '../lib/errors.js';
import type { GateSpec } from './gates.js';
import { parseRankingMetric } from './ranking.js';

export interface RankingBaseline {
  file: string;
  metrics: Record<string, number | null>;
}

export function readRankingBaseline(file: string): RankingBaseline {
  if (!existsSync(file)) throw new UsageError(`${file}: baseline report not found`);
  let r: { ranking?: { metrics?: Record<string, number | null> } };
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: baseline is not valid JSON (${(err as Error).message})`);
  }
  const metrics = r?.ranking?.metrics;
  if (!metrics || typeof metrics !== 'object')
    throw new UsageError(
      `${file}: no ranking metrics ("ranking.metrics"); expected the --json output of recsys search or recsys ` +
        'rank with --qrels, or of recsys eval on a grouped dataset',
    );
  return { file, metrics };
}

/**
 * Baseline conditions for `metrics` (default: `defaults` plus every gated metric). A metric the
 * baseline does not have, or has as null, is skipped with the reason (reported as `gate SKIP`).
 */
export function rankingBaselineGates(
  baseline: RankingBaseline,
  opts: { maxDrop?: number | null; metrics?: string[]; defaults: string[]; gated: string[] },
): { specs: GateSpec[]; skipped: string[] } {
  const maxDrop = opts.maxDrop ?? 0;
  if (!(maxDrop >= 0)) throw new UsageError(`--max-drop ${maxDrop}: expected a number >= 0`);
  for (const m of opts.metrics ?? [])
    if (!parseRankingMetric(m)) throw new UsageError(`--baseline-metrics ${m}: not a ranking metric (e.g. ndcg@10)`);
  const metrics = opts.metrics ?? [...new Set([...opts.defaults, ...opts.gated])];
  const specs: GateSpec[] = [];
  const skipped: string[] = [];
  for (const metric of metrics) {
    const base = baseline.metrics[metric];
    if (base === undefined) skipped.push(`${metric}: not in the baseline report`);
    else if (base === null) skipped.push(`${metric}: undefined in the baseline report`);
    else specs.push({ metric, op: '>=', threshold: base - maxDrop, source: 'baseline', baseline: base, maxDrop });
  }
  return { specs, skipped };
}

/** `--max-drop` as a number (commander hands strings). */
export function maxDropOf(value: number | string | undefined, hasBaseline: boolean): number | null {
  if (value === undefined) return null;
  if (!hasBaseline) throw new UsageError('--max-drop needs --baseline OLD.json');
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--max-drop ${value}: expected a number >= 0`);
  return n;
}
