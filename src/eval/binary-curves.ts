/**
 * ROC and precision-recall summaries of a binary task's positive-class scores, computed as
 * scikit-learn 1.9 does (see metrics.ts for the conventions).
 */

export interface BinaryCurves {
  rocAuc: number | null;
  averagePrecision: number;
  positives: number;
  negatives: number;
  /** Points at each distinct threshold, from the highest score down (tp/fp counts so far). */
  points: { threshold: number; tp: number; fp: number }[];
}

/**
 * ROC-AUC and average precision as sklearn computes them, from positive-class scores. Sorts the
 * positive and negative scores separately (native typed-array sorts) and walks both from the top,
 * one point per distinct score.
 */
export function binaryCurves(
  scores: ArrayLike<number>,
  positive: ArrayLike<number>,
  opts: { maxPoints?: number } = {},
): BinaryCurves {
  let p = 0;
  for (let i = 0; i < positive.length; i++) if (positive[i]) p++;
  const nNeg = scores.length - p;
  const pos = new Float64Array(p);
  const neg = new Float64Array(nNeg);
  for (let i = 0, a = 0, b = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError('NaN score');
    if (positive[i]) pos[a++] = scores[i];
    else neg[b++] = scores[i];
  }
  pos.sort();
  neg.sort();
  let i = p - 1;
  let j = nNeg - 1;
  let tp = 0;
  let fp = 0;
  let area = 0; // Σ trapezoids in (fp, tp) count space
  let ap = 0;
  const all: { threshold: number; tp: number; fp: number }[] = [];
  while (i >= 0 || j >= 0) {
    const t = Math.max(i >= 0 ? pos[i] : -Infinity, j >= 0 ? neg[j] : -Infinity);
    const tp0 = tp;
    const fp0 = fp;
    while (i >= 0 && pos[i] === t) {
      tp++;
      i--;
    }
    while (j >= 0 && neg[j] === t) {
      fp++;
      j--;
    }
    area += ((fp - fp0) * (tp + tp0)) / 2;
    if (p > 0) ap += ((tp - tp0) / p) * (tp / (tp + fp));
    all.push({ threshold: t, tp, fp });
  }
  const maxPoints = opts.maxPoints ?? Infinity;
  let points = all;
  if (all.length > maxPoints) {
    const step = (all.length - 1) / (maxPoints - 1);
    points = Array.from({ length: maxPoints }, (_, k) => all[Math.round(k * step)]);
  }
  return {
    rocAuc: p === 0 || nNeg === 0 ? null : area / (p * nNeg),
    averagePrecision: p === 0 ? 0 : ap,
    positives: p,
    negatives: nNeg,
    points,
  };
}
