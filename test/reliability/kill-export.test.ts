import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { makeRun, type RunFixture } from '../export/run-fixture.js';
import { expectOneLineError, runCliAsync } from './harness.js';

/**
 * kill -9 of `recsys export` at every stage of its life (RECSYS_FAULT points: after each artifact
 * is staged, after parity.json, after each entry moved into OUT), fresh and over an earlier export
 * of the same run; then SIGINT/SIGTERM. What must hold: an export.json on disk always describes
 * files that are there with the recorded sha256 (so nothing incomplete looks complete), eval and
 * predict refuse what is incomplete with one line, and a rerun succeeds and leaves no temp behind.
 */

const root = tempDir('recsys-kill-export-');
let run: RunFixture;
let complete = '';
const input = path.join(root, 'queries.csv');

const exportArgs = (out: string) => [
  'export',
  '--run',
  run.runDir,
  '--format',
  'onnx,savedmodel',
  '--out',
  out,
  '--backend',
  'cpu',
  '--check-rows',
  '16',
];

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  run = await makeRun(root, { sample: 'intent', datasetDir: path.join(root, 'intent-dataset') });
  complete = path.join(root, 'complete');
  const r = runCli(exportArgs(complete));
  if (r.code !== 0) throw new Error(r.stderr);
  writeFileSync(input, 'query\nusb c charger\nyoga mat\n');
}, 240_000);

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const tempsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.includes('.tmp-')) : []);

interface ExportJson {
  formats: { [f: string]: { status: string; sha256: { [file: string]: string } } };
}

/** An export.json must be the truth: every file it records is there, with its sha256, and parity.json beside it. */
function expectConsistentIfComplete(out: string): boolean {
  const file = path.join(out, 'export.json');
  if (!existsSync(file)) return false;
  const record = JSON.parse(readFileSync(file, 'utf8')) as ExportJson & { complete: boolean };
  if (record.complete !== true) {
    expect(record).toMatchObject({ format: 'recsys-export', complete: false });
    return false;
  }
  expect(existsSync(path.join(out, 'parity.json'))).toBe(true);
  for (const f of ['onnx', 'savedmodel']) {
    expect(record.formats[f].status).toBe('passed');
    for (const [rel, digest] of Object.entries(record.formats[f].sha256))
      expect(sha256(path.join(out, rel)), rel).toBe(digest);
  }
  return true;
}

/** eval --model and predict --model on an incomplete export: exit 2, one line, never a result. */
async function expectRefused(out: string): Promise<void> {
  if (!existsSync(out)) return;
  const [e, p] = await Promise.all([
    runCliAsync(['eval', '--model', out, '--data', run.datasetDir, '--no-progress']),
    runCliAsync([
      'predict',
      '--model',
      out,
      '--input',
      input,
      '--output',
      path.join(root, `${path.basename(out)}.jsonl`),
      '--backend',
      'cpu',
      '--no-progress',
    ]),
  ]);
  for (const r of [e, p]) {
    expect(r.code, r.stderr).toBe(2);
    expectOneLineError(r, `${out}: the export is incomplete`);
  }
}

/** Up to `width` async jobs at a time (each spawns a recsys process). */
async function pool<T>(items: T[], width: number, job: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await job(item);
    }),
  );
}

// OUT's entries are moved in one by one: config.json, manifest.json, onnx, parity.json, savedmodel,
// tokenizer files (8).
const faults = [
  { fault: 'export-stage:1', over: false, what: 'ONNX written to the stage, before its parity check' },
  { fault: 'export-stage:2', over: false, what: 'SavedModel written to the stage' },
  { fault: 'export-stage:3', over: false, what: 'parity.json written, nothing moved yet' },
  { fault: 'export-publish:1', over: false, what: 'first entry moved into OUT' },
  { fault: 'export-publish:4', over: false, what: 'half of OUT moved in' },
  { fault: 'export-publish:8', over: false, what: 'every entry moved, export.json not yet written' },
  { fault: 'export-stage:3', over: true, what: 'over an earlier export: staged, nothing moved yet' },
  {
    fault: 'export-publish:1',
    over: true,
    what: 'over an earlier export: first old entry moved aside, new one not yet in',
  },
  { fault: 'export-publish:6', over: true, what: 'over an earlier export: half replaced' },
];

describe('kill -9 during export, then rerun', () => {
  it(`${faults.length} kill points: nothing incomplete looks complete, eval/predict refuse it, a rerun succeeds`, {
    timeout: 600_000,
  }, async () => {
    await pool(
      faults.map((f, i) => ({ ...f, i })),
      3,
      async ({ fault, over, what, i }) => {
        const parent = path.join(root, `k${i}`);
        const out = path.join(parent, 'export');
        if (over) cpSync(complete, out, { recursive: true });
        else mkdirSync(parent);
        const killed = await runCliAsync(exportArgs(out), { env: { RECSYS_FAULT: fault } });
        expect(killed.signal, `${fault} (${what}) did not kill: ${killed.stderr}`).toBe('SIGKILL');

        const looksComplete = expectConsistentIfComplete(out);
        // Before anything is moved, an earlier export stays whole; once OUT is touched, it says it is incomplete.
        expect(looksComplete, `${fault} (${what})`).toBe(over && fault.startsWith('export-stage'));
        if (!looksComplete) await expectRefused(out);

        const again = await runCliAsync(exportArgs(out));
        expect(again.code, `${fault}: ${again.stderr}`).toBe(0);
        expect(expectConsistentIfComplete(out)).toBe(true);
        expect(tempsIn(out), `${fault}: temps left in OUT`).toEqual([]);
        expect(tempsIn(parent), `${fault}: stages left beside OUT`).toEqual([]);
        expect(readdirSync(out).sort()).toEqual(readdirSync(complete).sort());
        // the same run exported twice gives the same model files
        const record = JSON.parse(readFileSync(path.join(out, 'export.json'), 'utf8')) as ExportJson;
        const first = JSON.parse(readFileSync(path.join(complete, 'export.json'), 'utf8')) as ExportJson;
        expect(record.formats.onnx.sha256).toEqual(first.formats.onnx.sha256);
      },
    );
  });
});

describe('interrupting export', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s: exit %i, the stage is removed and OUT is not created',
    { timeout: 120_000 },
    async (signal, code) => {
      const parent = tempDir('recsys-sig-export-');
      const out = path.join(parent, 'export');
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin/recsys.js'), ...exportArgs(out)], {
        stdio: 'ignore',
      });
      // wait until the stage holds the ONNX model (work is under way), then interrupt
      const deadline = Date.now() + 60_000;
      const staged = () => tempsIn(parent).some((s) => existsSync(path.join(parent, s, 'onnx', 'model.onnx')));
      while (Date.now() < deadline && !staged()) await new Promise((r) => setTimeout(r, 10));
      expect(staged()).toBe(true);
      child.kill(signal);
      const exit = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(exit).toBe(code);
      expect(tempsIn(parent)).toEqual([]);
      expect(existsSync(out)).toBe(false);
    },
  );
});
