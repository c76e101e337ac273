// The tfjs wasm backend in Node: .wasm files from node_modules, SIMD, and the extra kernels
// recsys needs to train on it (see wasm-kernels.ts).
import path from 'node:path';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';

import { registerWasmKernels } from './wasm-kernels.js';

const require = createRequire(import.meta.url);

export interface WasmInfo {
  simd: boolean;
  threads: number;
  wasmDir: string;
}

let loaded: WasmInfo | undefined;

/** Directory holding tfjs-backend-wasm*.wasm (the package's dist/). */
export function wasmDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

/**
 * Register the wasm backend (once) with file-system paths to its .wasm binaries and the extra
 * kernels, then make it the active backend. Throws a one-line Error if it cannot start.
 *
 * Threads: tfjs-backend-wasm 4.22 turns multi-threading off in Node (its pthread workers are
 * started from blob: URLs, which Node's Worker rejects: tfjs issue #3830), so it runs one thread,
 * with SIMD when V8 supports it (Node 20 does).
 */
export async function loadWasm(): Promise<WasmInfo> {
  if (!loaded) {
    let dir: string;
    try {
      dir = wasmDir();
    } catch {
      throw new Error('@tensorflow/tfjs-backend-wasm is not installed; run `npm ci`');
    }
    const binaries = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];
    const missing = binaries.filter((f) => !fs.existsSync(path.join(dir, f)));
    if (missing.length)
      throw new Error(`${missing.join(', ')} missing from @tensorflow/tfjs-backend-wasm; reinstall it with \`npm ci\``);
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // A directory prefix ending in a separator: the backend appends the file name and reads it with fs.
    wasm.setWasmPaths(dir + path.sep);
    registerWasmKernels('wasm');
    let ok = false;
    try {
      ok = await tf.setBackend('wasm');
    } catch (e) {
      throw new Error(`initialising wasm failed (${(e as Error).message.split('\n')[0]}); reinstall with \`npm ci\``);
    }
    if (!ok)
      throw new Error('initialising the wasm backend failed; reinstall @tensorflow/tfjs-backend-wasm with `npm ci`');
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    loaded = { simd, threads: wasm.getThreadsCount(), wasmDir: dir };
  } else {
    registerWasmKernels('wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('switching to the wasm backend failed');
  }
  await tf.ready();
  return loaded;
}
