import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { configReferenceMarkdown } from '../../src/config/reference.js';
import { repoRoot } from '../helpers/cli.js';

it('the README config reference is the one generated from the schema', () => {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const block = readme.split('<!-- config-reference:start -->')[1]?.split('<!-- config-reference:end -->')[0]?.trim();
  expect(block).toBe(configReferenceMarkdown().trim());
});
