import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/lib/rng.js';
import { repoRoot, tempDir, vocabPath } from '../helpers/cli.js';
import {
  expectNoPartialDataset,
  expectRowsAccounted,
  fx,
  pool,
  runCliAsync,
  STACK_FRAME,
  type AsyncCliResult,
} from './harness.js';

/**
 * Seeded random mutations of a valid CSV (through `recsys prepare`) and of a valid YAML config
 * (through `recsys config render`): byte flips, dropped/duplicated quotes and delimiters,
 * truncation, inserted NUL/0xFF/CR. Every run must exit 0, 2 or 3 — never a crash (4) or a
 * signal — with no stack trace and a one-line error; a prepare that succeeds must account for
 * every row (read = written + rejected, rejects.csv holding exactly the rejected ones, read =
 * the records in the file).
 * RECSYS_FUZZ_SEED and RECSYS_FUZZ_RUNS (per target) widen the search locally.
 */
const SEED = Number(process.env.RECSYS_FUZZ_SEED ?? 20261123);
const RUNS = Number(process.env.RECSYS_FUZZ_RUNS ?? 50);

type Mutation = (b: Buffer, rng: Rng) => Buffer;
const at = (b: Buffer, rng: Rng) => rng.int(b.length + 1);
const insert = (b: Buffer, i: number, bytes: number[]) =>
  Buffer.concat([b.subarray(0, i), Buffer.from(bytes), b.subarray(i)]);
const remove = (b: Buffer, i: number) => Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
/** Positions of `byte` in `b` (or a random position when there is none). */
function pick(b: Buffer, byte: number, rng: Rng): number | undefined {
  const all: number[] = [];
  for (let i = 0; i < b.length; i++) if (b[i] === byte) all.push(i);
  return all.length ? all[rng.int(all.length)] : undefined;
}
const dropByte =
  (byte: number): Mutation =>
  (b, rng) => {
    const i = pick(b, byte, rng);
    return i === undefined ? b : remove(b, i);
  };
const dupByte =
  (byte: number): Mutation =>
  (b, rng) => {
    const i = pick(b, byte, rng);
    return i === undefined ? b : insert(b, i, [byte]);
  };

function mutationsFor(delimiter: number, extra: number[]): Record<string, Mutation> {
  return {
    'flip a bit': (b, rng) => {
      if (!b.length) return b;
      const c = Buffer.from(b);
      c[rng.int(c.length)] ^= 1 << rng.int(8);
      return c;
    },
    'random byte': (b, rng) => {
      if (!b.length) return b;
      const c = Buffer.from(b);
      c[rng.int(c.length)] = rng.int(256);
      return c;
    },
    'drop a quote': dropByte(0x22),
    'duplicate a quote': dupByte(0x22),
    'insert a quote': (b, rng) => insert(b, at(b, rng), [0x22]),
    'drop a delimiter': dropByte(delimiter),
    'duplicate a delimiter': dupByte(delimiter),
    'drop a newline': dropByte(0x0a),
    'duplicate a newline': dupByte(0x0a),
    truncate: (b, rng) => b.subarray(0, at(b, rng)),
    'insert NUL': (b, rng) => insert(b, at(b, rng), [0x00]),
    'insert 0xFF': (b, rng) => insert(b, at(b, rng), [0xff]),
    'insert CR': (b, rng) => insert(b, at(b, rng), [0x0d]),
    'insert a syntax byte': (b, rng) => insert(b, at(b, rng), [extra[rng.int(extra.length)]]),
    'duplicate a line': (b, rng) => {
      const lines = b.toString('latin1').split('\n');
      const i = rng.int(lines.length);
      lines.splice(i, 0, lines[i]);
      return Buffer.from(lines.join('\n'), 'latin1');
    },
  };
}

/** 1–4 seeded mutations of `base`; returns the bytes and what was done (for the failure message). */
function mutate(base: Buffer, muts: Record<string, Mutation>, rng: Rng): { bytes: Buffer; applied: string[] } {
  const names = Object.keys(muts);
  let bytes = base;
  const applied: string[] = [];
  for (let k = 1 + rng.int(4); k > 0; k--) {
    const name = names[rng.int(names.length)];
    bytes = muts[name](bytes, rng);
    applied.push(name);
  }
  return { bytes, applied };
}

/** The shared contract: a known exit code, no stack, one error line (+ the detail lines that message announces). */
/** How many runs ended with each exit code. */
function exitCodeTally(codes: number[]): Record<number, number> {
  const t: Record<number, number> = {};
  for (const c of codes) t[c] = (t[c] ?? 0) + 1;
  return t;
}

