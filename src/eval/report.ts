import type { ClassificationMetrics } from './metrics.js';
import { codePoints, formatFixed, padEnd, padStart } from './format.js';
import type { GateReport } from './gates.js';
import { type GroupedRankingReport, groupedRankingText } from './grouped.js';

export const REPORT_FORMAT = 'recsys-eval';
export const REPORT_VERSION = 1;

/**
 * `ClassificationMetrics` as the report's JSON spells them (snake_case keys, per-class metrics
 * keyed by label). `reportMetrics` is the one conversion; key names and order are stable.
 */
export interface ReportMetrics {
  rows: number;
  labels: string[];
  accuracy: number;
  loss: number | null;
  macro_precision: number;
  macro_recall: number;
  macro_f1: number;
  weighted_precision: number;
  weighted_recall: number;
  weighted_f1: number;
  per_class: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  confusion_matrix: number[][];
  top_k_accuracy: Record<string, number> | null;
  roc_auc: number | null;
  pr_auc: number | null;
  positive_label: string | null;
  notes: string[];
}

/**
 * The machine-readable eval report (`recsys eval --json`, `--report DIR/report.json`). Key names
 * are stable; see src/eval/README.md for the documentation of each.
 */
export interface EvalReport extends ReportMetrics {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  created: string;
  split: string;
  source: {
    run: string | null;
    /** The export directory, when an exported ONNX model was evaluated (`--model`). */
    export: string | null;
    model: string;
    /** sha256 of the evaluated model file (ONNX); null for a run dir. */
    model_sha256: string | null;
    dataset: string;
    dataset_sha256: string;
    split_file: string;
    split_sha256: string;
  };
  backend: string;
  seconds: number;
  rows_per_second: number;
  gates: GateReport | null;
  /** A grouped dataset (data.group_column): per-query ranking metrics of the model's scores. */
  ranking?: GroupedRankingReport;
}

export interface ReportContext {
  split: string;
  run: string | null;
  export?: string | null;
  model: string;
  modelSha256?: string | null;
  dataset: string;
  datasetSha256: string;
  splitFile: string;
  splitSha256: string;
  backend: string;
  seconds: number;
}

/** The metrics under the report's JSON keys, in the report's key order. */
export function reportMetrics(m: ClassificationMetrics): ReportMetrics {
  return {
    rows: m.rows,
    labels: m.labels,
    accuracy: m.accuracy,
    loss: m.loss,
    macro_precision: m.macro.precision,
    macro_recall: m.macro.recall,
    macro_f1: m.macro.f1,
    weighted_precision: m.weighted.precision,
    weighted_recall: m.weighted.recall,
    weighted_f1: m.weighted.f1,
    per_class: Object.fromEntries(m.labels.map((l, i) => [l, { ...m.perClass[i] }])),
    confusion_matrix: m.confusion,
    top_k_accuracy: m.topK,
    roc_auc: m.rocAuc,
    pr_auc: m.prAuc,
    positive_label: m.positiveLabel,
    notes: m.notes,
  };
}

export function buildReport(m: ClassificationMetrics, ctx: ReportContext, gates: GateReport | null = null): EvalReport {
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    created: new Date().toISOString(),
    split: ctx.split,
    ...reportMetrics(m),
    source: {
      run: ctx.run,
      export: ctx.export ?? null,
      model: ctx.model,
      model_sha256: ctx.modelSha256 ?? null,
      dataset: ctx.dataset,
      dataset_sha256: ctx.datasetSha256,
      split_file: ctx.splitFile,
      split_sha256: ctx.splitSha256,
    },
    backend: ctx.backend,
    seconds: ctx.seconds,
    rows_per_second: ctx.seconds > 0 ? m.rows / ctx.seconds : 0,
    gates,
  };
}

// ------------------------------------------------------------------ text (sklearn style)

/**
 * sklearn's `classification_report(y_true, y_pred, labels=range(n), target_names=labels,
 * digits=digits)`, character for character.
 */
