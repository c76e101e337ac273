import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

/** The bars configs/rerank.yaml is measured against (README, "Re-ranking and ranking metrics"). */
describe('scripts/baseline-rank.ts', () => {
  it('prints the majority and bag-of-words nDCG@10 of the shop test queries, the bag of words well above', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'scripts/baseline-rank.ts'), '--json'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const majority = out.results.majority.metrics['ndcg@10'];
    const bow = out.results.bag_of_words_lr.metrics['ndcg@10'];
    expect(out.results.majority.n_queries).toBe(91);
    expect(majority).toBeCloseTo(0.4768, 3);
    expect(bow).toBeCloseTo(0.8416, 3);
    expect(bow).toBeLessThan(0.99); // the ranking is learnable, not given away
    // Trained also on the mined negatives (scripts/mine-negatives.ts), on the same test rows.
    expect(out.results.bag_of_words_lr_mined.n_queries).toBe(91);
    expect(out.results.bag_of_words_lr_mined.metrics['ndcg@10']).toBeCloseTo(0.8594, 3);
  });
});
