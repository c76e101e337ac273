import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const vocabPath = path.join(repoRoot, 'data/vocab.txt');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real `recsys` bin in a child process, as a user would. */
export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin/recsys.js'), ...args], {
    cwd: opts.cwd ?? repoRoot,
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = 'recsys-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** The records of a JSON-lines file (predict, rank and search outputs). */
export function readJsonLines(file: string) {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}
