import { afterAll, describe, it } from 'vitest';
import { setupBackend } from './backend-helper.js';
import { defineParitySuite, summarize } from './parity-suite.js';

// One file per backend: backends are process-global and vitest runs each file in its own fork.
const setup = await setupBackend('tensorflow');
console.log(`[tensorflow] backend: ${setup.name ?? 'unavailable'} (${setup.reason})`);

if (setup.name === null) {
  describe.skip(`parity on tensorflow: ${setup.reason}`, () => {
    it('needs the tensorflow backend', () => {});
  });
} else {
  afterAll(() => {
    console.log(summarize('tensorflow'));
  });
  if (!setup.gradients) console.log('[tensorflow] gradient checks skipped: ' + setup.reason);
  defineParitySuite(() => setup.name!, { gradients: setup.gradients });
}
