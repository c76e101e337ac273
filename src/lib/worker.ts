import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A worker thread running a module of recsys's own sources the way the main thread runs them:
 * compiled JavaScript runs as is; from source (bin/recsys.js, tests) the worker first registers
 * tsx's loader, which a worker thread does not inherit from the thread that started it. `entry` is
 * the module's path relative to `from` (the caller's import.meta.url) without extension.
 */
export function startWorker(from: string, entry: string, workerData: unknown): Worker {
  const own = new URL(from);
  if (!own.pathname.endsWith('.ts')) return new Worker(new URL(`${entry}.js`, own), { workerData });
  const url = new URL(`${entry}.ts`, own).href;
  const api = JSON.stringify(tsxEsmApi(own));
  const boot = `import(${api}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** File URL of tsx's ESM register API (its CommonJS twin cannot register ESM hooks from a worker). */
function tsxEsmApi(from: URL): string {
  const manifest = createRequire(from).resolve('tsx/package.json');
  const exports = JSON.parse(readFileSync(manifest, 'utf8')).exports['./esm/api'];
  return pathToFileURL(path.join(path.dirname(manifest), exports.import.default)).href;
}
