import { formatFixed } from './format.js';
import { type MetricsRecord, readMetricsLog } from './metrics-record.js';
import type { EvalReport } from './report.js';

/**
 * A self-contained HTML eval report: inline CSS and SVG only (no script, no CDN, no fonts), so it
 * opens offline and as a CI artifact. Confusion-matrix heatmap, per-class bars, and the training
 * curves of a run (RUN_DIR/metrics.jsonl) when present.
 */

export const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
export const f4 = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : formatFixed(x, 4));
/** The opening tag of an inline SVG of this size, labelled for screen readers. */
export const svgOpen = (width: number, height: number, label: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
  `role="img" aria-label="${label}">`;
export const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];

// ------------------------------------------------------------------ training curves

export interface Series {
  name: string;
  points: [number, number][];
}

export interface Chart {
  title: string;
  xLabel: string;
  series: Series[];
}

/** Charts first in this order, then the rest alphabetically. */
const PRIORITY = ['loss', 'macro_f1', 'accuracy', 'weighted_f1', 'lr', 'grad_norm'];
/** What a train-step record plots (the rest is bookkeeping: step, epoch, speed, time). */
const TRAIN_SERIES = ['loss', 'lr', 'grad_norm'] as const;

/** The plotted values of one record, named `train.loss`, `validation.macro_f1`, …, keyed by metric. */
function seriesValues(r: MetricsRecord): [metric: string, series: string, value: number][] {
  if (r.type === 'train') return TRAIN_SERIES.map((k) => [k, `train.${k}`, r[k]]);
  return Object.entries(r.metrics)
    .filter(([k]) => k !== 'rows')
    .map(([k, v]) => [k, `${r.split}.${k}`, v]);
}

/**
 * Training curves from a run's metrics.jsonl (eval/metrics-record.ts), against the step: one chart
 * per metric, with the train and validation series of that metric together (train.loss and
 * validation.loss). Non-finite values (a diverged loss) are left out of the lines.
 */
export function readTrainingCurves(file: string, maxCharts = 8): Chart[] {
  const groups = new Map<string, Map<string, [number, number][]>>();
  for (const r of readMetricsLog(file)) {
    for (const [metric, series, value] of seriesValues(r)) {
      if (!Number.isFinite(value)) continue;
      if (!groups.has(metric)) groups.set(metric, new Map());
      const g = groups.get(metric)!;
      if (!g.has(series)) g.set(series, []);
      g.get(series)!.push([r.step, value]);
    }
  }
  const rank = (m: string) => {
    const i = PRIORITY.indexOf(m);
    return i < 0 ? PRIORITY.length : i;
  };
  return [...groups.entries()]
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]))
    .slice(0, maxCharts)
    .map(([metric, g]) => ({
      title: metric,
      xLabel: 'step',
      series: [...g.entries()].map(([name, points]) => ({ name, points })),
    }));
}

export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

export const tickText = (t: number) =>
  Math.abs(t) >= 1e4 || (Math.abs(t) < 1e-3 && t !== 0) ? t.toExponential(1) : String(Number(t.toPrecision(4)));

