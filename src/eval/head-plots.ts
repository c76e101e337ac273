/**
 * What the HTML report of a regression head draws, kept small enough for report.json: per output, a
 * histogram of the residuals (prediction − target) and an evenly spaced sample of (target,
 * prediction) points for a scatter plot. The report is drawn from report.json alone.
 */

export interface OutputPlot {
  output: string;
  /** Bin edges (bins + 1 of them) and the rows in each bin; the last bin includes its upper edge. */
  residuals: { edges: number[]; counts: number[] };
  /** [target, prediction] of at most SCATTER_POINTS rows, every k-th row in split order. */
  points: [number, number][];
}

export const RESIDUAL_BINS = 20;
export const SCATTER_POINTS = 400;

export function histogram(values: ArrayLike<number>, bins = RESIDUAL_BINS): { edges: number[]; counts: number[] } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  if (!(hi > lo)) return values.length ? { edges: [lo, lo], counts: [values.length] } : { edges: [], counts: [] };
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, k) => (k === bins ? hi : lo + k * width));
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.floor((values[i] - lo) / width))]++;
  return { edges, counts };
}

/** One output's plot data from its targets and predictions (same length, split order). */
export function outputPlot(output: string, truth: number[], pred: number[]): OutputPlot {
  const residuals = histogram(Float64Array.from(pred, (p, i) => p - truth[i]));
  const step = Math.max(1, Math.ceil(truth.length / SCATTER_POINTS));
  const points: [number, number][] = [];
  for (let i = 0; i < truth.length; i += step) points.push([truth[i], pred[i]]);
  return { output, residuals, points };
}
