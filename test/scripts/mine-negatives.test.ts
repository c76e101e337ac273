import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

type Row = Record<string, string>;
const read = (file: string) => parse(readFileSync(file, 'utf8'), { columns: true }) as Row[];
const dir = mkdtempSync(path.join(tmpdir(), 'recsys-mine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** data/pairs-mined.csv, the re-ranker's training file (configs/rerank.yaml), is this script's output. */
describe('scripts/mine-negatives.ts', () => {
  it('reproduces data/pairs-mined.csv: judged pairs kept, Irrelevant unjudged products for non-test queries', () => {
    const out = path.join(dir, 'mined.csv');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'scripts/mine-negatives.ts'), '--out', out],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(path.join(repoRoot, 'data/pairs-mined.csv'), 'utf8'));

    const pairs = read(path.join(repoRoot, 'data/pairs.csv'));
    const mined = read(out);
    const judged = new Set(pairs.map((p) => `${p.query_id} ${p.product_id}`));
    const extra = mined.filter((m) => !judged.has(`${m.query_id} ${m.product_id}`));
    expect(mined.length - extra.length).toBe(pairs.length);
    // --hard 3 and --easy 6 by default: nearly 9 mined rows per train or validation query.
    const mining = new Set(pairs.filter((p) => p.split !== 'test').map((p) => p.query_id));
    expect(extra.length).toBeGreaterThan(8 * mining.size);
    expect(extra.length).toBeLessThanOrEqual(9 * mining.size);
    for (const m of extra) {
      expect(m.esci_label).toBe('Irrelevant');
      expect(m.split).not.toBe('test');
    }
    // The test split is exactly the judged test pairs, so the bars of scripts/baseline-rank.ts hold.
    const test = (rows: Row[]) => JSON.stringify(rows.filter((x) => x.split === 'test'));
    expect(test(mined)).toBe(test(pairs));
    // A query's rows stay adjacent (recsys rank and grouped eval stream by query).
    const order = mined.map((m) => m.query_id).filter((q, i, a) => q !== a[i - 1]);
    expect(new Set(order).size).toBe(order.length);
  });
});
