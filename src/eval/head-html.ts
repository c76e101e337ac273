import { formatFixed } from './format.js';
import type { OutputPlot } from './head-plots.js';
import type { HeadReport } from './head-report.js';
import { HEADS } from './heads.js';
import { type Chart, CSS, esc, f4, lineChartSvg, niceTicks, PALETTE, svgOpen, tickText } from './html.js';

/**
 * The HTML eval report of a regression or multi-label head, drawn from its report.json alone, in the
 * classification report's page (html.ts: inline CSS and SVG, no script): the gate verdict, the
 * headline metrics, then per head — regression: a metrics table per output, a residual histogram and
 * a prediction-against-target scatter; multi-label: per-label precision, recall, F1, support and the
 * threshold each label is decided at. The run's training curves close it, as for a classifier.
 */

interface Frame {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  width: number;
  height: number;
}

const M = { l: 56, r: 12, t: 30, b: 40 };
const sx = (f: Frame, x: number) => M.l + ((x - f.x0) / (f.x1 - f.x0 || 1)) * (f.width - M.l - M.r);
const sy = (f: Frame, y: number) => f.height - M.b - ((y - f.y0) / (f.y1 - f.y0 || 1)) * (f.height - M.t - M.b);

/** Axes, grid and tick labels of a chart frame. */
function axes(f: Frame, title: string, xLabel: string, yLabel: string): string {
  const p = [`<text x="${M.l}" y="18" class="ct">${esc(title)}</text>`];
  for (const t of niceTicks(f.y0, f.y1)) {
    const y = sy(f, t).toFixed(1);
    p.push(`<line x1="${M.l}" x2="${f.width - M.r}" y1="${y}" y2="${y}" class="grid"/>`);
    p.push(`<text x="${M.l - 6}" y="${y}" dy="3" text-anchor="end" class="tick">${tickText(t)}</text>`);
  }
  for (const t of niceTicks(f.x0, f.x1)) {
    const x = sx(f, t).toFixed(1);
    p.push(`<text x="${x}" y="${f.height - M.b + 14}" text-anchor="middle" class="tick">${tickText(t)}</text>`);
  }
  p.push(`<rect x="${M.l}" y="${M.t}" width="${f.width - M.l - M.r}" height="${f.height - M.t - M.b}" class="frame"/>`);
  p.push(
    `<text x="${(M.l + f.width - M.r) / 2}" y="${f.height - 6}" text-anchor="middle" class="axis">${xLabel}</text>`,
  );
  p.push(
    `<text x="14" y="${(M.t + f.height - M.b) / 2}" text-anchor="middle" class="axis" ` +
      `transform="rotate(-90 14 ${(M.t + f.height - M.b) / 2})">${yLabel}</text>`,
  );
  return p.join('');
}

/** Residuals (prediction − target) as bars, one per bin. */
export function residualHistogramSvg(plot: OutputPlot, width = 440, height = 230): string {
  const { edges, counts } = plot.residuals;
  const title = `residuals of ${plot.output}`;
  if (!counts.length) return `${svgOpen(width, height, title)}<text x="20" y="40" class="note">no rows</text></svg>`;
  const f: Frame = { x0: edges[0], x1: edges[edges.length - 1], y0: 0, y1: Math.max(...counts) * 1.05, width, height };
  if (f.x1 === f.x0) [f.x0, f.x1] = [f.x0 - 1, f.x1 + 1];
  const p = [svgOpen(width, height, title), axes(f, title, 'prediction − target', 'rows')];
  counts.forEach((c, k) => {
    const x = sx(f, edges[k]);
    const w = Math.max(1, sx(f, edges[k + 1] ?? f.x1) - x - 1);
    const y = sy(f, c);
    p.push(
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${(sy(f, 0) - y).toFixed(1)}" ` +
        `fill="${PALETTE[0]}" data-count="${c}">` +
        `<title>${tickText(edges[k])} … ${tickText(edges[k + 1])}: ${c}</title></rect>`,
    );
  });
  p.push('</svg>');
  return p.join('');
}

/** Predictions against targets, with the diagonal a perfect model would sit on. */
export function scatterSvg(plot: OutputPlot, width = 440, height = 300): string {
  const title = `prediction vs target: ${plot.output}`;
  const values = plot.points.flat();
  if (!values.length) return `${svgOpen(width, height, title)}<text x="20" y="40" class="note">no rows</text></svg>`;
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const f: Frame = { x0: lo, x1: hi, y0: lo, y1: hi, width, height };
  const p = [svgOpen(width, height, title), axes(f, title, 'target', 'prediction')];
  p.push(
    `<line x1="${sx(f, lo)}" y1="${sy(f, lo)}" x2="${sx(f, hi)}" y2="${sy(f, hi)}" stroke="#94a3b8" ` +
      'stroke-dasharray="4 3"/>',
  );
  for (const [t, y] of plot.points)
    p.push(
      `<circle cx="${sx(f, t).toFixed(1)}" cy="${sy(f, y).toFixed(1)}" r="2.2" fill="${PALETTE[0]}" opacity="0.55"/>`,
    );
  p.push(
    `<text x="${width - M.r}" y="18" text-anchor="end" class="note">${plot.points.length} rows shown</text></svg>`,
  );
  return p.join('');
}

