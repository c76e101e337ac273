import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';
import { defineParitySuite, summarize } from './parity-suite.js';

// tfjs's cpu backend is always there: no initBackend needed (and none is used, so this file also
// runs before src/backend exists).
beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});
afterAll(() => {
  console.log(summarize('cpu'));
});

defineParitySuite(() => 'cpu');
