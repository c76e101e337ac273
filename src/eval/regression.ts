import { outputPlot, type OutputPlot } from './head-plots.js';
/**
 * Regression metrics over plain numbers, as scikit-learn and SciPy compute them (float64):
 * - mae, mse, rmse, r2: sklearn mean_absolute_error, mean_squared_error, root_mean_squared_error,
 *   r2_score with multioutput="uniform_average" (each output's value, then their mean: rmse is the
 *   mean of per-output RMSEs, not the RMSE of all errors). r2 of a constant target is 1 when the
 *   predictions are exact and 0 otherwise (sklearn's force_finite).
 * - pearson, spearman: scipy.stats.pearsonr / spearmanr per output (average ranks for ties), then
 *   the mean; undefined (null) when an output or its predictions are constant.
 * - loss: the training loss, torch MSELoss (the mean over rows × outputs).
 * With several outputs each also has `metric:<name>`.
 */
export const REGRESSION_METRICS = ['mae', 'mse', 'rmse', 'r2', 'pearson', 'spearman'] as const;

export type Flat = Record<string, number | null>;

function pearson(x: Float64Array, y: Float64Array): number | null {
  const n = x.length;
  if (n < 2) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Average ranks (1-based), ties sharing the mean of their positions, as scipy.stats.rankdata. */
export function averageRanks(v: Float64Array): Float64Array {
  const order = Array.from(v.keys()).sort((a, b) => v[a] - v[b]);
  const ranks = new Float64Array(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

function outputMetrics(y: Float64Array, p: Float64Array): Record<(typeof REGRESSION_METRICS)[number], number | null> {
  const n = y.length;
  let abs = 0;
  let sq = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    abs += Math.abs(y[i] - p[i]);
    sq += (y[i] - p[i]) ** 2;
    mean += y[i];
  }
  mean /= n;
  let tot = 0;
  for (let i = 0; i < n; i++) tot += (y[i] - mean) ** 2;
  const r2 = tot === 0 ? (sq === 0 ? 1 : 0) : 1 - sq / tot;
  return {
    mae: abs / n,
    mse: sq / n,
    rmse: Math.sqrt(sq / n),
    r2,
    pearson: pearson(y, p),
    spearman: pearson(averageRanks(y), averageRanks(p)),
  };
}

/** Targets and predictions of every row, one output after another (the metrics need them all). */
export class RegressionAccumulator {
  private readonly truth: number[][];
  private readonly pred: number[][];

  constructor(readonly names: string[]) {
    this.truth = names.map(() => []);
    this.pred = names.map(() => []);
  }

  get rows(): number {
    return this.truth[0].length;
  }

  /** Row-major [rows, outputs] predictions (the raw outputs: regression has no activation) and targets. */
  add(outputs: ArrayLike<number>, targets: ArrayLike<number>): void {
    const w = this.names.length;
    for (let i = 0; i < outputs.length / w; i++)
      for (let j = 0; j < w; j++) {
        this.pred[j].push(outputs[i * w + j]);
        this.truth[j].push(targets[i * w + j]);
      }
  }

  /** Residual histograms and scatter samples for the HTML report (eval/head-plots.ts). */
  plots(): OutputPlot[] {
    return this.names.map((name, j) => outputPlot(name, this.truth[j], this.pred[j]));
  }

  compute(): Flat {
    const per = this.names.map((_, j) =>
      outputMetrics(Float64Array.from(this.truth[j]), Float64Array.from(this.pred[j])),
    );
    const out: Flat = {};
    for (const m of REGRESSION_METRICS) {
      const values = per.map((p) => p[m]);
      out[m] = values.some((v) => v === null) ? null : values.reduce<number>((a, b) => a + b!, 0) / values.length;
    }
    out.loss = out.mse;
    if (this.names.length > 1)
      this.names.forEach((name, j) => {
        for (const m of REGRESSION_METRICS) out[`${m}:${name}`] = per[j][m];
      });
    return out;
  }
}

/** Metric names a regression head reports (for gates and early stopping). */
export function regressionMetricNames(names: string[]): string[] {
  const out: string[] = ['loss', ...REGRESSION_METRICS];
  if (names.length > 1) for (const n of names) for (const m of REGRESSION_METRICS) out.push(`${m}:${n}`);
  return out;
}
