import { describe, expect, it } from 'vitest';
import { headHtmlReport } from '../../src/eval/head-html.js';
import { buildHeadReport, type HeadReport } from '../../src/eval/head-report.js';
import { HEADS } from '../../src/eval/heads.js';
import { formatFixed } from '../../src/eval/format.js';
import { SCATTER_POINTS } from '../../src/eval/head-plots.js';

/**
 * The HTML report of a regression and a multi-label head is drawn from report.json alone (the report
 * goes through JSON first) and shows its numbers: metrics tables, residual histogram and scatter
 * (regression), per-label precision/recall/F1 and thresholds (multi-label), the gate verdict.
 */
const source = {
  run: 'RUN',
  export: null,
  model: 'RUN/model',
  model_sha256: 'x',
  dataset: 'DS',
  dataset_sha256: 'y',
  split_file: 'test.arrow',
  split_sha256: 'z',
};

function reportOf(
  task: 'regression' | 'multi_label_classification',
  labels: string[],
  logits: number[][],
  targets: number[][],
  thresholds: number[] | null,
): HeadReport {
  const acc = HEADS[task].accumulator(labels, thresholds);
  acc.add(logits.flat(), targets.flat());
  const plots = acc.plots?.();
  const r = buildHeadReport({
    task,
    split: 'test',
    labels,
    rows: logits.length,
    thresholds,
    metrics: acc.compute(),
    ...(plots ? { plots } : {}),
    source,
    backend: 'cpu',
    seconds: 1,
  });
  return JSON.parse(JSON.stringify(r)) as HeadReport; // what report.json holds
}

/** The inline SVG labelled `label`. */
const svgOf = (html: string, label: string) => html.split(`aria-label="${label}">`)[1].split('</svg>')[0];

const f4 = (x: number | null | undefined) => formatFixed(x as number, 4);

describe('the HTML eval report of the heads', () => {
  it('regression: a metrics table per output, a residual histogram and a scatter from report.json', () => {
    const n = 1000;
    const targets = Array.from({ length: n }, (_, i) => [1 + (i % 5), (i * 7) % 11]);
    const logits = targets.map(([a, b], i) => [a + Math.sin(i) * 0.4, b - 0.5 + Math.cos(i * 3)]);
    const r = reportOf('regression', ['stars', 'helpful'], logits, targets, null);
    r.gates = {
      passed: false,
      results: [{ metric: 'rmse', value: r.metrics.rmse, passed: false, condition: '<= 0.1', source: '--max' }],
      skipped: [],
    } as unknown as HeadReport['gates'];
    const html = headHtmlReport(r);
    expect(html).toContain('Quality gate failed: 1 of 1 conditions');
    for (const out of ['stars', 'helpful'])
      for (const m of ['mae', 'mse', 'rmse', 'r2', 'pearson', 'spearman'])
        expect(html).toContain(`<td>${f4(r.metrics[`${m}:${out}`])}</td>`);
    expect(html).toContain(`<b>${f4(r.metrics.r2)}</b><span>r2</span>`);
    expect(r.plots).toHaveLength(2);
    for (const plot of r.plots!) {
      expect(html).toContain(`residuals of ${plot.output}`);
      // every row is in one bar of the histogram, and the bars are the report's counts
      const svg = svgOf(html, `residuals of ${plot.output}`);
      const bars = [...svg.matchAll(/data-count="(\d+)"/g)].map((m) => Number(m[1]));
      expect(bars).toEqual(plot.residuals.counts);
      expect(bars.reduce((a, b) => a + b)).toBe(n);
      const scatter = svgOf(html, `prediction vs target: ${plot.output}`);
      expect((scatter.match(/<circle /g) ?? []).length).toBe(plot.points.length);
      expect(plot.points.length).toBeLessThanOrEqual(SCATTER_POINTS);
    }
    // residuals of the first output: prediction − target = sin(i)·0.4 in [−0.4, 0.4]
    expect(r.plots![0].residuals.edges[0]).toBeGreaterThanOrEqual(-0.4);
    expect(r.plots![0].residuals.edges.at(-1)).toBeLessThanOrEqual(0.4);
    expect(html).not.toMatch(/<script/);
  });

  it('multi-label: per-label precision, recall, F1, support and threshold from report.json', () => {
    const labels = ['audio', 'cables', 'gaming'];
    const thresholds = [0.5, 0.3, 0.8];
    const logits = Array.from({ length: 60 }, (_, i) => [Math.sin(i), Math.cos(i * 2), Math.sin(i * 5) * 2]);
    const targets = logits.map((row, i) => row.map((v, j) => (v + ((i + j) % 3 === 0 ? 1 : -0.2) > 0 ? 1 : 0)));
    const r = reportOf('multi_label_classification', labels, logits, targets, thresholds);
    const html = headHtmlReport(r);
    expect(html).toContain('Per-label precision, recall, F1');
    labels.forEach((l, j) => {
      const row =
        `<tr><td>${l}</td><td>${f4(r.metrics[`precision:${l}`])}</td><td>${f4(r.metrics[`recall:${l}`])}</td>` +
        `<td>${f4(r.metrics[`f1:${l}`])}</td><td>${r.metrics[`support:${l}`]}</td><td>${f4(thresholds[j])}</td></tr>`;
      expect(html).toContain(row);
    });
    for (const m of ['micro_f1', 'macro_f1', 'samples_f1', 'subset_accuracy'])
      expect(html).toContain(`<b>${f4(r.metrics[m])}</b><span>${m}</span>`);
    expect(html).toContain('chosen on validation, from thresholds.json');
    expect(html).not.toContain('residuals of');
  });
});
