import { afterAll, describe, expect, it } from 'vitest';
import { setupBackend } from './backend-helper.js';
import { defineParitySuite, summarize } from './parity-suite.js';

// One file per backend: backends are process-global and vitest runs each file in its own fork.
const setup = await setupBackend('wasm');
console.log(`[wasm] backend: ${setup.name ?? 'unavailable'} (${setup.reason})`);

if (setup.name === null) {
  // On a developer machine a missing backend is a skip; CI installs every backend
  // (.ci/run runs setup:native), so there its absence is a failure, not a silent skip.
  describe.skipIf(!process.env.CI)(`parity on wasm`, () => {
    it('needs the wasm backend', () => {
      expect.fail(`wasm backend unavailable: ${setup.reason}`);
    });
  });
} else {
  afterAll(() => {
    console.log(summarize('wasm'));
  });
  defineParitySuite(() => setup.name!);
}