export function lineChartSvg(chart: Chart, width = 440, height = 230): string {
  const m = { l: 56, r: 12, t: 30 + 14 * Math.ceil(chart.series.length / 2), b: 40 };
  const all = chart.series.flatMap((s) => s.points);
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - Math.max(1e-3, Math.abs(y0) * 0.1), y1 + Math.max(1e-3, Math.abs(y1) * 0.1)];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const W = width - m.l - m.r;
  const H = height - m.t - m.b;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * W;
  const sy = (y: number) => m.t + H - ((y - y0) / (y1 - y0)) * H;
  const parts: string[] = [];
  parts.push(svgOpen(width, height, esc(chart.title)));
  parts.push(`<text x="${m.l}" y="16" class="ct">${esc(chart.title)}</text>`);
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${m.l + W}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" class="grid"/>`);
    parts.push(
      `<text x="${m.l - 6}" y="${(sy(t) + 4).toFixed(1)}" class="tick" text-anchor="end">${esc(tickText(t))}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1)) {
    parts.push(
      `<text x="${sx(t).toFixed(1)}" y="${m.t + H + 16}" class="tick" text-anchor="middle">${esc(tickText(t))}</text>`,
    );
  }
  parts.push(
    `<text x="${m.l + W / 2}" y="${height - 6}" class="tick" text-anchor="middle">${esc(chart.xLabel)}</text>`,
  );
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W}" height="${H}" class="frame"/>`);
  chart.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    if (s.points.length > 1) parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
    if (s.points.length <= 40)
      for (const [x, y] of s.points)
        parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.4" fill="${color}"/>`);
    // legend under the title, two entries per line, outside the plot area
    const lx = m.l + (i % 2) * (W / 2);
    const ly = 32 + Math.floor(i / 2) * 14;
    parts.push(
      `<rect x="${lx}" y="${ly - 5}" width="12" height="3" fill="${color}"/>` +
        `<text x="${lx + 16}" y="${ly}" class="legend">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

// ------------------------------------------------------------------ confusion matrix and bars

/** Heatmap colored by the share of each true label's rows (row-normalised), counts in the cells. */
function confusionSvg(labels: string[], cm: number[][]): string {
  const n = labels.length;
  const cell = Math.max(14, Math.min(64, Math.floor(640 / n)));
  const nameW = Math.min(180, 12 + 7 * Math.max(...labels.map((l) => [...l].length)));
  const top = nameW * 0.72 + 30;
  const left = nameW + 30;
  const width = Math.max(left + n * cell + 20, left + 490); // room for the colour note under small matrices
  const height = top + n * cell + 40;
  const clip = (l: string) => ([...l].length > 24 ? `${[...l].slice(0, 23).join('')}…` : l);
  const p: string[] = [];
  p.push(svgOpen(width, height, 'confusion matrix'));
  p.push(`<text x="${left + (n * cell) / 2}" y="14" class="axis" text-anchor="middle">predicted label</text>`);
  p.push(
    `<text transform="translate(12 ${top + (n * cell) / 2}) rotate(-90)" class="axis" text-anchor="middle">` +
      'true label</text>',
  );
  cm.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((v, j) => {
      const share = total ? v / total : 0;
      const diag = i === j;
      // blue scale on the diagonal (correct), red scale off it (errors)
      const hue = diag ? 214 : 0;
      const light = 97 - share * 55;
      const fill = v === 0 ? '#f8fafc' : `hsl(${hue} ${diag ? 80 : 75}% ${light.toFixed(1)}%)`;
      const x = left + j * cell;
      const y = top + i * cell;
      p.push(
        `<rect x="${x}" y="${y}" width="${cell - 1}" height="${cell - 1}" fill="${fill}">` +
          `<title>true ${esc(labels[i])} → predicted ${esc(labels[j])}: ${v} ` +
          `(${(100 * share).toFixed(1)}% of ${esc(labels[i])})</title></rect>`,
      );
      if (cell >= 20 && v > 0) {
        const fs = Math.min(12, cell / 2.6);
        p.push(
          `<text x="${x + (cell - 1) / 2}" y="${y + cell / 2 + fs / 3}" font-size="${fs.toFixed(1)}" ` +
            `text-anchor="middle" fill="${light < 60 ? '#fff' : '#111'}">${v}</text>`,
        );
      }
    });
    p.push(
      `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" class="lab" text-anchor="end">` +
        `${esc(clip(labels[i]))}</text>`,
    );
  });
  labels.forEach((l, j) => {
    const x = left + j * cell + cell / 2;
    p.push(`<text transform="translate(${x + 4} ${top - 6}) rotate(-55)" class="lab">${esc(clip(l))}</text>`);
  });
  p.push(
    `<text x="${left}" y="${height - 12}" class="note">cell colour: share of the true label's rows ` +
      '(blue: correct, red: confused); hover for details</text>',
  );
  p.push('</svg>');
  return p.join('');
}