function table(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table><tr>${th}</tr>${body}</table>`;
}

function regressionSections(r: HeadReport): string[] {
  const metrics = ['mae', 'mse', 'rmse', 'r2', 'pearson', 'spearman'];
  const rows =
    r.labels.length > 1
      ? r.labels.map((l) => [esc(l), ...metrics.map((m) => f4(r.metrics[`${m}:${l}`]))])
      : [[esc(r.labels[0] ?? 'output'), ...metrics.map((m) => f4(r.metrics[m]))]];
  if (r.labels.length > 1) rows.push(['mean', ...metrics.map((m) => f4(r.metrics[m]))]);
  const out = [`<section><h2>Regression metrics</h2>${table(['output', ...metrics], rows)}</section>`];
  for (const plot of r.plots ?? [])
    out.push(
      `<section><h2>${esc(plot.output)}: residuals and predictions</h2><div class="charts">` +
        `${residualHistogramSvg(plot)}${scatterSvg(plot)}</div></section>`,
    );
  return out;
}

function multiLabelSections(r: HeadReport): string[] {
  const rows = r.labels.map((l, j) => [
    esc(l),
    f4(r.metrics[`precision:${l}`]),
    f4(r.metrics[`recall:${l}`]),
    f4(r.metrics[`f1:${l}`]),
    String(r.metrics[`support:${l}`] ?? 'n/a'),
    f4(r.thresholds?.[j] ?? r.metrics[`threshold:${l}`] ?? 0.5),
  ]);
  const note = r.thresholds
    ? 'Each label is on when its sigmoid reaches its threshold (chosen on validation, from thresholds.json).'
    : 'No thresholds.json: every label is decided at 0.5.';
  return [
    '<section><h2>Per-label precision, recall, F1</h2>' +
      table(['label', 'precision', 'recall', 'F1', 'support', 'threshold'], rows) +
      `<ul><li>${note}</li></ul></section>`,
  ];
}

export function headHtmlReport(r: HeadReport, opts: { curves?: Chart[]; title?: string } = {}): string {
  const title = opts.title ?? `recsys eval: ${r.task} on the ${r.split} split`;
  const head = HEADS[r.task];
  const cards = head.headline
    .filter((m) => m !== 'loss' && r.metrics[m] !== undefined)
    .map((m) => [m, f4(r.metrics[m])]);
  cards.push(['rows', String(r.rows)]);
  const out = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
      '<meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${esc(title)}</title><style>${CSS}</style></head><body><main>`,
    `<h1>${esc(title)}</h1>`,
    `<div class="meta">${r.rows} rows · ${r.labels.length} ${r.task === 'regression' ? 'outputs' : 'labels'} · ` +
      `backend ${esc(r.backend)} · ${formatFixed(r.seconds, 1)} s · ${esc(r.created)}<br>` +
      `${r.source.run ? `run ${esc(r.source.run)} · ` : ''}model ${esc(r.source.model)}<br>` +
      `dataset ${esc(r.source.dataset)} (${esc(r.source.split_file)})</div>`,
  ];
  if (r.gates) {
    const failed = r.gates.results.filter((g) => !g.passed).length;
    const verdict = failed
      ? `Quality gate failed: ${failed} of ${r.gates.results.length} conditions`
      : `Quality gate passed: ${r.gates.results.length} conditions`;
    const rows = r.gates.results.map((g) => [
      g.passed ? 'PASS' : 'FAIL',
      esc(g.metric),
      g.value === null ? 'undefined' : g.value.toFixed(6),
      esc(g.condition),
    ]);
    out.push(
      `<section class="gate ${failed ? 'fail' : 'pass'}"><h2>${verdict}</h2>` +
        `${table(['', 'metric', 'value', 'condition'], rows)}</section>`,
    );
  }
  const card = ([n, v]: string[]) => `<div class="card"><b>${esc(v)}</b><span>${esc(n)}</span></div>`;
  out.push(`<div class="cards">${cards.map(card).join('')}</div>`);
  out.push(...(r.task === 'regression' ? regressionSections(r) : multiLabelSections(r)));
  if (opts.curves?.length)
    out.push(
      '<section><h2>Training curves</h2><div class="charts">' +
        `${opts.curves.map((c) => lineChartSvg(c)).join('')}</div></section>`,
    );
  out.push('</main></body></html>\n');
  return out.join('\n');
}
