import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A SavedModel recsys built for itself (the compiled training step, the compiled forward pass), cached by
 * content: `<root>/<sha256 of the bytes>/saved_model.pb`, written through a temporary directory renamed
 * into place, so a kill never leaves a half-written model that looks valid and two processes writing the
 * same model both end with it. A model found there is marked used; writing a new one prunes the cache.
 * Returns the directory.
 */
export async function cachedSavedModelDir(root: string, bytes: Uint8Array): Promise<string> {
  const dir = path.join(root, createHash('sha256').update(bytes).digest('hex').slice(0, 24));
  const exists = await stat(path.join(dir, 'saved_model.pb')).then(
    () => true,
    () => false,
  );
  if (exists) {
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined); // marks it used, for pruneCache
    return dir;
  }
  await mkdir(root, { recursive: true });
  const tmp = await mkdtemp(path.join(root, '.tmp-'));
  await writeFile(path.join(tmp, 'saved_model.pb'), bytes);
  try {
    await rename(tmp, dir);
  } catch {
    await rm(tmp, { recursive: true, force: true }); // another process put the same model there first
  }
  await pruneCache(root, dir);
  return dir;
}

const HOUR_MS = 3600 * 1000;

/**
 * Every model shape, head and setting writes its own graph, so the cache would only grow: keep the `keep`
 * most recently used graphs and anything used within a day (a process that has just found a graph may
 * not have loaded it yet), and remove what a killed writer left behind (`.tmp-*`, after an hour). Best
 * effort: a graph another process removes is written again by the next run that needs it.
 */
export async function pruneCache(root: string, current: string, keep = 16, now = Date.now()): Promise<string[]> {
  const entries = await readdir(root).catch(() => [] as string[]);
  const dated = await Promise.all(
    entries.map(async (name) => {
      const full = path.join(root, name);
      const mtime = await stat(full).then(
        (st) => st.mtimeMs,
        () => now,
      );
      return { name, full, mtime };
    }),
  );
  const stale = dated.filter((e) => e.name.startsWith('.tmp-') && now - e.mtime > HOUR_MS);
  const graphs = dated.filter((e) => !e.name.startsWith('.') && e.full !== current).sort((a, b) => b.mtime - a.mtime);
  const old = graphs.slice(Math.max(0, keep - 1)).filter((e) => now - e.mtime > 24 * HOUR_MS);
  const removed = [...stale, ...old];
  await Promise.all(removed.map((e) => rm(e.full, { recursive: true, force: true }).catch(() => undefined)));
  return removed.map((e) => e.name);
}
