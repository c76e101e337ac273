import { closest } from '../config/suggest.js';
import { UsageError } from '../lib/errors.js';
import { LOWER_IS_BETTER, PER_CLASS_METRICS } from './metrics.js';
import { parseRankingMetric } from './ranking.js';
import { REPORT_FORMAT, type EvalReport } from './report.js';

/**
 * Quality gates: thresholds on metrics (`--min accuracy=0.9`, `--max loss=0.5`, config `eval.min`)
 * and a baseline report with an allowed drop (`--baseline OLD.json --max-drop 0.01`).
 *
 * Metric names are those of `flatMetrics`: accuracy, loss, macro_/weighted_ precision|recall|f1,
 * top_K_accuracy, roc_auc, pr_auc (binary), and per class `precision:Label`, `recall:Label`,
 * `f1:Label`. Comparisons allow 1e-12 of floating-point slack.
 */

export type GateOp = '>=' | '<=';

export interface GateSpec {
  metric: string;
  op: GateOp;
  threshold: number;
  /** Where the condition comes from: "--min", "--max", "config eval.min", "baseline". */
  source: string;
  baseline?: number;
  maxDrop?: number;
}

export interface GateResult {
  metric: string;
  value: number | null;
  op: GateOp;
  threshold: number;
  passed: boolean;
  /** Human-readable condition, e.g. ">= 0.9 (--min)". */
  condition: string;
  source: string;
  baseline?: number;
  max_drop?: number;
}

export interface GateReport {
  passed: boolean;
  results: GateResult[];
  /** Baseline metrics not compared, with the reason (e.g. undefined in the baseline). */
  skipped: string[];
}

const EPS = 1e-12;

/** Default metrics compared with a baseline (plus every metric named in a min/max gate). */
export function defaultBaselineMetrics(numLabels: number): string[] {
  return numLabels === 2
    ? ['accuracy', 'macro_f1', 'weighted_f1', 'roc_auc', 'pr_auc']
    : ['accuracy', 'macro_f1', 'weighted_f1'];
}

/** What a task offers: its labels and whether it is binary. */
export interface GateSpace {
  labels: string[];
  /**
   * A grouped dataset: per-query ranking metrics (ndcg@10, mrr, …) may be gated too, and these are
   * compared with a baseline by default.
   */
  ranking?: string[];
}

const GLOBAL = [
  'accuracy',
  'loss',
  'macro_precision',
  'macro_recall',
  'macro_f1',
  'weighted_precision',
  'weighted_recall',
  'weighted_f1',
];

function validNamesText(space: GateSpace): string {
  const names = [...GLOBAL];
  if (space.labels.length > 2) names.push(`top_K_accuracy (1 < K < ${space.labels.length})`);
  if (space.labels.length === 2) names.push('roc_auc', 'pr_auc');
  names.push(...PER_CLASS_METRICS.map((m) => `${m}:<label>`));
  if (space.ranking) names.push('ndcg@K, recall@K, mrr@K, map@K, precision@K, hit_rate@K, dcg@K, ndcg, mrr, map');
  return `valid metrics: ${names.join(', ')}; labels: ${space.labels.join(', ')}`;
}

/** Top-k values a metric name asks for (top_3_accuracy → 3), else undefined. */
export function topKOf(metric: string): number | undefined {
  const m = /^top_(\d+)_accuracy$/.exec(metric);
  return m ? Number(m[1]) : undefined;
}

/** Check a metric name against the task; a usage error lists the valid names. */
export function checkMetricName(metric: string, space: GateSpace, where: string): void {
  const n = space.labels.length;
  if (parseRankingMetric(metric)) {
    if (space.ranking) return;
    throw new UsageError(
      `${where}: ${metric} is a per-query ranking metric: it needs a dataset prepared with data.group_column`,
    );
  }
  const colon = metric.indexOf(':');
  if (colon >= 0) {
    const kind = metric.slice(0, colon);
    const label = metric.slice(colon + 1);
    if (!(PER_CLASS_METRICS as readonly string[]).includes(kind)) {
      const hint = closest(kind, PER_CLASS_METRICS);
      throw new UsageError(
        `${where}: unknown per-class metric ` +
          `"${kind}"${hint ? ` (did you mean "${hint}:${label}"?)` : ''}; per-class metrics are ` +
          `${PER_CLASS_METRICS.map((m) => `${m}:<label>`).join(', ')}`,
      );
    }
    if (!space.labels.includes(label)) {
      const hint = closest(label, space.labels);
      throw new UsageError(
        `${where}: unknown label "${label}"${hint ? ` (did you mean "${kind}:${hint}"?)` : ''}; ` +
          `labels: ${space.labels.join(', ')}`,
      );
    }
    return;
  }
  if (GLOBAL.includes(metric)) return;
  const k = topKOf(metric);
  if (k !== undefined) {
    if (n <= 2)
      throw new UsageError(
        `${where}: ${metric}: top-k accuracy is only computed for more than 2 classes (this task ` +
          `has ${n}); ${validNamesText(space)}`,
      );
    if (k < 2 || k >= n) throw new UsageError(`${where}: ${metric}: K must be between 2 and ${n - 1} for ${n} classes`);
    return;
  }
  if (metric === 'roc_auc' || metric === 'pr_auc') {
    if (n === 2) return;
    throw new UsageError(
      `${where}: ${metric} is only computed for binary tasks (this one has ${n} labels); ${validNamesText(space)}`,
    );
  }
  const candidates = [...GLOBAL, ...(n === 2 ? ['roc_auc', 'pr_auc'] : ['top_2_accuracy', 'top_3_accuracy'])];
  const hint = closest(metric, candidates);
  throw new UsageError(
    `${where}: unknown metric "${metric}"${hint ? ` (did you mean "${hint}"?)` : ''}; ${validNamesText(space)}`,
  );
}