export function classificationReportText(
  r: Pick<
    EvalReport,
    | 'labels'
    | 'per_class'
    | 'accuracy'
    | 'macro_precision'
    | 'macro_recall'
    | 'macro_f1'
    | 'weighted_precision'
    | 'weighted_recall'
    | 'weighted_f1'
    | 'rows'
  >,
  digits = 2,
): string {
  const headers = ['precision', 'recall', 'f1-score', 'support'];
  const width = Math.max(Math.max(...r.labels.map(codePoints)), 'weighted avg'.length, digits);
  const f = (x: number) => ` ${padStart(formatFixed(x, digits), 9)}`;
  const row = (name: string, p: number, rc: number, f1: number, s: number) =>
    `${padStart(name, width)} ${f(p)}${f(rc)}${f(f1)} ${padStart(String(s), 9)}\n`;
  let out = `${padStart('', width)} ${headers.map((h) => ` ${padStart(h, 9)}`).join('')}\n\n`;
  for (const l of r.labels) {
    const c = r.per_class[l];
    out += row(l, c.precision, c.recall, c.f1, c.support);
  }
  out += '\n';
  // sklearn formats the blank precision/recall cells of the accuracy row with '{:>9.{digits}}' on ''.
  out +=
    padStart('accuracy', width) +
    ' ' +
    ' ' +
    padStart('', 9) +
    ' ' +
    padStart('', 9) +
    f(r.accuracy) +
    ' ' +
    padStart(String(r.rows), 9) +
    '\n';
  out += row('macro avg', r.macro_precision, r.macro_recall, r.macro_f1, r.rows);
  out += row('weighted avg', r.weighted_precision, r.weighted_recall, r.weighted_f1, r.rows);
  return out;
}

/** Confusion matrix as a text table: rows = true label, columns = predicted label. */
export function confusionText(labels: string[], cm: number[][], maxWidth = 160): string {
  const counts = cm.flat().map((v) => String(v).length);
  const countWidth = Math.max(1, ...counts);
  const nameWidth = Math.max(...labels.map(codePoints));
  const named = nameWidth + labels.reduce((a, l) => a + 2 + Math.max(codePoints(l), countWidth), 0) <= maxWidth;
  const lines = ['confusion matrix (rows: true label, columns: predicted label)'];
  if (named) {
    const colW = labels.map((l) => Math.max(codePoints(l), countWidth));
    lines.push(padStart('', nameWidth) + labels.map((l, j) => `  ${padStart(l, colW[j])}`).join(''));
    cm.forEach((row, i) => {
      lines.push(padStart(labels[i], nameWidth) + row.map((v, j) => `  ${padStart(String(v), colW[j])}`).join(''));
    });
  } else {
    const idxW = String(labels.length - 1).length + 2;
    const colW = Math.max(countWidth, idxW);
    const rowName = (i: number) => `[${i}] ${labels[i]}`;
    const rowW = Math.max(...labels.map((_, i) => codePoints(rowName(i))));
    lines.push(padStart('', rowW) + labels.map((_, j) => ` ${padStart(`[${j}]`, colW)}`).join(''));
    cm.forEach((row, i) => {
      lines.push(padEnd(rowName(i), rowW) + row.map((v) => ` ${padStart(String(v), colW)}`).join(''));
    });
  }
  return `${lines.join('\n')}\n`;
}

const num = (x: number | null, digits: number) => (x === null ? 'n/a' : formatFixed(x, digits));

/** Lines under the classification report: loss, top-k, AUCs. */
function extraLines(r: EvalReport, digits: number): string[] {
  const rows: [string, string][] = [['loss', num(r.loss, digits)]];
  for (const [k, v] of Object.entries(r.top_k_accuracy ?? {})) rows.push([`top-${k} accuracy`, formatFixed(v, digits)]);
  if (r.positive_label !== null) {
    rows.push([`ROC-AUC (positive: ${r.positive_label})`, num(r.roc_auc, digits)]);
    rows.push([`PR-AUC  (positive: ${r.positive_label})`, num(r.pr_auc, digits)]);
  }
  const w = Math.max(...rows.map(([k]) => codePoints(k)));
  return rows.map(([k, v]) => `${padEnd(k, w)}  ${v}`);
}

