// initBackend's failures are one line that says what to do; 'auto' falls back and says why;
// the cache relink logic works on a package + cache laid out in a temp directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';

import {
  BackendUnavailableError,
  type BackendName,
  type NativePackage,
  type NativeStatus,
  cacheRoot,
  initBackend,
  linkFromCache,
  nativeStatusAt,
} from '../../src/backend/index.js';
import { BINDING_PATCH } from '../../src/backend/native.js';

const notBuilt = (pkg: NativePackage): NativeStatus =>
  pkg === '@tensorflow/tfjs-node'
    ? {
        package: pkg,
        installed: true,
        version: '4.22.0',
        packageDir: '/nonexistent',
        bindingPresent: false,
        source: 'none',
      }
    : { package: pkg, installed: false, bindingPresent: false, source: 'none' };
const notInstalled = (pkg: NativePackage): NativeStatus => ({
  package: pkg,
  installed: false,
  bindingPresent: false,
  source: 'none',
});

async function failure(p: Promise<unknown>): Promise<BackendUnavailableError> {
  try {
    await p;
  } catch (e) {
    return e as BackendUnavailableError;
  }
  throw new Error('expected initBackend to fail');
}

describe('initBackend errors', () => {
  it("'tensorflow' without a built binding: one line saying to run setup:native, exit code 2", async () => {
    const e = await failure(initBackend('tensorflow', { log: () => {}, nativeStatus: notBuilt }));
    expect(e).toBeInstanceOf(BackendUnavailableError);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(
      "backend 'tensorflow' unavailable: the native binding is not built; run `npm run setup:native`",
    );
  });

  it("'tensorflow' without the package: one line saying what to install", async () => {
    const e = await failure(initBackend('tensorflow', { log: () => {}, nativeStatus: notInstalled }));
    expect(e.message).toBe(
      "backend 'tensorflow' unavailable: @tensorflow/tfjs-node is not installed; run `npm ci`, then " +
        '`npm run setup:native`',
    );
    expect(e.message).not.toMatch(/\n/);
  });

  it('an unknown backend name: one line listing the valid ones', async () => {
    const e = await failure(initBackend('gpu' as BackendName, { log: () => {} }));
    expect(e).toBeInstanceOf(BackendUnavailableError);
    expect(e.message).toBe("unknown backend 'gpu'; use one of auto, tensorflow, wasm, cpu");
  });

  it("'auto' falls back to wasm and logs one line with the reason and the fix", async () => {
    const lines: string[] = [];
    const info = await initBackend('auto', { log: (m) => lines.push(m), nativeStatus: notBuilt });
    expect(info.name).toBe('wasm');
    expect(info.gpu).toBe(false);
    expect(tf.getBackend()).toBe('wasm');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^backend: wasm \(native TensorFlow unavailable: the native binding is not built; run `npm run setup:native`/,
    );
    expect(lines[0]).not.toContain('\n');
  });

  it("'cpu' is always available and does not print tfjs's Node banner", async () => {
    const warn: string[] = [];
    const orig = console.warn;
    console.warn = (...a: unknown[]) => void warn.push(a.join(' '));
    try {
      const info = await initBackend('cpu', { log: () => {} });
      expect(info.name).toBe('cpu');
      tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync());
    } finally {
      console.warn = orig;
    }
    expect(warn.join('\n')).not.toMatch(/looks like you are running TensorFlow\.js in Node/);
  });
});

