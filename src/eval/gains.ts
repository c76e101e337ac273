/**
 * Gains (graded relevance) from labels, and ranking scores from a pair classifier's class
 * probabilities. Gains are used linearly, as sklearn's ndcg_score uses y_true.
 */
import { UsageError } from '../lib/errors.js';

/** The KDD Cup 2022 shopping-queries (ESCI) gains; the one-letter codes of the dataset too. */
export const ESCI_GAINS: Readonly<Record<string, number>> = Object.freeze({
  Exact: 1,
  Substitute: 0.1,
  Complement: 0.01,
  Irrelevant: 0,
  E: 1,
  S: 0.1,
  C: 0.01,
  I: 0,
});

/** Label → gain, looked up case-insensitively ("exact" and "EXACT" find `Exact`). */
export class GainMap {
  private readonly byKey = new Map<string, { label: string; gain: number }>();

  constructor(gains: Readonly<Record<string, number>>) {
    for (const [label, gain] of Object.entries(gains)) {
      if (!Number.isFinite(gain) || gain < 0) {
        throw new UsageError(`gain of "${label}" is ${gain}; gains must be finite numbers >= 0`);
      }
      const key = label.toLowerCase();
      const prev = this.byKey.get(key);
      if (prev && prev.gain !== gain) {
        throw new UsageError(`gains "${prev.label}" and "${label}" differ only in case but have different values`);
      }
      this.byKey.set(key, { label, gain });
    }
    if (this.byKey.size === 0) throw new UsageError('the gains map is empty');
  }

  static esci(): GainMap {
    return new GainMap(ESCI_GAINS);
  }

  gainOf(label: string): number | undefined {
    return this.byKey.get(label.toLowerCase())?.gain;
  }

  labels(): string[] {
    return [...this.byKey.values()].map((e) => e.label);
  }

  toString(): string {
    return [...this.byKey.values()].map((e) => `${e.label}=${e.gain}`).join(', ');
  }
}

/** `Exact=1,Substitute=0.1,...` (a --gains flag) → GainMap. */
export function parseGains(text: string): GainMap {
  const gains: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^(.*\S)\s*=\s*([^=\s]+)$/.exec(part);
    if (!m || !Number.isFinite(Number(m[2]))) {
      throw new UsageError(`gains: "${part}" is not LABEL=NUMBER (expected e.g. Exact=1,Substitute=0.1)`);
    }
    gains[m[1]] = Number(m[2]);
  }
  return new GainMap(gains);
}

/** The gain of each model label, in label-id order; every label needs one. */
export function gainsForLabels(labels: readonly string[], gains: GainMap): Float64Array {
  const missing = labels.filter((l) => gains.gainOf(l) === undefined);
  if (missing.length > 0) {
    throw new UsageError(
      `no gain for label(s) ${missing.map((l) => `"${l}"`).join(', ')} of the model; the gains map has ${gains}`,
    );
  }
  return Float64Array.from(labels, (l) => gains.gainOf(l) as number);
}

export type ProbabilityScorer = (probabilities: ArrayLike<number>) => number;

function checkLength(probabilities: ArrayLike<number>, labels: readonly string[]): void {
  if (probabilities.length !== labels.length) {
    throw new UsageError(
      `expected ${labels.length} class probabilities (${labels.join(', ')}), got ${probabilities.length}`,
    );
  }
}

/** Expected gain sum_c p_c * gain_c: ranks by the relevance the classifier expects. */
export function expectedGainScorer(labels: readonly string[], gains: GainMap): ProbabilityScorer {
  const perLabel = gainsForLabels(labels, gains);
  return (p) => {
    checkLength(p, labels);
    let s = 0;
    for (let c = 0; c < perLabel.length; c++) s += p[c] * perLabel[c];
    return s;
  };
}

/** The probability of one chosen label (e.g. `Exact`), matched exactly, then case-insensitively. */
export function labelProbabilityScorer(labels: readonly string[], label: string): ProbabilityScorer {
  let index = labels.indexOf(label);
  if (index < 0) index = labels.findIndex((l) => l.toLowerCase() === label.toLowerCase());
  if (index < 0) throw new UsageError(`label "${label}" is not one of the model's labels: ${labels.join(', ')}`);
  return (p) => {
    checkLength(p, labels);
    return p[index];
  };
}

/** Softmax in float64 with the max subtracted, for scorers fed with logits. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = Float64Array.from(logits, (x) => Math.exp(x - max));
  const sum = out.reduce((a, b) => a + b, 0);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
