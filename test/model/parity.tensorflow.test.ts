import { afterAll, describe, it } from 'vitest';
import { requirement } from '../helpers/python.js';
import { setupBackend } from './backend-helper.js';
import { defineParitySuite, summarize } from './parity-suite.js';

// One file per backend: backends are process-global and vitest runs each file in its own fork.
const setup = await setupBackend('tensorflow');
console.log(`[tensorflow] backend: ${setup.name ?? 'unavailable'} (${setup.reason})`);

if (setup.name === null) {
  // `npm run test:full` (and CI) sets up every backend: a missing one fails here, unless
  // RECSYS_ALLOW_MISSING_REFERENCE=1 lets a developer skip it locally.
  const backend = requirement(`tensorflow backend unavailable: ${setup.reason}`);
  describe.skipIf(backend.skip)(`parity on tensorflow`, () => {
    it('needs the tensorflow backend', () => backend.require());
  });
} else {
  afterAll(() => {
    console.log(summarize('tensorflow'));
  });
  defineParitySuite(() => setup.name!);
}
