import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { requirement } from '../helpers/python.js';

/**
 * The binding setup:native builds gives every tensor made from a JavaScript array memory of its own
 * (scripts/native/binding-patch.mjs): TensorFlow never holds JavaScript memory, so it never calls back into
 * N-API from its own threads when it lets a tensor go. Unpatched, tfjs-node shares any 64-byte-aligned
 * array with TensorFlow, and writing to the array afterwards changes the tensor.
 */
let why: string | null = null;
try {
  await initBackend('tensorflow', { log: () => {} });
} catch (e) {
  why = `tensorflow backend unavailable: ${(e as Error).message}`;
}
// CI builds the native backend with setup:native: its absence fails here (a local opt-in may skip)
const native = requirement(why);

describe.skipIf(native.skip)('tensors made from JavaScript arrays (tensorflow backend)', () => {
  it('own their memory at every alignment: writing to the array later does not change them', () => {
    native.require();
    const buffer = new ArrayBuffer(1 << 16);
    const shared: number[] = [];
    // one of every four 16-byte offsets is 64-byte aligned, whatever the buffer's own address
    for (const offset of [0, 16, 32, 48, 64, 80, 96, 112]) {
      for (const [n, dtype] of [
        [1, 'float32'],
        [7, 'float32'],
        [256, 'int32'],
      ] as const) {
        const view = dtype === 'int32' ? new Int32Array(buffer, offset, n) : new Float32Array(buffer, offset, n);
        view.fill(1);
        const t = tf.tensor1d(view, dtype);
        const before = tf.tidy(() => tf.sum(t).dataSync()[0]); // the handle exists in TensorFlow now
        view.fill(2);
        const after = tf.tidy(() => tf.sum(t).dataSync()[0]);
        if (after !== before) shared.push(offset);
        expect(before).toBe(n);
        t.dispose();
      }
    }
    expect(shared).toEqual([]);
  });
});
