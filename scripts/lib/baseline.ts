/**
 * A bag-of-words baseline for the sample data: multinomial naive Bayes (Laplace smoothing) on
 * unigrams and bigrams, and a multinomial logistic regression on the same features (seeded SGD),
 * both trained on a seeded 80% and scored on the other 20%. For query–product pairs the bag holds
 * the query's words, the title's words, the query words the title shares and those it lacks, each
 * marked with where it came from, plus a coarse overlap bucket. If this gets close to 100%, the
 * labels can be read off the words and the data is too easy to tell a good model from a broken one.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { Rng } from './prng.js';

export interface Example {
  text: string;
  pair?: string;
  label: string;
  /** Rows sharing a group go to the same side of the split (e.g. query_id). */
  group?: string;
}

export interface Score {
  accuracy: number;
  macro_f1: number;
}

export interface BaselineResult {
  n_train: number;
  n_test: number;
  /** Accuracy of always predicting the most frequent training label (the bar to beat). */
  majority: number;
  naive_bayes: Score;
  logistic_regression: Score;
  /** The better of the two accuracies. */
  best_accuracy: number;
}

export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

function ngrams(tokens: string[], prefix: string): string[] {
  const out = tokens.map((t) => prefix + t);
  for (let i = 0; i + 1 < tokens.length; i++) out.push(`${prefix}${tokens[i]}_${tokens[i + 1]}`);
  return out;
}

export function features(ex: Example): string[] {
  const a = tokenize(ex.text);
  if (ex.pair === undefined) return ngrams(a, '');
  const b = tokenize(ex.pair);
  const inB = new Set(b);
  const shared = [...new Set(a.filter((t) => inB.has(t)))];
  const missing = [...new Set(a.filter((t) => !inB.has(t)))];
  const overlap = a.length ? Math.min(4, Math.floor((shared.length / new Set(a).size) * 4)) : 0;
  return [
    ...ngrams(a, 'q:'),
    ...ngrams(b, 'p:'),
    ...shared.map((t) => `x:${t}`),
    ...missing.map((t) => `m:${t}`),
    `overlap:${overlap}`,
  ];
}

/** Seeded 80/20 split by group (each example its own group when there is none). */
export function split(examples: Example[], seed: number, testFraction = 0.2): { train: Example[]; test: Example[] } {
  const groups = [...new Set(examples.map((e, i) => e.group ?? `#${i}`))];
  new Rng(seed).shuffle(groups);
  const testGroups = new Set(groups.slice(0, Math.round(groups.length * testFraction)));
  const train: Example[] = [];
  const test: Example[] = [];
  for (const [i, e] of examples.entries()) (testGroups.has(e.group ?? `#${i}`) ? test : train).push(e);
  return { train, test };
}

export class NaiveBayes {
  private labels: string[] = [];
  private logPrior = new Map<string, number>();
  private logLik = new Map<string, Map<string, number>>();
  private logUnseen = new Map<string, number>();

  fit(examples: Example[], alpha = 1): this {
    const docCount = new Map<string, number>();
    const counts = new Map<string, Map<string, number>>();
    const totals = new Map<string, number>();
    const vocab = new Set<string>();
    for (const ex of examples) {
      docCount.set(ex.label, (docCount.get(ex.label) ?? 0) + 1);
      if (!counts.has(ex.label)) counts.set(ex.label, new Map());
      const c = counts.get(ex.label)!;
      for (const f of features(ex)) {
        c.set(f, (c.get(f) ?? 0) + 1);
        totals.set(ex.label, (totals.get(ex.label) ?? 0) + 1);
        vocab.add(f);
      }
    }
    this.labels = [...docCount.keys()].sort();
    for (const label of this.labels) {
      this.logPrior.set(label, Math.log(docCount.get(label)! / examples.length));
      const denom = (totals.get(label) ?? 0) + alpha * vocab.size;
      const lik = new Map<string, number>();
      for (const [f, n] of counts.get(label)!) lik.set(f, Math.log((n + alpha) / denom));
      this.logLik.set(label, lik);
      this.logUnseen.set(label, Math.log(alpha / denom));
    }
    return this;
  }

  predict(ex: Example): string {
    const feats = features(ex);
    let best = this.labels[0];
    let bestScore = -Infinity;
    for (const label of this.labels) {
      const lik = this.logLik.get(label)!;
      const unseen = this.logUnseen.get(label)!;
      let s = this.logPrior.get(label)!;
      for (const f of feats) s += lik.get(f) ?? unseen;
      if (s > bestScore) [best, bestScore] = [label, s];
    }
    return best;
  }
}

