import type { OutputPlot } from './head-plots.js';
import { UsageError } from '../lib/errors.js';
import { evaluateGates, parseGateArg, type GateReport, type GateSpec } from './gates.js';
import { HEADS, type HeadTask } from './heads.js';
import type { Flat } from './regression.js';
import { REPORT_FORMAT, REPORT_VERSION, type EvalReport } from './report.js';

/** `recsys eval`'s report for a regression or multi-label head: the same envelope, its own metrics. */
export interface HeadReport
  extends Pick<
    EvalReport,
    'format' | 'version' | 'created' | 'split' | 'source' | 'backend' | 'seconds' | 'rows_per_second' | 'gates'
  > {
  task: HeadTask;
  labels: string[];
  rows: number;
  /** Multi-label: the thresholds applied (from the run's thresholds.json, else 0.5). */
  thresholds: number[] | null;
  metrics: Flat;
  /** Regression: per output, a residual histogram and (target, prediction) samples (eval/head-plots.ts). */
  plots?: OutputPlot[];
}

export function isHeadReport(r: unknown): r is HeadReport {
  return typeof r === 'object' && r !== null && 'task' in r && 'metrics' in r && r.task !== 'embedding';
}

export function buildHeadReport(
  a: Omit<HeadReport, 'format' | 'version' | 'created' | 'rows_per_second' | 'gates'>,
): HeadReport {
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    created: new Date().toISOString(),
    ...a,
    rows_per_second: a.seconds > 0 ? a.rows / a.seconds : 0,
    gates: null,
  };
}

export interface HeadGateInputs {
  configMin: Record<string, number>;
  configMax: Record<string, number>;
  min?: string[];
  max?: string[];
  baseline: { file: string; report: unknown } | null;
  maxDrop: number | null;
  baselineMetrics?: string[];
}

function checkName(task: HeadTask, labels: string[], metric: string, where: string): void {
  const names = HEADS[task].metricNames(labels);
  if (!names.includes(metric))
    throw new UsageError(`${where}: "${metric}" is not a ${task} metric; valid metrics: ${names.join(', ')}`);
}

/** Gate conditions for a head's metrics, every name checked before any model work. */
export function buildHeadGates(task: HeadTask, labels: string[], g: HeadGateInputs): GateSpec[] {
  const head = HEADS[task];
  const specs = new Map<string, GateSpec>();
  const add = (metric: string, op: '>=' | '<=', threshold: number, source: string, where: string) => {
    checkName(task, labels, metric, where);
    if (op === '>=' && head.lowerIsBetter(metric))
      throw new UsageError(`${where}: ${metric} is lower-is-better; use a maximum (eval.max / --max) instead`);
    specs.set(`${op}:${metric}`, { metric, op, threshold, source });
  };
  for (const [m, v] of Object.entries(g.configMin)) add(m, '>=', v, 'config eval.min', `eval.min.${m}`);
  for (const [m, v] of Object.entries(g.configMax)) add(m, '<=', v, 'config eval.max', `eval.max.${m}`);
  for (const s of g.min ?? []) {
    const { metric, threshold } = parseGateArg(s, '--min');
    add(metric, '>=', threshold, '--min', `--min ${s}`);
  }
  for (const s of g.max ?? []) {
    const { metric, threshold } = parseGateArg(s, '--max');
    add(metric, '<=', threshold, '--max', `--max ${s}`);
  }
  if (g.baseline) {
    const base = g.baseline.report as Partial<HeadReport>;
    if (!isHeadReport(base) || base.task !== task)
      throw new UsageError(
        `${g.baseline.file}: not a ${task} eval report (its task: ${base.task ?? 'classification'})`,
      );
    const maxDrop = g.maxDrop ?? 0;
    const metrics = g.baselineMetrics ?? head.headline.filter((m) => m !== 'loss');
    for (const metric of metrics) {
      checkName(task, labels, metric, `baseline metric ${metric}`);
      const value = base.metrics[metric];
      if (value === null || value === undefined) continue;
      const lower = head.lowerIsBetter(metric);
      specs.set(`baseline:${metric}`, {
        metric,
        op: lower ? '<=' : '>=',
        threshold: lower ? value + maxDrop : value - maxDrop,
        source: 'baseline',
        baseline: value,
        maxDrop,
      });
    }
  }
  return [...specs.values()];
}

export function headGateReport(specs: GateSpec[], metrics: Flat): GateReport | null {
  return specs.length ? evaluateGates(specs, metrics) : null;
}

const fmt = (v: number | null | undefined, digits: number) =>
  v === null || v === undefined ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(digits);

/** The report as text: the headline metrics, then one line per label (multi-label) or output. */
export function headReportText(r: HeadReport, digits: number): string {
  const head = HEADS[r.task];
  const lines = [`${r.task} on ${r.split} (${r.rows} rows)`, ''];
  const all = head.metricNames(r.labels).filter((m) => !m.includes(':'));
  const width = Math.max(...all.map((m) => m.length));
  for (const m of all) lines.push(`${m.padStart(width)}  ${fmt(r.metrics[m], digits)}`);
  const perLabel = r.task === 'multi_label_classification' ? ['precision', 'recall', 'f1', 'support', 'threshold'] : [];
  const perOutput = r.task === 'regression' && r.labels.length > 1 ? ['mae', 'rmse', 'r2', 'pearson', 'spearman'] : [];
  const cols = [...perLabel, ...perOutput];
  if (cols.length) {
    const lw = Math.max(5, ...r.labels.map((l) => l.length));
    lines.push('', `${''.padStart(lw)}  ${cols.map((c) => c.padStart(10)).join('')}`);
    for (const l of r.labels)
      lines.push(`${l.padStart(lw)}  ${cols.map((c) => fmt(r.metrics[`${c}:${l}`], digits).padStart(10)).join('')}`);
  }
  return `${lines.join('\n')}\n`;
}
