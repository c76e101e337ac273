import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A SavedModel recsys built for itself, cached by content: `<root>/<sha256 of the bytes>/saved_model.pb`,
 * written through a temporary directory renamed into place, so a kill never leaves a half-written model
 * that looks valid and two processes writing the same model both end with it. Returns the directory.
 */
export async function cachedSavedModelDir(root: string, bytes: Uint8Array): Promise<string> {
  const dir = path.join(root, createHash('sha256').update(bytes).digest('hex').slice(0, 24));
  const exists = await stat(path.join(dir, 'saved_model.pb')).then(
    () => true,
    () => false,
  );
  if (exists) return dir;
  await mkdir(root, { recursive: true });
  const tmp = await mkdtemp(path.join(root, '.tmp-'));
  await writeFile(path.join(tmp, 'saved_model.pb'), bytes);
  try {
    await rename(tmp, dir);
  } catch {
    await rm(tmp, { recursive: true, force: true }); // another process put the same model there first
  }
  return dir;
}