/** Multinomial logistic regression on binary bag-of-words features, plain SGD with L2. */
export class LogisticRegression {
  private labels: string[] = [];
  private index = new Map<string, number>();
  private w: Float64Array[] = [];
  private b: number[] = [];

  fit(examples: Example[], seed: number, epochs = 8, lr = 0.1, l2 = 1e-5): this {
    this.labels = [...new Set(examples.map((e) => e.label))].sort();
    const rows = examples.map((e) => ({ y: this.labels.indexOf(e.label), x: this.encode(e, true) }));
    const k = this.labels.length;
    this.w = Array.from({ length: k }, () => new Float64Array(this.index.size));
    this.b = new Array(k).fill(0);
    const rng = new Rng(seed);
    const order = rows.map((_, i) => i);
    for (let epoch = 0; epoch < epochs; epoch++) {
      rng.shuffle(order);
      const step = lr / (1 + epoch);
      for (const i of order) {
        const { x, y } = rows[i];
        const p = this.probs(x);
        for (let c = 0; c < k; c++) {
          const g = p[c] - (c === y ? 1 : 0);
          this.b[c] -= step * g;
          const wc = this.w[c];
          for (const j of x) wc[j] -= step * (g + l2 * wc[j]);
        }
      }
    }
    return this;
  }

  private encode(e: Example, grow: boolean): number[] {
    const out: number[] = [];
    for (const f of new Set(features(e))) {
      let j = this.index.get(f);
      if (j === undefined && grow) {
        j = this.index.size;
        this.index.set(f, j);
      }
      if (j !== undefined) out.push(j);
    }
    return out;
  }

  private probs(x: number[]): number[] {
    const z = this.b.map((bc, c) => x.reduce((s, j) => s + this.w[c][j], bc));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  }

  predict(ex: Example): string {
    const p = this.probs(this.encode(ex, false));
    return this.labels[p.indexOf(Math.max(...p))];
  }

  /** Label → probability (for ranking by expected gain). */
  probabilities(ex: Example): Record<string, number> {
    const p = this.probs(this.encode(ex, false));
    return Object.fromEntries(this.labels.map((l, i) => [l, p[i]]));
  }
}

export function macroF1(gold: string[], pred: string[]): number {
  const labels = [...new Set(gold)].sort();
  let sum = 0;
  for (const l of labels) {
    let tp = 0,
      fp = 0,
      fn = 0;
    for (let i = 0; i < gold.length; i++) {
      if (pred[i] === l && gold[i] === l) tp++;
      else if (pred[i] === l) fp++;
      else if (gold[i] === l) fn++;
    }
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / labels.length;
}

export function runBaseline(examples: Example[], seed = 7): BaselineResult {
  const { train, test } = split(examples, seed);
  const model = new NaiveBayes().fit(train);
  const freq = new Map<string, number>();
  for (const e of train) freq.set(e.label, (freq.get(e.label) ?? 0) + 1);
  const majorityLabel = [...freq.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
  const gold = test.map((e) => e.label);
  const score = (predict: (e: Example) => string): Score => {
    const pred = test.map(predict);
    return { accuracy: pred.filter((p, i) => p === gold[i]).length / test.length, macro_f1: macroF1(gold, pred) };
  };
  const nb = score((e) => model.predict(e));
  const lrModel = new LogisticRegression().fit(train, seed);
  const lr = score((e) => lrModel.predict(e));
  return {
    n_train: train.length,
    n_test: test.length,
    majority: gold.filter((g) => g === majorityLabel).length / test.length,
    naive_bayes: nb,
    logistic_regression: lr,
    best_accuracy: Math.max(nb.accuracy, lr.accuracy),
  };
}

/** At or above this accuracy a bag of words reads the labels off the text: the data is too easy. */
export const TOO_EASY = 0.97;

export type Task = 'intent' | 'esci' | 'reviews';
export const TASKS: Task[] = ['intent', 'esci', 'reviews'];

/** The examples of one sample file, read with a real CSV parser (so quoting is checked too). */
export function taskExamplesFromCsv(task: Task, csvText: string): Example[] {
  const rows = parse(csvText, { columns: true, skip_empty_lines: false }) as Record<string, string>[];
  switch (task) {
    case 'intent':
      return rows.map((r) => ({ text: r.query, label: r.intent }));
    case 'esci':
      return rows.map((r) => ({ text: r.query, pair: r.product_title, label: r.esci_label, group: r.query_id }));
    case 'reviews':
      return rows.map((r) => ({ text: r.review, label: r.sentiment }));
  }
}

export function baselineForFile(task: Task, file: string, seed = 7): BaselineResult {
  return runBaseline(taskExamplesFromCsv(task, readFileSync(file, 'utf8')), seed);
}
