import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './cli.js';

/** The reference Python (scripts/setup-python.sh makes .venv); RECSYS_PYTHON overrides it. */
export function referencePython(): string {
  const py = process.env.RECSYS_PYTHON ?? path.join(repoRoot, '.venv/bin/python');
  if (!existsSync(py)) throw new Error(`reference python not found at ${py}: run bash scripts/setup-python.sh`);
  return py;
}

export function runPython(code: string, args: string[] = []): string {
  const r = spawnSync(referencePython(), ['-c', code, ...args], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