/** Per-class precision / recall / F1 as grouped horizontal bars, with support. */
function perClassBarsSvg(r: EvalReport): string {
  const rowH = 34;
  const nameW = Math.min(200, 16 + 7 * Math.max(...r.labels.map((l) => [...l].length)));
  const barW = 360;
  const width = nameW + barW + 150;
  const top = 30;
  const height = top + r.labels.length * rowH + 16;
  const keys = [
    ['precision', '#2563eb'],
    ['recall', '#059669'],
    ['f1', '#d97706'],
  ] as const;
  const p: string[] = [];
  p.push(svgOpen(width, height, 'per-class metrics'));
  keys.forEach(([k, c], i) => {
    p.push(
      `<rect x="${nameW + i * 90}" y="8" width="10" height="10" fill="${c}"/>` +
        `<text x="${nameW + 14 + i * 90}" y="17" class="legend">${k === 'f1' ? 'F1' : k}</text>`,
    );
  });
  p.push(`<text x="${nameW + barW + 12}" y="17" class="legend">support</text>`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const x = nameW + t * barW;
    p.push(
      `<line x1="${x}" x2="${x}" y1="${top - 4}" y2="${height - 12}" class="grid"/>` +
        `<text x="${x}" y="${height - 2}" class="tick" text-anchor="middle">${t}</text>`,
    );
  }
  r.labels.forEach((l, i) => {
    const c = r.per_class[l];
    const y = top + i * rowH;
    p.push(`<text x="${nameW - 8}" y="${y + rowH / 2 + 2}" class="lab" text-anchor="end">${esc(l)}</text>`);
    keys.forEach(([k, color], j) => {
      const v = c[k];
      p.push(
        `<rect x="${nameW}" y="${y + 3 + j * 9}" width="${Math.max(0.5, v * barW).toFixed(1)}" height="8" ` +
          `fill="${color}"><title>${esc(l)} ${k}: ${f4(v)}</title></rect>`,
      );
    });
    p.push(
      `<text x="${nameW + barW + 12}" y="${y + rowH / 2 + 2}" class="tick">` +
        `${c.support}${c.support === 0 ? ' (absent)' : ''}</text>`,
    );
  });
  p.push('</svg>');
  return p.join('');
}

// ------------------------------------------------------------------ page

