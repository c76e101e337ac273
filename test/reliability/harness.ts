import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { expect } from 'vitest';
import { repoRoot, type CliResult } from '../helpers/cli.js';

/** Shared checks of the reliability suite: how a failed (or successful) recsys run must look. */

export const fixturesDir = path.join(repoRoot, 'test/fixtures/bad');
export const fx = (name: string) => path.join(fixturesDir, name);

export interface AsyncCliResult extends CliResult {
  signal: NodeJS.Signals | null;
}

/** The real bin in a child process, asynchronously (so cases can run side by side). */
export function runCliAsync(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<AsyncCliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), path.join(repoRoot, 'bin/recsys.js'), ...args], {
      cwd: opts.cwd ?? repoRoot,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 110_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, signal, stdout, stderr });
    });
  });
}

/** A stack frame as V8 prints it ("    at fn (file:line:col)"). */
export const STACK_FRAME = /^\s+at .+/m;

/**
 * The error contract: exactly one `recsys: error:` line, containing `fragment`; after it only the
 * `details` lines the code prints on purpose (indented two spaces); no stack trace and no "run with
 * --verbose" hint (that one only follows unexpected errors). Lines before it are progress logs.
 */
export function expectOneLineError(r: CliResult, fragment: string | RegExp, details = 0): string {
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  const at = lines.map((l, i) => (l.startsWith('recsys: error: ') ? i : -1)).filter((i) => i >= 0);
  expect(at, `one error line in:\n${r.stderr}`).toHaveLength(1);
  const line = lines[at[0]];
  if (typeof fragment === 'string') expect(line).toContain(fragment);
  else expect(line).toMatch(fragment);
  const after = lines.slice(at[0] + 1);
  expect(after, `only ${details} detail line(s) after the error:\n${r.stderr}`).toHaveLength(details);
  for (const l of after) expect(l).toMatch(/^ {2}\S/);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  expect(r.stderr).not.toContain('run with --verbose for the stack trace');
  return line;
}

export interface RejectRow {
  row: string;
  line: string;
  reason: string;
  raw: string;
}

/** rejects.csv (or `<output>.rejects.csv`) parsed as CSV: raw excerpts may hold quotes and newlines. */
export function readRejects(file: string): RejectRow[] {
  const text = readFileSync(file, 'utf8');
  expect(text.startsWith('row,line,reason,raw\n'), `${file} header`).toBe(true);
  return parse(text, { columns: true, skip_empty_lines: false, relax_column_count: false }) as RejectRow[];
}

export interface Manifest {
  rows: { read: number; written: number; rejected: number };
  splits: Record<string, { rows: number }>;
  labels: string[];
  token_lengths: { truncated: number; max: number };
}

export const readManifestJson = (dir: string): Manifest =>
  JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

/**
 * A prepared dataset accounts for every row: read = written + rejected, the shards hold `written`,
 * rejects.csv holds `rejected`.
 */
export function expectRowsAccounted(dir: string): { manifest: Manifest; rejects: RejectRow[] } {
  const manifest = readManifestJson(dir);
  const rejects = readRejects(path.join(dir, 'rejects.csv'));
  expect(manifest.rows.read).toBe(manifest.rows.written + manifest.rows.rejected);
  expect(Object.values(manifest.splits).reduce((a, s) => a + s.rows, 0)).toBe(manifest.rows.written);
  expect(rejects).toHaveLength(manifest.rows.rejected);
  return { manifest, rejects };
}

/** Nothing in `dir` looks complete or half-written after a failure: no manifest, no temp files. */
export function expectNoPartialDataset(dir: string): void {
  if (!existsSync(dir)) return;
  expect(existsSync(path.join(dir, 'manifest.json')), `${dir} has no manifest`).toBe(false);
  const temps = readdirSync(dir).filter((f) => f.includes('.tmp-'));
  expect(temps, `${dir} temp files`).toEqual([]);
}

/** Run `jobs` with at most `limit` at a time (child processes on a 2-core machine). */
export async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
