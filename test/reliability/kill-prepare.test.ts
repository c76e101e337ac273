import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { expectOneLineError, runCliAsync } from './harness.js';

/**
 * kill -9 of `recsys prepare` while it publishes (RECSYS_FAULT=prepare-publish:n: after each
 * split file is renamed into OUT, and after the tokenizer, before the manifest), fresh and over an
 * earlier dataset. A manifest on disk must always describe the shards beside it (sha256, rows);
 * without one, train refuses the directory in one line; a rerun completes and leaves no temp.
 * (test/data/prepare.test.ts kills a 150k-row prepare at a random moment of its second pass.)
 */

const intent = path.join(repoRoot, 'configs/intent.yaml');
const root = tempDir('recsys-kill-prepare-');
const complete = path.join(root, 'complete');
const prepareArgs = (out: string) => ['prepare', '-c', intent, '--out', out, '--max-length', '24', '--no-progress'];

beforeAll(() => {
  const r = runCli(prepareArgs(complete));
  if (r.code !== 0) throw new Error(r.stderr);
});

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

interface Manifest {
  splits: { [s: string]: { file: string; rows: number; sha256: string } };
}

/** A manifest is the truth: every split file it names is there with its sha256. */
function expectConsistentIfComplete(out: string): boolean {
  const file = path.join(out, 'manifest.json');
  if (!existsSync(file)) return false;
  const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  for (const s of Object.values(m.splits)) expect(sha256(path.join(out, s.file)), s.file).toBe(s.sha256);
  return true;
}

const faults = [
  ...[1, 2, 3, 4].map((n) => ({ fault: `prepare-publish:${n}`, over: false })),
  ...[1, 4].map((n) => ({ fault: `prepare-publish:${n}`, over: true })),
];

describe('kill -9 while prepare publishes, then rerun', () => {
  it(`${faults.length} kill points: no manifest without its shards, train refuses the incomplete, a rerun completes`, {
    timeout: 300_000,
  }, async () => {
    const expected = JSON.parse(readFileSync(path.join(complete, 'manifest.json'), 'utf8')) as Manifest;
    await Promise.all(
      faults.map(async ({ fault, over }, i) => {
        const out = path.join(root, `k${i}`);
        if (over) cpSync(complete, out, { recursive: true });
        else mkdirSync(out);
        const killed = await runCliAsync(prepareArgs(out), { env: { RECSYS_FAULT: fault } });
        expect(killed.signal, `${fault}: ${killed.stderr}`).toBe('SIGKILL');
        // the old manifest goes before the first new shard arrives, so it never describes new shards
        expect(expectConsistentIfComplete(out), fault).toBe(false);
        const train = await runCliAsync([
          'train',
          '-c',
          intent,
          '--data',
          out,
          '--out',
          path.join(root, `run${i}`),
          '--backend',
          'cpu',
          '--no-progress',
        ]);
        expect(train.code, train.stderr).toBe(3);
        expectOneLineError(train, `${out}: no manifest.json; the dataset is incomplete (re-run recsys prepare)`);
        expect(existsSync(path.join(root, `run${i}`, 'train_summary.json'))).toBe(false);

        const again = await runCliAsync(prepareArgs(out));
        expect(again.code, `${fault}: ${again.stderr}`).toBe(0);
        expect(expectConsistentIfComplete(out)).toBe(true);
        expect(
          readdirSync(out).filter((f) => f.includes('.tmp-')),
          `${fault}: temps left`,
        ).toEqual([]);
        // seeded: the rerun writes byte-identical shards
        const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
        expect(m.splits).toEqual(expected.splits);
      }),
    );
  });
});
