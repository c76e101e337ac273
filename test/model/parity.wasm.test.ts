import { afterAll, describe, it } from 'vitest';
import { requirement } from '../helpers/python.js';
import { setupBackend } from './backend-helper.js';
import { defineParitySuite, summarize } from './parity-suite.js';

// One file per backend: backends are process-global and vitest runs each file in its own fork.
const setup = await setupBackend('wasm');
console.log(`[wasm] backend: ${setup.name ?? 'unavailable'} (${setup.reason})`);

if (setup.name === null) {
  // `npm run test:full` (and CI) sets up every backend: a missing one fails here, unless
  // RECSYS_ALLOW_MISSING_REFERENCE=1 lets a developer skip it locally.
  const backend = requirement(`wasm backend unavailable: ${setup.reason}`);
  describe.skipIf(backend.skip)(`parity on wasm`, () => {
    it('needs the wasm backend', () => backend.require());
  });
} else {
  afterAll(() => {
    console.log(summarize('wasm'));
  });
  defineParitySuite(() => setup.name!);
}
