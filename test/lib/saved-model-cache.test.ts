import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { cachedSavedModelDir, pruneCache } from '../../src/lib/saved-model-cache.js';
import { tempDir } from '../helpers/cli.js';

const DAY = 24 * 3600 * 1000;

function graph(root: string, name: string, ageMs: number, now: number) {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'saved_model.pb'), name);
  const t = new Date(now - ageMs);
  utimesSync(dir, t, t);
  return dir;
}

it("keeps the most recently used graphs and any used within a day; removes killed writers' temp dirs", async () => {
  const root = tempDir();
  const now = Date.now();
  // 20 graphs used 2..21 days ago, 3 used within the day, the current one, and two temp dirs
  for (let i = 0; i < 20; i++) graph(root, `old${String(i).padStart(2, '0')}`, (2 + i) * DAY, now);
  for (let i = 0; i < 3; i++) graph(root, `recent${i}`, 3600 * 1000 * (i + 1), now);
  const current = graph(root, 'current', 0, now);
  graph(root, '.tmp-stale', 2 * 3600 * 1000, now);
  graph(root, '.tmp-writing', 60 * 1000, now);

  const removed = await pruneCache(root, current, 16, now);
  const left = readdirSync(root).sort();
  // current + the 15 most recent others stay (3 recent + old00..old11); old12..old19 and the stale temp go
  expect(left).toContain('current');
  expect(left).toContain('.tmp-writing');
  expect(left.filter((n) => n.startsWith('recent'))).toHaveLength(3);
  expect(left.filter((n) => n.startsWith('old'))).toEqual(
    Array.from({ length: 12 }, (_, i) => `old${String(i).padStart(2, '0')}`),
  );
  expect(removed.sort()).toEqual(['.tmp-stale', ...Array.from({ length: 8 }, (_, i) => `old${12 + i}`)].sort());

  // nothing older than a day beyond the count, nothing to remove: a second pass removes nothing
  expect(await pruneCache(root, current, 16, now)).toEqual([]);
});

it('a graph found in the cache is marked used, so it outlives graphs nobody used since', async () => {
  const root = tempDir();
  const bytes = new TextEncoder().encode('graph bytes');
  const dir = await cachedSavedModelDir(root, bytes);
  const past = new Date(Date.now() - 10 * DAY);
  utimesSync(dir, past, past);
  expect(await cachedSavedModelDir(root, bytes)).toBe(dir);
  expect(existsSync(path.join(dir, 'saved_model.pb'))).toBe(true);
  const { mtimeMs } = statSync(dir);
  expect(Date.now() - mtimeMs).toBeLessThan(60_000);
});
