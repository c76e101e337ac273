import path from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { repoRoot, runCli } from '../helpers/cli.js';

const message =
  'data.labels: a regression run has numeric targets, not a label map; remove it ' +
  '(several outputs are named by data.label_columns)';

it('data.labels in a regression config is refused with one line naming the key', () => {
  expect(() => loadConfig({ sets: ['task=regression', 'data.labels=[low, high]'] })).toThrow(message);
  // the same labels are a label map for a classifier, and a regression config without them is fine
  expect(loadConfig({ sets: ['data.labels=[low, high]'] }).data.labels).toEqual(['low', 'high']);
  expect(loadConfig({ sets: ['task=regression'] }).data.labels).toBeNull();
});

it('every command refuses it before reading anything (exit 2)', () => {
  const r = runCli(['train', '-c', path.join(repoRoot, 'configs/regression.yaml'), '--set', 'data.labels=[low, high]']);
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe(`recsys: error: ${message}`);
});
