import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

type InitBackend = (requested: 'auto' | 'tensorflow' | 'wasm' | 'cpu', opts?: unknown) => Promise<{ name: string; reason?: string }>;

const backendIndex = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/backend/index.ts');

/** src/backend's initBackend, once that module exists (it is written in parallel with src/model). */
export async function findInitBackend(): Promise<InitBackend | null> {
  if (!existsSync(backendIndex)) return null;
  const mod = (await import('../../src/backend/index.js' as string)) as { initBackend?: InitBackend };
  return mod.initBackend ?? null;
}

export interface BackendSetup {
  /** The backend in use, or null when it cannot be had here (with the reason). */
  name: string | null;
  reason: string;
  /** Whether training kernels (gradients) are expected to work. */
  gradients: boolean;
}

/**
 * Select `wanted` through initBackend when src/backend exists. Without it, wasm falls back to the
 * plain @tensorflow/tfjs-backend-wasm, whose missing gradient kernels (UnsortedSegmentSum for
 * gather's gradient) are what src/backend adds, so gradient checks are skipped there; the native
 * backend needs src/backend.
 */
export async function setupBackend(wanted: 'cpu' | 'wasm' | 'tensorflow'): Promise<BackendSetup> {
  const init = await findInitBackend();
  if (init) {
    try {
      const info = await init(wanted);
      return { name: info.name, reason: info.reason ?? '', gradients: true };
    } catch (e) {
      return { name: null, reason: (e as Error).message, gradients: false };
    }
  }
  if (wanted === 'cpu') {
    await tf.setBackend('cpu');
    return { name: 'cpu', reason: 'tfjs cpu', gradients: true };
  }
  if (wanted === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    return { name: 'wasm', reason: 'plain tfjs-backend-wasm (src/backend not present yet): forward only', gradients: false };
  }
  return { name: null, reason: 'src/backend (initBackend) is not present yet', gradients: false };
}