/** `metric=value` (split at the last '=', so labels may contain '='). */
export function parseGateArg(spec: string, flag: string): { metric: string; threshold: number } {
  const eq = spec.lastIndexOf('=');
  const metric = eq > 0 ? spec.slice(0, eq).trim() : '';
  const raw = eq > 0 ? spec.slice(eq + 1).trim() : '';
  const threshold = Number(raw);
  if (!metric || raw === '' || !Number.isFinite(threshold)) {
    throw new UsageError(
      `${flag} ${spec}: expected METRIC=NUMBER, e.g. ${flag} accuracy=0.9 or ${flag} recall:<label>=0.8`,
    );
  }
  return { metric, threshold };
}

export interface GateInputs {
  /** From the config (`eval.min`); overridden by `--min` for the same metric. */
  configMin?: Record<string, number>;
  /** From the config (`eval.max`); overridden by `--max` for the same metric. */
  configMax?: Record<string, number>;
  min?: string[];
  max?: string[];
  baseline?: { file: string; report: EvalReport } | null;
  maxDrop?: number | null;
  /** Metrics compared with the baseline (default: defaultBaselineMetrics + every gated metric). */
  baselineMetrics?: string[];
  /** Where baselineMetrics come from, for error messages (default "--baseline-metrics"). */
  baselineMetricsSource?: string;
}

