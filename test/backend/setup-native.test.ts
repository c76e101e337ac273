// scripts/setup-native.mjs: option errors are one line on stderr with exit 1, the cache directory
// follows the same rule as src/backend, and a run with the cache present only relinks and verifies.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

import { cacheRoot, nativeStatus } from '../../src/backend/index.js';
import { requirement } from '../helpers/python.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = path.join(root, 'scripts', 'setup-native.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-setup-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function setup(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [script, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^setup:native: error: /);
  expect(lines[0]).toMatch(pattern);
}

const status = nativeStatus('@tensorflow/tfjs-node');
const cached = requirement(
  status.cacheEntry
    ? null
    : 'no cached native build (`npm run test:full` runs `npm run setup:native` before the tests)',
);

describe('setup:native', () => {
  it('rejects an unknown option in one line', () => {
    expectOneLineError(setup(['--bogus']), /unknown option '--bogus'; see `npm run setup:native -- --help`/);
  });

  it('rejects a malformed --tf-spec in one line', () => {
    expectOneLineError(
      setup(['--tf-spec', 'tensorflow cpu!']),
      /--tf-spec 'tensorflow cpu!' is not a pip requirement; pass e\.g\. --tf-spec tensorflow-cpu==2\.21\.0/,
    );
  });

  // Where tfjs-node-gpu is installed there is nothing to refuse: the case is shown as skipped, not passed.
  it.skipIf(nativeStatus('@tensorflow/tfjs-node-gpu').installed)(
    'says how to install tfjs-node-gpu when it is asked for but missing',
    () => {
      expectOneLineError(
        setup(['--package', '@tensorflow/tfjs-node-gpu'], { RECSYS_CACHE: tmp }),
        new RegExp(
          String.raw`@tensorflow\/tfjs-node-gpu is not installed in node_modules; run ${'`'}npm install ` +
            String.raw`--no-save --ignore-scripts @tensorflow\/tfjs-node-gpu@4\.22\.0${'`'} first`,
        ),
      );
    },
  );

  it('keys the cache directory by package version and TF spec under the same root src/backend reads', () => {
    const env = { RECSYS_CACHE: path.join(tmp, 'c'), XDG_CACHE_HOME: '' };
    const r = setup(['--print-cache-dir', '--tf-spec', 'tensorflow[and-cuda]==2.21.0'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(
      path.join(
        cacheRoot(env),
        'native',
        `tfjs-node-4.22.0__tensorflow_and-cuda_2.21.0__${process.platform}-${process.arch}`,
      ),
    );
    const xdg = setup(['--print-cache-dir'], { RECSYS_CACHE: '', XDG_CACHE_HOME: path.join(tmp, 'xdg') });
    expect(path.dirname(path.dirname(xdg.stdout.trim()))).toBe(path.join(tmp, 'xdg', 'recsys'));
  });

  it.skipIf(cached.skip)('with the cache present, relinks and verifies in seconds', () => {
    cached.require();
    const t = performance.now();
    const r = setup([]);
    const seconds = (performance.now() - t) / 1000;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/using cached build /);
    expect(r.stdout).toMatch(
      new RegExp(
        String.raw`TensorFlow 2\.\d+\.\d+ native backend ready: @tensorflow\/tfjs-node@4\.22\.0 ` +
          String.raw`on tfjs 4\.22\.0, backend 'tensorflow' \(cached, [\d.]+ s\)`,
      ),
    );
    expect(seconds).toBeLessThan(30);
    expect(nativeStatus('@tensorflow/tfjs-node')).toMatchObject({ bindingPresent: true, source: 'cache' });
  });
});
