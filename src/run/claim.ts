import { existsSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../lib/errors.js';
import { RUN_ENTRIES, runPaths } from './layout.js';

/**
 * Whether `recsys train` (or pretrain) may write into a run directory, and how: a run dir with
 * train_summary.json is complete; one without is an interrupted run. With `resume`, a dir without a
 * checkpoint yet ('restart': stopped before its first one, or never started) starts from step 0, so
 * a scheduler can re-run the same command line after any preemption.
 */
export function checkRunDirForTraining(
  runDir: string,
  resume: boolean,
  overwrite: boolean,
): 'fresh' | 'resume' | 'restart' {
  const p = runPaths(runDir);
  if (resume) {
    if (existsSync(p.last)) return 'resume';
    const entries = existsSync(runDir) ? readdirSync(runDir) : [];
    const ours = entries.some((e) => RUN_ENTRIES.has(e) || e.includes('.tmp-'));
    if (entries.length > 0 && !ours && !overwrite)
      throw new UsageError(`${runDir}: not empty and not a recsys run; pass --overwrite or choose another --out`);
    return 'restart';
  }
  if (!existsSync(runDir) || readdirSync(runDir).length === 0) return 'fresh';
  if (existsSync(p.summary) && !overwrite) {
    throw new UsageError(`${runDir}: holds a finished run; pass --overwrite to replace it or choose another --out`);
  }
  if (!existsSync(p.metrics) && !existsSync(p.last) && !overwrite) {
    throw new UsageError(`${runDir}: not empty and not a recsys run; pass --overwrite or choose another --out`);
  }
  return 'fresh';
}

/**
 * Remove a previous run's own entries (and temp names) but those in `keep` (a pretraining run's corpus,
 * which checks itself); other files in the dir are never deleted.
 */
export async function clearRunDir(runDir: string, keep: readonly string[] = []): Promise<void> {
  if (!existsSync(runDir)) return;
  for (const e of readdirSync(runDir)) {
    if (keep.includes(e)) continue;
    if (RUN_ENTRIES.has(e) || e.includes('.tmp-')) await rm(path.join(runDir, e), { recursive: true, force: true });
  }
}

/**
 * A resumed run writes into what is already in its dir (metrics.jsonl, model/, checkpoints/):
 * refuse a symbolic link there that leads outside it (dangling ones included), so nothing is
 * ever written through one to another place.
 */
export function checkLinksStayInside(runDir: string): void {
  const root = realpathSync(runDir);
  const inside = (p: string) => p === root || p.startsWith(root + path.sep);
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(p);
        } catch {
          target = path.resolve(dir, readlinkSync(p)); // dangling: where a write would create it
        }
        if (!inside(target))
          throw new UsageError(
            `${p}: a symbolic link to ${target}, outside the run directory; refusing to write ` +
              `through it (remove it, or train into another --out)`,
          );
      } else if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
}
