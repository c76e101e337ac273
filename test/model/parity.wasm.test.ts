import { afterAll, describe, it } from 'vitest';
import { setupBackend } from './backend-helper.js';
import { defineParitySuite, summarize } from './parity-suite.js';

// One file per backend: backends are process-global and vitest runs each file in its own fork.
const setup = await setupBackend('wasm');
console.log(`[wasm] backend: ${setup.name ?? 'unavailable'} (${setup.reason})`);

if (setup.name === null) {
  describe.skip(`parity on wasm: ${setup.reason}`, () => {
    it('needs the wasm backend', () => {});
  });
} else {
  afterAll(() => {
    console.log(summarize('wasm'));
  });
  if (!setup.gradients) console.log('[wasm] gradient checks skipped: ' + setup.reason);
  defineParitySuite(() => setup.name!, { gradients: setup.gradients });
}
