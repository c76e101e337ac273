// Child process for the doctor's probes: `node probe-child.js <backend> <seconds> <n>` activates
// one backend through initBackend (backends cannot be cleanly unloaded, so one process per backend),
// times n×n float32 matmuls for about <seconds>, and prints one JSON line on stdout.
import * as tf from '@tensorflow/tfjs';

import { initBackend, isBackendName } from './index.js';

export interface ProbeChildResult {
  backend: string;
  ok: boolean;
  name?: string;
  reason?: string;
  tfVersion?: string;
  gpu?: boolean;
  package?: string;
  simd?: boolean;
  threads?: number;
  n?: number;
  iterations?: number;
  seconds?: number;
  gflops?: number;
  leakedTensors?: number;
  error?: string;
}

async function main(): Promise<void> {
  const [backend = 'auto', secondsArg = '1', nArg = '1024'] = process.argv.slice(2);
  const seconds = Math.max(0.05, Number(secondsArg) || 1);
  const n = Math.max(16, Math.floor(Number(nArg) || 1024));
  const result: ProbeChildResult = { backend, ok: false };
  try {
    if (!isBackendName(backend)) throw new Error(`unknown backend '${backend}'`);
    const info = await initBackend(backend, { log: () => {} });
    Object.assign(result, {
      name: info.name,
      reason: info.reason,
      tfVersion: info.tfVersion,
      gpu: info.gpu,
      package: info.package,
      simd: info.simd,
      threads: info.threads,
    });
    const before = tf.memory().numTensors;
    const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
    const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
    // tidy callbacks return nothing: returning the Float32Array would make tidy walk every element.
    tf.tidy(() => {
      tf.matMul(a, b).dataSync();
    });
    let iterations = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      tf.tidy(() => {
        tf.matMul(a, b).dataSync();
      });
      iterations++;
      elapsed = (performance.now() - start) / 1000;
    } while (elapsed < seconds);
    tf.dispose([a, b]);
    Object.assign(result, {
      ok: true,
      n,
      iterations,
      seconds: Number(elapsed.toFixed(3)),
      gflops: Number(((2 * n ** 3 * iterations) / elapsed / 1e9).toFixed(2)),
      leakedTensors: tf.memory().numTensors - before,
    });
  } catch (e) {
    result.error = ((e as Error).message ?? String(e)).split('\n')[0];
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
