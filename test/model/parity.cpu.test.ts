import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';
import { defineParitySuite, summarize } from './parity-suite.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});
afterAll(() => {
  console.log(summarize('cpu'));
});

defineParitySuite(() => 'cpu');