/** Read and sanity-check a baseline report (a previous `recsys eval --json` / report.json). */
export function parseBaseline(file: string, text: string): EvalReport {
  let r: EvalReport;
  try {
    r = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: baseline is not valid JSON (${(err as Error).message})`);
  }
  if (!r || r.format !== REPORT_FORMAT)
    throw new UsageError(
      `${file}: not a recsys eval report (expected "format": "${REPORT_FORMAT}", from recsys eval --json or --report)`,
    );
  return r;
}

/** Value of a flat metric name in a report (null when undefined there). */
export function reportValue(r: EvalReport, metric: string): number | null | undefined {
  const colon = metric.indexOf(':');
  if (colon >= 0) {
    const c = r.per_class?.[metric.slice(colon + 1)];
    return c ? (c as unknown as Record<string, number>)[metric.slice(0, colon)] : undefined;
  }
  const k = topKOf(metric);
  if (k !== undefined) return r.top_k_accuracy?.[String(k)];
  if (r.ranking && parseRankingMetric(metric)) return r.ranking.metrics[metric];
  const v = (r as unknown as Record<string, unknown>)[metric];
  return typeof v === 'number' ? v : v === null ? null : undefined;
}

const short = (x: number) => String(Number(x.toFixed(6)));

/** Turn the inputs into conditions, validating every metric name before any work is done. */
export function buildGates(inputs: GateInputs, space: GateSpace): { specs: GateSpec[]; skipped: string[] } {
  const byKey = new Map<string, GateSpec>();
  for (const [metric, threshold] of Object.entries(inputs.configMin ?? {})) {
    checkMetricName(metric, space, `eval.min.${metric}`);
    if (LOWER_IS_BETTER.has(metric))
      throw new UsageError(
        `eval.min.${metric}: ${metric} is lower-is-better; a minimum makes no sense (use --max ${metric}=VALUE)`,
      );
    byKey.set(`min:${metric}`, { metric, op: '>=', threshold, source: 'config eval.min' });
  }
  for (const [metric, threshold] of Object.entries(inputs.configMax ?? {})) {
    checkMetricName(metric, space, `eval.max.${metric}`);
    byKey.set(`max:${metric}`, { metric, op: '<=', threshold, source: 'config eval.max' });
  }
  for (const spec of inputs.min ?? []) {
    const { metric, threshold } = parseGateArg(spec, '--min');
    checkMetricName(metric, space, `--min ${spec}`);
    if (LOWER_IS_BETTER.has(metric))
      throw new UsageError(`--min ${spec}: ${metric} is lower-is-better; use --max ${metric}=${threshold}`);
    byKey.set(`min:${metric}`, { metric, op: '>=', threshold, source: '--min' });
  }
  for (const spec of inputs.max ?? []) {
    const { metric, threshold } = parseGateArg(spec, '--max');
    checkMetricName(metric, space, `--max ${spec}`);
    byKey.set(`max:${metric}`, { metric, op: '<=', threshold, source: '--max' });
  }
  const specs = [...byKey.values()];
  const skipped: string[] = [];

  if (inputs.maxDrop != null && !inputs.baseline)
    throw new UsageError('--max-drop needs --baseline OLD_REPORT.json (or eval.baseline in the config)');
  if (inputs.baseline) {
    const { file, report } = inputs.baseline;
    const maxDrop = inputs.maxDrop ?? 0;
    if (!(maxDrop >= 0)) throw new UsageError(`--max-drop ${maxDrop}: expected a number >= 0`);
    let metrics = inputs.baselineMetrics;
    if (metrics)
      for (const m of metrics)
        checkMetricName(m, space, `${inputs.baselineMetricsSource ?? '--baseline-metrics'} ${m}`);
    else
      metrics = [
        ...new Set([
          ...defaultBaselineMetrics(space.labels.length),
          ...(space.ranking ?? []),
          ...specs.map((s) => s.metric),
        ]),
      ];
    for (const metric of metrics) {
      const base = reportValue(report, metric);
      if (base === undefined) {
        if (metric.includes(':'))
          throw new UsageError(
            `${file}: the baseline has no ${metric} (its labels: ${(report.labels ?? []).join(', ')})`,
          );
        skipped.push(`${metric}: not in the baseline report`);
        continue;
      }
      if (base === null) {
        skipped.push(`${metric}: undefined in the baseline report`);
        continue;
      }
      const lower = LOWER_IS_BETTER.has(metric);
      specs.push({
        metric,
        op: lower ? '<=' : '>=',
        threshold: lower ? base + maxDrop : base - maxDrop,
        source: 'baseline',
        baseline: base,
        maxDrop,
      });
    }
  }
  return { specs, skipped };
}

/** Every top-k a set of gates needs computed. */
export function gateTopKs(specs: GateSpec[]): number[] {
  return specs.map((s) => topKOf(s.metric)).filter((k): k is number => k !== undefined);
}

export function evaluateGates(
  specs: GateSpec[],
  values: Record<string, number | null>,
  skipped: string[] = [],
): GateReport {
  const results: GateResult[] = specs.map((s) => {
    const value = values[s.metric] ?? null;
    const passed = value !== null && (s.op === '>=' ? value >= s.threshold - EPS : value <= s.threshold + EPS);
    const why =
      s.source === 'baseline'
        ? `baseline ${short(s.baseline!)} ${s.op === '>=' ? 'minus' : 'plus'} max drop ${short(s.maxDrop!)}`
        : s.source;
    const r: GateResult = {
      metric: s.metric,
      value,
      op: s.op,
      threshold: s.threshold,
      passed,
      condition: `${s.op} ${short(s.threshold)} (${why})`,
      source: s.source,
    };
    if (s.source === 'baseline') {
      r.baseline = s.baseline;
      r.max_drop = s.maxDrop;
    }
    return r;
  });
  return { passed: results.every((r) => r.passed), results, skipped };
}

/** One line per condition: `gate FAIL macro_f1 = 0.801234, needs >= 0.85 (--min)`. */
export function gateLines(g: GateReport): string[] {
  const lines = g.results.map(
    (r) =>
      `gate ${r.passed ? 'PASS' : 'FAIL'} ${r.metric} = ` +
      `${r.value === null ? 'undefined' : r.value.toFixed(6)}, needs ${r.condition}`,
  );
  for (const s of g.skipped) lines.push(`gate SKIP ${s}`);
  return lines;
}

export function gateSummary(g: GateReport): string {
  const failed = g.results.filter((r) => !r.passed);
  return failed.length
    ? `quality gate failed: ${failed.length} of ${g.results.length} conditions ` +
        `(${failed.map((r) => r.metric).join(', ')})`
    : `quality gate passed: ${g.results.length} condition${g.results.length === 1 ? '' : 's'}`;
}
