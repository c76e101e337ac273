// The native TensorFlow backend through initBackend. `npm run test:full` (and CI) runs `npm run setup:native`
// first: a missing binding fails these tests, unless RECSYS_ALLOW_MISSING_REFERENCE=1 lets them skip locally.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

import { initBackend, nativeStatus, tfjsCoreCopies } from '../../src/backend/index.js';
import { requirement } from '../helpers/python.js';

const status = nativeStatus('@tensorflow/tfjs-node');
const available = status.bindingPresent || Boolean(status.cacheEntry);
const native = requirement(
  available ? null : 'the tfjs-node binding is neither in node_modules nor in the cache (run `npm run setup:native`)',
);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('native tensorflow backend', () => {
  it.skipIf(native.skip)('is set up (`npm run test:full` runs `npm run setup:native` before the tests)', () => {
    native.require();
    expect(available).toBe(true);
  });

  it.skipIf(native.skip)(
    "initBackend('tensorflow') activates TensorFlow in the @tensorflow/tfjs the model code imports",
    async () => {
      native.require();
      const lines: string[] = [];
      const info = await initBackend('tensorflow', { log: (m) => lines.push(m) });
      expect(info.name).toBe('tensorflow');
      expect(info.package).toBe('@tensorflow/tfjs-node');
      expect(info.tfVersion).toMatch(/^2\.\d+\.\d+/);
      expect(typeof info.gpu).toBe('boolean');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^backend: tensorflow \(requested; TensorFlow 2\.\d+\.\d+ via @tensorflow\/tfjs-node/);
      expect(lines[0]).not.toContain('\n');
      // the same engine as `import * as tf from '@tensorflow/tfjs'`
      expect(tf.getBackend()).toBe('tensorflow');
      expect(process.env.TF_CPP_MIN_LOG_LEVEL).toBe('2');

      const before = tf.memory().numTensors;
      const [mm, g] = tf.tidy(() => {
        const a = tf.tensor2d([
          [1, 2],
          [3, 4],
        ]);
        const prod = tf.matMul(a, a, false, true);
        const emb = tf.tensor2d([
          [1, 1],
          [2, 2],
          [3, 3],
        ]);
        const grad = tf.grad((e: tf.Tensor) => tf.sum(tf.gather(e, tf.tensor1d([2, 0, 2], 'int32'))))(emb);
        return [prod.arraySync(), grad.arraySync()];
      });
      expect(mm).toEqual([
        [5, 11],
        [11, 25],
      ]);
      expect(g).toEqual([
        [1, 1],
        [0, 0],
        [2, 2],
      ]);
      expect(tf.memory().numTensors).toBe(before);

      // auto afterwards keeps the loaded native backend
      const auto = await initBackend('auto', { log: () => {} });
      expect(auto.name).toBe('tensorflow');
      expect(auto.reason).toMatch(/native TensorFlow 2\.\d+\.\d+ via @tensorflow\/tfjs-node/);
    },
  );

  it('has exactly one copy of @tensorflow/tfjs-core in node_modules (one engine for every backend)', () => {
    const copies = tfjsCoreCopies();
    expect(copies.map((c) => c.version)).toEqual(['4.22.0']);
  });

  it.skipIf(native.skip)("loading it prints nothing on stderr (TensorFlow's load-time logs are muted)", () => {
    native.require();
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const mod = pathToFileURL(path.join(root, 'src', 'backend', 'index.ts')).href;
    const code = `const { initBackend } = await import(${JSON.stringify(mod)});
      const info = await initBackend('auto', { log: (m) => process.stdout.write(m + '\\n') });
      const tf = await import('@tensorflow/tfjs');
      tf.matMul(tf.ones([8, 8]), tf.ones([8, 8])).dataSync();
      process.stdout.write(JSON.stringify(info) + '\\n');`;
    const env = { ...process.env };
    delete env.TF_CPP_MIN_LOG_LEVEL;
    const r = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', code], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^backend: tensorflow \(native TensorFlow 2\.\d+\.\d+ via @tensorflow\/tfjs-node/);
    expect(JSON.parse(lines[lines.length - 1]).name).toBe('tensorflow');
  });
});