export const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f1f5f9;color:#0f172a}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 12px}
.meta{color:#475569;font-size:12.5px;word-break:break-all;margin-bottom:14px}
section{background:#fff;border-radius:10px;padding:18px 20px;margin:16px 0;box-shadow:0 1px 2px #0000001a;\
overflow-x:auto}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border-radius:10px;padding:12px 16px;min-width:120px;box-shadow:0 1px 2px #0000001a}
.card b{display:block;font-size:22px}.card span{color:#475569;font-size:12px}
.gate{border-left:6px solid}.pass{border-color:#16a34a}.fail{border-color:#dc2626}
.gate table td:first-child{font-weight:700}.gate td.l,.gate th.l{text-align:left}
td.ok{color:#16a34a}td.bad{color:#dc2626}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;text-align:right;border-bottom:1px solid #e2e8f0}
th:first-child,td:first-child{text-align:left}
tr.avg td{font-weight:600;background:#f8fafc}
.charts{display:flex;flex-wrap:wrap;gap:8px}
svg text{font-family:system-ui,sans-serif}
.ct{font-size:13px;font-weight:600}.tick{font-size:10.5px;fill:#475569}.legend{font-size:11px;fill:#0f172a}
.lab{font-size:11.5px;fill:#0f172a}.axis{font-size:12px;font-weight:600;fill:#334155}.note{font-size:11px;fill:#64748b}
.grid{stroke:#e2e8f0;stroke-width:1}.frame{fill:none;stroke:#cbd5e1}
ul{margin:4px 0;padding-left:20px}
`;

export function htmlReport(r: EvalReport, opts: { curves?: Chart[]; title?: string } = {}): string {
  const title = opts.title ?? `recsys eval: ${r.split} split`;
  const cards: [string, string][] = [
    ['accuracy', f4(r.accuracy)],
    ['macro F1', f4(r.macro_f1)],
    ['weighted F1', f4(r.weighted_f1)],
    ['loss', f4(r.loss)],
  ];
  for (const [k, v] of Object.entries(r.top_k_accuracy ?? {})) cards.push([`top-${k} accuracy`, f4(v)]);
  if (r.positive_label !== null)
    cards.push([`ROC-AUC (${r.positive_label})`, f4(r.roc_auc)], [`PR-AUC (${r.positive_label})`, f4(r.pr_auc)]);
  cards.push(['rows', String(r.rows)]);

  const out: string[] = [];
  out.push(
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
      '<meta name="viewport" content="width=device-width,initial-scale=1">',
  );
  out.push(`<title>${esc(title)}</title><style>${CSS}</style></head><body><main>`);
  out.push(`<h1>${esc(title)}</h1>`);
  out.push(
    `<div class="meta">${r.rows} rows · ${esc(r.labels.length)} labels · backend ${esc(r.backend)} · ` +
      `${formatFixed(r.seconds, 1)} s (${Math.round(r.rows_per_second)} rows/s) · ${esc(r.created)}<br>`,
  );
  out.push(
    `${r.source.run ? `run ${esc(r.source.run)} · ` : ''}model ${esc(r.source.model)}<br>` +
      `dataset ${esc(r.source.dataset)} (${esc(r.source.split_file)}, ` +
      `sha256 ${esc(r.source.split_sha256.slice(0, 16))}…)</div>`,
  );

  if (r.gates) {
    const failed = r.gates.results.filter((g) => !g.passed).length;
    const total = r.gates.results.length;
    const verdict = failed
      ? `Quality gate failed: ${failed} of ${total} conditions`
      : `Quality gate passed: ${total} conditions`;
    out.push(
      `<section class="gate ${failed ? 'fail' : 'pass'}"><h2>${verdict}</h2><table>` +
        '<tr><th></th><th class="l">metric</th><th>value</th><th class="l">condition</th></tr>',
    );
    for (const g of r.gates.results) {
      out.push(
        `<tr><td class="${g.passed ? 'ok' : 'bad'}">${g.passed ? 'PASS' : 'FAIL'}</td>` +
          `<td class="l">${esc(g.metric)}</td><td>${g.value === null ? 'undefined' : g.value.toFixed(6)}</td>` +
          `<td class="l">${esc(g.condition)}</td></tr>`,
      );
    }
    out.push('</table>');
    if (r.gates.skipped.length)
      out.push(`<ul>${r.gates.skipped.map((s) => `<li>skipped: ${esc(s)}</li>`).join('')}</ul>`);
    out.push('</section>');
  }

  const card = ([name, value]: [string, string]) =>
    `<div class="card"><b>${esc(value)}</b><span>${esc(name)}</span></div>`;
  out.push(`<div class="cards">${cards.map(card).join('')}</div>`);

  out.push(`<section><h2>Confusion matrix</h2>${confusionSvg(r.labels, r.confusion_matrix)}</section>`);
  out.push(`<section><h2>Per-class precision, recall, F1</h2>${perClassBarsSvg(r)}</section>`);

  out.push(
    '<section><h2>Classification report</h2><table>' +
      '<tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>',
  );
  for (const l of r.labels) {
    const c = r.per_class[l];
    out.push(
      `<tr><td>${esc(l)}</td><td>${f4(c.precision)}</td><td>${f4(c.recall)}</td><td>${f4(c.f1)}</td>` +
        `<td>${c.support}</td></tr>`,
    );
  }
  out.push(`<tr class="avg"><td>accuracy</td><td></td><td></td><td>${f4(r.accuracy)}</td><td>${r.rows}</td></tr>`);
  out.push(
    `<tr class="avg"><td>macro avg</td><td>${f4(r.macro_precision)}</td><td>${f4(r.macro_recall)}</td>` +
      `<td>${f4(r.macro_f1)}</td><td>${r.rows}</td></tr>`,
  );
  out.push(
    `<tr class="avg"><td>weighted avg</td><td>${f4(r.weighted_precision)}</td><td>${f4(r.weighted_recall)}</td>` +
      `<td>${f4(r.weighted_f1)}</td><td>${r.rows}</td></tr></table>`,
  );
  if (r.notes.length) out.push(`<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  out.push('</section>');

  if (opts.curves?.length) {
    out.push(
      '<section><h2>Training curves</h2><div class="charts">' +
        `${opts.curves.map((c) => lineChartSvg(c)).join('')}</div></section>`,
    );
  }
  out.push('</main></body></html>\n');
  return out.join('\n');
}