function expectCleanOutcome(r: AsyncCliResult, what: string): void {
  expect(r.signal, `${what}: killed by a signal\n${r.stderr}`).toBeNull();
  expect([0, 2, 3], `${what}: exit ${r.code}\n${r.stderr}`).toContain(r.code);
  expect(r.stderr, what).not.toMatch(STACK_FRAME);
  expect(r.stderr, what).not.toContain('run with --verbose for the stack trace');
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  const errors = lines.filter((l) => l.startsWith('recsys: error: '));
  if (r.code === 0) {
    expect(errors, what).toEqual([]);
    return;
  }
  expect(errors, `${what}\n${r.stderr}`).toHaveLength(1);
  const after = lines.slice(lines.indexOf(errors[0]) + 1);
  // Detail lines only where the message announces them: the first rejected rows, each config problem.
  const bad = /: (\d+) bad row\(s\)/.exec(errors[0]);
  const problems = /: (\d+) problems in the configuration:$/.exec(errors[0]);
  const expected = bad ? Math.min(5, Number(bad[1])) : problems ? Number(problems[1]) : 0;
  expect(after, `${what}\n${r.stderr}`).toHaveLength(expected);
  for (const l of after) expect(l).toMatch(/^ {2}\S/);
}

let work = '';
beforeAll(() => {
  work = tempDir('recsys-fuzz-');
});

describe('fuzz', () => {
  it(`prepare survives ${RUNS} mutated CSVs (seed ${SEED}), losing no row`, { timeout: 600_000 }, async () => {
    const base = readFileSync(fx('good.csv')).subarray(0, 900); // ~25 rows keep each run short
    const baseText = base.toString('utf8');
    const csv = Buffer.from(baseText.slice(0, baseText.lastIndexOf('\n') + 1));
    const muts = mutationsFor(0x2c, [0x2c, 0x22, 0x0a, 0x0d, 0x00, 0xff, 0xc3, 0xef, 0xbb, 0xbf, 0x5c]);
    const rng = new Rng(SEED);
    const jobs = Array.from({ length: RUNS }, (_, i) => {
      const { bytes, applied } = mutate(csv, muts, rng);
      const maxBad = rng.int(3) === 0 ? 0 : 1000;
      const split = rng.int(2) === 0 ? '1,0,0' : '0.6,0.2,0.2';
      const file = path.join(work, `fuzz-${i}.csv`);
      writeFileSync(file, bytes);
      const out = path.join(work, `fuzz-${i}`);
      const what = `run ${i} (seed ${SEED}; ${applied.join(', ')}; max-bad-rows ${maxBad}; split ${split}): ${file}`;
      return async () => {
        const r = await runCliAsync([
          'prepare',
          '--input',
          file,
          '--tokenizer',
          vocabPath,
          '--out',
          out,
          '--max-length',
          '16',
          '--split',
          split,
          '--max-bad-rows',
          String(maxBad),
          '--no-progress',
        ]);
        expectCleanOutcome(r, what);
        if (r.code === 0) {
          const { manifest } = expectRowsAccounted(out);
          // Every record in the file is a row read: nothing is skipped without being counted.
          const records = parseCsv(bytes, {
            bom: true,
            relax_quotes: true,
            relax_column_count: true,
            skip_empty_lines: true,
          }) as unknown[];
          expect(manifest.rows.read, what).toBe(records.length - 1);
        } else {
          expectNoPartialDataset(out);
        }
        return r.code;
      };
    });
    const codes = await pool(jobs, 3);
    const tally = exitCodeTally(codes);
    console.log(`fuzz prepare: ${RUNS} runs, exit codes ${JSON.stringify(tally)}`);
    expect(tally[0] ?? 0, 'some mutated files still prepare').toBeGreaterThan(0);
    expect((tally[2] ?? 0) + (tally[3] ?? 0), 'some mutated files fail cleanly').toBeGreaterThan(0);
  });

  it(`config render survives ${RUNS} mutated YAML configs (seed ${SEED})`, { timeout: 600_000 }, async () => {
    const yaml = readFileSync(path.join(repoRoot, 'configs/intent.yaml'));
    const muts = mutationsFor(
      0x3a,
      [0x3a, 0x20, 0x0a, 0x2d, 0x5b, 0x5d, 0x7b, 0x7d, 0x26, 0x2a, 0x21, 0x27, 0x23, 0x09, 0x7c, 0x3e, 0x00, 0xff],
    );
    const rng = new Rng(SEED + 1);
    const dir = path.join(work, 'configs');
    mkdirSync(dir, { recursive: true });
    const jobs = Array.from({ length: RUNS }, (_, i) => {
      const { bytes, applied } = mutate(yaml, muts, rng);
      const file = path.join(dir, `fuzz-${i}.yaml`);
      writeFileSync(file, bytes);
      const what = `config ${i} (seed ${SEED + 1}; ${applied.join(', ')}): ${file}`;
      return async () => {
        const r = await runCliAsync(['config', 'render', '-c', file, '--json']);
        expectCleanOutcome(r, what);
        if (r.code === 0) {
          const config = JSON.parse(r.stdout);
          expect(typeof config.train.lr, what).toBe('number');
        }
        expect(existsSync(file)).toBe(true);
        return r.code;
      };
    });
    const codes = await pool(jobs, 3);
    const tally = exitCodeTally(codes);
    console.log(`fuzz config: ${RUNS} runs, exit codes ${JSON.stringify(tally)}`);
    expect(tally[0] ?? 0).toBeGreaterThan(0);
    expect(tally[2] ?? 0).toBeGreaterThan(0);
  });
});
