import type { Rng } from '../lib/rng.js';

export const SPLITS = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

const ALIASES: Record<string, SplitName> = {
  train: 'train',
  training: 'train',
  trn: 'train',
  validation: 'validation',
  valid: 'validation',
  val: 'validation',
  dev: 'validation',
  eval: 'validation',
  test: 'test',
  testing: 'test',
  tst: 'test',
};

/** Map a split column value to a split, accepting the usual aliases (case-insensitive). */
export function splitFromValue(value: unknown): SplitName | undefined {
  return typeof value === 'string' ? ALIASES[value.trim().toLowerCase()] : undefined;
}

/** Integer counts per split for n items, by largest remainder; train keeps at least one item. */
export function allocate(n: number, fractions: readonly number[]): number[] {
  const exact = fractions.map((f) => f * n);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    counts[i]++;
  }
  if (n > 0 && counts[0] === 0) {
    const donor = counts[1] >= counts[2] ? 1 : 2;
    counts[donor]--;
    counts[0]++;
  }
  return counts;
}

/**
 * Seeded split planning in two streaming passes: pass 1 observes each usable row's label (and
 * group key), pass 2 asks for each row's split in the same order. Memory is one byte per row
 * (or one entry per group), never the rows themselves.
 */
export class SplitPlanner {
  private readonly labelCounts = new Map<string, number>();
  private readonly groups = new Map<string, Map<string, number>>();

  observe(label: string, group?: string): void {
    this.labelCounts.set(label, (this.labelCounts.get(label) ?? 0) + 1);
    if (group === undefined) return;
    let hist = this.groups.get(group);
    if (!hist) {
      hist = new Map();
      this.groups.set(group, hist);
    }
    hist.set(label, (hist.get(label) ?? 0) + 1);
  }

  plan(fractions: readonly number[], opts: { stratify: boolean; grouped: boolean }, rng: Rng): SplitAssigner {
    return opts.grouped ? this.planGroups(fractions, opts.stratify, rng) : this.planRows(fractions, opts.stratify, rng);
  }

  private planRows(fractions: readonly number[], stratify: boolean, rng: Rng): SplitAssigner {
    const buckets = stratify
      ? [...this.labelCounts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      : [['*', [...this.labelCounts.values()].reduce((a, b) => a + b, 0)] as [string, number]];
    const plans = new Map<string, Uint8Array>();
    for (const [key, n] of buckets) {
      const counts = allocate(n, fractions);
      const plan = new Uint8Array(n);
      let i = 0;
      for (const [s, c] of counts.entries()) {
        plan.fill(s, i, i + c);
        i += c;
      }
      // Fisher-Yates on the byte array: a seeded permutation of the split slots.
      for (let k = n - 1; k > 0; k--) {
        const j = rng.int(k + 1);
        const t = plan[k];
        plan[k] = plan[j];
        plan[j] = t;
      }
      plans.set(key, plan);
    }
    const next = new Map<string, number>();
    return {
      assign(label: string): SplitName {
        const key = stratify ? label : '*';
        const k = next.get(key) ?? 0;
        next.set(key, k + 1);
        return SPLITS[plans.get(key)![k]];
      },
    };
  }

  private planGroups(fractions: readonly number[], stratify: boolean, rng: Rng): SplitAssigner {
    const keys = rng.shuffle([...this.groups.keys()].sort());
    const size = (g: string) => [...this.groups.get(g)!.values()].reduce((a, b) => a + b, 0);
    // Largest groups first (stable over the seeded shuffle), so small groups fill the remainders.
    const ordered = keys.map((k, i) => ({ k, i, n: size(k) })).sort((a, b) => b.n - a.n || a.i - b.i);
    const total = ordered.reduce((a, g) => a + g.n, 0);
    const rows = [0, 0, 0];
    const perLabel = SPLITS.map(() => new Map<string, number>());
    const assignment = new Map<string, SplitName>();
    for (const g of ordered) {
      const hist = this.groups.get(g.k)!;
      let best = 0;
      let bestScore = -Infinity;
      for (let s = 0; s < 3; s++) {
        if (fractions[s] === 0) continue;
        let score = (fractions[s] * total - rows[s]) / total;
        if (stratify) {
          let labelScore = 0;
          for (const [label, c] of hist) {
            const n = this.labelCounts.get(label)!;
            labelScore += (c * (fractions[s] * n - (perLabel[s].get(label) ?? 0))) / n;
          }
          score = labelScore / g.n + score;
        }
        if (score > bestScore) {
          bestScore = score;
          best = s;
        }
      }
      rows[best] += g.n;
      for (const [label, c] of hist) perLabel[best].set(label, (perLabel[best].get(label) ?? 0) + c);
      assignment.set(g.k, SPLITS[best]);
    }
    return { assign: (_label: string, group?: string) => assignment.get(group!)! };
  }
}

export interface SplitAssigner {
  assign(label: string, group?: string): SplitName;
}