export function textReport(r: EvalReport, digits = 4): string {
  const parts = [
    `${r.split} split: ${r.rows} rows, ${r.backend} backend, ` +
      `${formatFixed(r.seconds, 1)} s (${Math.round(r.rows_per_second)} rows/s)\n`,
    classificationReportText(r, digits),
    `${extraLines(r, digits).join('\n')}\n`,
    confusionText(r.labels, r.confusion_matrix),
  ];
  if (r.ranking) parts.push(groupedRankingText(r.ranking, digits));
  if (r.notes.length) parts.push(`notes:\n${r.notes.map((n) => `  - ${n}`).join('\n')}\n`);
  return parts.join('\n');
}

// ------------------------------------------------------------------ markdown (CI job summaries)

const mdEscape = (s: string) =>
  s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function markdownReport(r: EvalReport, digits = 4): string {
  const f = (x: number | null) => num(x, digits);
  const out: string[] = [];
  out.push(`### recsys eval: ${mdEscape(r.split)} split, ${r.rows} rows`, '');
  if (r.gates) {
    const failed = r.gates.results.filter((g) => !g.passed).length;
    out.push(
      failed
        ? `**Quality gate failed**: ${failed} of ${r.gates.results.length} conditions`
        : `**Quality gate passed**: ${r.gates.results.length} conditions`,
      '',
    );
    out.push('| | metric | value | condition |', '|---|---|---:|---|');
    for (const g of r.gates.results)
      out.push(
        `| ${g.passed ? '✅' : '❌'} | ${mdEscape(g.metric)} | ` +
          `${g.value === null ? 'n/a' : formatFixed(g.value, 6)} | ${mdEscape(g.condition)} |`,
      );
    out.push('');
  }
  out.push('| metric | value |', '|---|---:|');
  out.push(
    `| accuracy | ${f(r.accuracy)} |`,
    `| macro F1 | ${f(r.macro_f1)} |`,
    `| weighted F1 | ${f(r.weighted_f1)} |`,
    `| loss | ${f(r.loss)} |`,
  );
  for (const [k, v] of Object.entries(r.top_k_accuracy ?? {})) out.push(`| top-${k} accuracy | ${f(v)} |`);
  if (r.positive_label !== null)
    out.push(
      `| ROC-AUC (${mdEscape(r.positive_label)}) | ${f(r.roc_auc)} |`,
      `| PR-AUC (${mdEscape(r.positive_label)}) | ${f(r.pr_auc)} |`,
    );
  out.push('');
  out.push('| label | precision | recall | F1 | support |', '|---|---:|---:|---:|---:|');
  for (const l of r.labels) {
    const c = r.per_class[l];
    out.push(`| ${mdEscape(l)} | ${f(c.precision)} | ${f(c.recall)} | ${f(c.f1)} | ${c.support} |`);
  }
  out.push(`| **macro avg** | ${f(r.macro_precision)} | ${f(r.macro_recall)} | ${f(r.macro_f1)} | ${r.rows} |`);
  out.push(
    `| **weighted avg** | ${f(r.weighted_precision)} | ${f(r.weighted_recall)} | ${f(r.weighted_f1)} | ${r.rows} |`,
  );
  out.push('', '<details><summary>Confusion matrix (rows: true label, columns: predicted label)</summary>', '');
  out.push(
    `| true \\ predicted | ${r.labels.map(mdEscape).join(' | ')} |`,
    `|---|${r.labels.map(() => '---:').join('|')}|`,
  );
  r.confusion_matrix.forEach((row, i) => {
    out.push(`| **${mdEscape(r.labels[i])}** | ${row.join(' | ')} |`);
  });
  out.push('', '</details>', '');
  if (r.notes.length) out.push(...r.notes.map((n) => `- ${mdEscape(n)}`), '');
  return out.join('\n');
}
