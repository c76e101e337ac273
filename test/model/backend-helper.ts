import { initBackend } from '../../src/backend/index.js';

export interface BackendSetup {
  /** The backend in use, or null when it cannot be had on this machine (with the reason). */
  name: string | null;
  reason: string;
}

/**
 * Select a backend through src/backend's initBackend, as recsys itself does (wasm comes with the
 * extra kernels BERT needs to train). A backend that cannot load here (e.g. native TensorFlow
 * before `npm run setup:native`) yields null and the reason, so its test file says it skipped.
 */
export async function setupBackend(wanted: 'cpu' | 'wasm' | 'tensorflow'): Promise<BackendSetup> {
  try {
    const info = await initBackend(wanted, { log: () => {} });
    return { name: info.name, reason: info.reason };
  } catch (e) {
    return { name: null, reason: (e as Error).message };
  }
}
