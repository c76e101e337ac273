import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './cli.js';

/**
 * The reference tools tests compare recsys against (the Python venv and its packages, native
 * TensorFlow, script(1)). A check that needs one FAILS when it is missing, with a message saying how
 * to install it: a skipped check proves nothing and CI must never pass by skipping. A developer who
 * wants to skip them locally sets RECSYS_ALLOW_MISSING_REFERENCE=1 (ignored when CI is set).
 */

export const ALLOW_MISSING_ENV = 'RECSYS_ALLOW_MISSING_REFERENCE';
const SETUP_PYTHON = 'run `bash scripts/setup-python.sh`, which makes .venv with the reference packages';

/** True only on an explicit local opt-in: then a missing reference tool skips its checks instead of failing. */
export function missingReferenceMaySkip(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[ALLOW_MISSING_ENV] === '1' && !env.CI;
}

/**
 * The reference Python: $RECSYS_PYTHON, else the project venv scripts/setup-python.sh makes (what CI
 * uses). $RECSYS_REFERENCE_PYTHON is accepted as an older alias (bench/forward-backward.ts reads it).
 */
export function referencePythonPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.RECSYS_PYTHON || env.RECSYS_REFERENCE_PYTHON || path.join(repoRoot, '.venv', 'bin', 'python');
}

/** The reference Python, or an error saying how to make it. */
export function referencePython(): string {
  const py = referencePythonPath();
  if (!existsSync(py)) throw new Error(`reference python not found at ${py}: ${SETUP_PYTHON}, or set RECSYS_PYTHON`);
  return py;
}

export function runPython(code: string, args: string[] = []): string {
  const r = spawnSync(referencePython(), ['-c', code, ...args], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** What a check needs: Python modules (in the reference Python unless `python` is given), or a command. */
export type Need = { modules: string[]; python?: string } | { command: string; args: string[]; install: string };

const cache = new Map<string, string | null>();

function whatIsMissing(need: Need): string | null {
  if ('command' in need) {
    const r = spawnSync(need.command, need.args, { stdio: 'ignore', timeout: 30_000 });
    return r.status === 0 ? null : `\`${need.command}\` is not installed (${need.install})`;
  }
  const py = need.python ?? referencePythonPath();
  if (!existsSync(py)) return `no Python at ${py} (${SETUP_PYTHON})`;
  const probe =
    'import importlib.util, sys; sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 1)';
  const r = spawnSync(py, ['-c', probe, ...need.modules], { stdio: 'ignore', timeout: 120_000 });
  if (r.status === 0) return null;
  const hint = need.python ? `install them for ${py}` : SETUP_PYTHON;
  return `Python module(s) ${need.modules.join(', ')} missing in ${py} (${hint})`;
}

/** A one-line description of what is missing for these needs, or null when all are there (cached). */
export function missingReference(...needs: Need[]): string | null {
  const problems = needs.map((n) => {
    const key = JSON.stringify(n);
    if (!cache.has(key)) cache.set(key, whatIsMissing(n));
    return cache.get(key)!;
  });
  const missing = problems.filter((p): p is string => p !== null);
  return missing.length ? missing.join('; ') : null;
}

export interface Requirement {
  /** True only when something is missing AND the local opt-in allows skipping. */
  readonly skip: boolean;
  /** What is missing (null: nothing). */
  readonly missing: string | null;
  /** Call first in the test (or in beforeAll): throws the message when something is missing. */
  require(): void;
}

/** A requirement from a description of what is missing (null: nothing is). */
export function requirement(missing: string | null): Requirement {
  return {
    missing,
    skip: missing !== null && missingReferenceMaySkip(),
    require() {
      if (missing)
        throw new Error(`missing reference tool: ${missing}; set ${ALLOW_MISSING_ENV}=1 to skip such checks locally`);
    },
  };
}

/** A reference requirement for tests: use `it.skipIf(r.skip)(…, () => { r.require(); … })`. */
export function reference(...needs: Need[]): Requirement {
  return requirement(missingReference(...needs));
}

/** Python modules of the reference venv. */
export const py = (...modules: string[]): Need => ({ modules });
/** script(1), which gives a child process a terminal (util-linux; Debian package bsdutils). */
export const SCRIPT_CMD: Need = {
  command: 'script',
  args: ['--version'],
  install: 'util-linux: `apt-get install bsdutils` on Debian',
};