describe('native cache relink', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-backend-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('uses $RECSYS_CACHE, else $XDG_CACHE_HOME/recsys, else ~/.cache/recsys', () => {
    expect(cacheRoot({ RECSYS_CACHE: path.join(tmp, 'a') })).toBe(path.join(tmp, 'a'));
    expect(cacheRoot({ XDG_CACHE_HOME: path.join(tmp, 'x') })).toBe(path.join(tmp, 'x', 'recsys'));
    expect(cacheRoot({})).toBe(path.join(os.homedir(), '.cache', 'recsys'));
  });

  it('finds a cached build for a package that lost its binding and links it back', () => {
    const env = { RECSYS_CACHE: path.join(tmp, 'cache') };
    const pkgDir = path.join(tmp, 'node_modules', '@tensorflow', 'tfjs-node');
    fs.mkdirSync(pkgDir, { recursive: true });
    fs.writeFileSync(
      path.join(pkgDir, 'package.json'),
      JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', binary: { napi_versions: [3, 8] } }),
    );
    const entry = path.join(tmp, 'cache', 'native', 'tfjs-node-4.22.0__tensorflow-cpu_2.21.0__linux-x64');
    fs.mkdirSync(path.join(entry, 'lib', 'napi-v8'), { recursive: true });
    fs.mkdirSync(path.join(entry, 'deps', 'lib'), { recursive: true });
    fs.writeFileSync(path.join(entry, 'lib', 'napi-v8', 'tfjs_binding.node'), 'x');
    fs.writeFileSync(path.join(entry, 'deps', 'lib', 'libtensorflow.so.2'), 'x');
    const manifest = {
      format: 1,
      package: '@tensorflow/tfjs-node',
      packageVersion: '4.22.0',
      tfSpec: 'tensorflow-cpu==2.21.0',
      tfVersion: '2.21.0',
      napi: 8,
      binding: 'lib/napi-v8/tfjs_binding.node',
      bindingPatch: BINDING_PATCH,
      platform: process.platform,
      arch: process.arch,
      builtAt: '2026-01-01T00:00:00.000Z',
    };
    fs.writeFileSync(path.join(entry, 'manifest.json'), JSON.stringify(manifest));
    // an incomplete build (no manifest) next to it is ignored
    fs.mkdirSync(path.join(tmp, 'cache', 'native', 'tfjs-node-4.22.0__broken__linux-x64', 'lib'), { recursive: true });

    const before = nativeStatusAt('@tensorflow/tfjs-node', pkgDir, env);
    expect(before).toMatchObject({ installed: true, version: '4.22.0', bindingPresent: false, source: 'none' });
    expect(before.cacheEntry?.dir).toBe(entry);

    const after = linkFromCache(before, before.cacheEntry!, env);
    expect(after).toMatchObject({ bindingPresent: true, source: 'cache', linkedTo: fs.realpathSync(entry) });
    expect(fs.readlinkSync(path.join(pkgDir, 'lib'))).toBe(path.join(entry, 'lib'));
    expect(fs.readlinkSync(path.join(pkgDir, 'deps'))).toBe(path.join(entry, 'deps'));

    // relinking again is a no-op that keeps the links valid
    expect(linkFromCache(after, after.cacheEntry!, env).bindingPresent).toBe(true);

    // a cached build for another package version does not count
    const oldEntry = path.join(tmp, 'old', 'native', 'tfjs-node-4.21.0__tensorflow-cpu_2.21.0__linux-x64');
    fs.cpSync(entry, oldEntry, { recursive: true });
    fs.writeFileSync(path.join(oldEntry, 'manifest.json'), JSON.stringify({ ...manifest, packageVersion: '4.21.0' }));
    const freshPkg = path.join(tmp, 'fresh', '@tensorflow', 'tfjs-node');
    fs.mkdirSync(freshPkg, { recursive: true });
    fs.copyFileSync(path.join(pkgDir, 'package.json'), path.join(freshPkg, 'package.json'));
    const other = nativeStatusAt('@tensorflow/tfjs-node', freshPkg, { RECSYS_CACHE: path.join(tmp, 'old') });
    expect(other).toMatchObject({ bindingPresent: false, source: 'none' });
    expect(other.cacheEntry).toBeUndefined();

    // nor does one built before the binding patch (its tensors share JavaScript memory)
    const { bindingPatch: _, ...unpatched } = manifest;
    fs.writeFileSync(path.join(oldEntry, 'manifest.json'), JSON.stringify({ ...unpatched }));
    fs.renameSync(oldEntry, oldEntry.replace('4.21.0', '4.22.0'));
    const stale = nativeStatusAt('@tensorflow/tfjs-node', freshPkg, { RECSYS_CACHE: path.join(tmp, 'old') });
    expect(stale.cacheEntry).toBeUndefined();
  });
});
