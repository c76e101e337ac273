import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** A sibling temporary name: same directory, so the final rename is atomic on one filesystem. */
export function tempNameFor(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Write a file so that readers see either the old content or the complete new one, never a part. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempNameFor(target);
  try {
    const handle = await fsp.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => {});
    // Say which file could not be written (a failed write() carries no path of its own).
    if (err && typeof err === 'object' && !('path' in err)) (err as { path?: string }).path = target;
    throw err;
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}

/** Whether the process that made a temp name is still running (and is not this one). */
function ownerAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove temp entries (names made by tempNameFor) that an interrupted run left in `dir`: those of
 * this process and of processes that are gone. A live process's temps are its work in progress
 * and stay. `of` limits it to the temps of one target name.
 */
export async function removeStaleTemps(dir: string, opts: { of?: string } = {}): Promise<number> {
  let removed = 0;
  let entries: string[];
  try {
    entries = await fsp.readdir(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const m = /^\.(.+)\.tmp-(\d+)-[0-9a-f]{8}$/.exec(name);
    if (!m || (opts.of !== undefined && m[1] !== opts.of) || ownerAlive(Number(m[2]))) continue;
    await fsp.rm(path.join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
