import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { repoRoot, tempDir } from '../helpers/cli.js';

const generate = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/generate-head-samples.ts'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });

describe('regression and multi-label samples', () => {
  it.each(['regression', 'multilabel'])('configs/%s.yaml validates and points at files in the repository', (name) => {
    const c = loadConfig({ files: [path.join(repoRoot, 'configs', `${name}.yaml`)], cwd: repoRoot });
    expect(c.task).toBe(name === 'regression' ? 'regression' : 'multi_label_classification');
    for (const p of [c.data.input, c.tokenizer.path, c.model.path]) expect(existsSync(p!), p).toBe(true);
    for (const p of [c.data.out, c.train.out, c.export.out])
      expect(p).toBe(path.join(repoRoot, 'out', name, path.basename(p!)));
  });

  it('data/products-multilabel.csv is what the generator writes (deterministic), and --check says so', () => {
    expect(generate(['--check']).status).toBe(0);
    const dir = tempDir('recsys-head-samples-');
    expect(generate(['--out', dir, '--rows', '50']).status).toBe(0);
    const a = readFileSync(path.join(dir, 'products-multilabel.csv'), 'utf8');
    expect(generate(['--out', dir, '--rows', '50', '--check']).status).toBe(0);
    expect(generate(['--out', dir, '--rows', '50', '--seed', '8', '--check']).status).toBe(1);
    const rows = a.trim().split('\n').slice(1);
    expect(rows).toHaveLength(50);
    // Several categories per product: the sample is multi-label in earnest.
    const counts = rows.map((r) => (r.split(',').at(-1) ? r.split(',').at(-1)!.split('|').length : 0));
    expect(Math.max(...counts)).toBeGreaterThan(1);
  });
});
