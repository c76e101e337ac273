import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

import { initBackend } from '../../src/backend/index.js';

export interface Out {
  shape: number[];
  dtype: string;
  values: number[];
}

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32). */
export function rand(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out.push((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1);
  }
  return out;
}

export function randTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    rand(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
    'float32',
  );
}

const quiet = { log: () => {} };

/** Run f on a backend (tensors created inside f live there) and return plain arrays; disposes everything. */
export async function runOn(backend: 'cpu' | 'wasm', f: () => tf.Tensor | tf.Tensor[]): Promise<Out[]> {
  await initBackend(backend, quiet);
  const result = tf.tidy(f);
  const list = Array.isArray(result) ? result : [result];
  const outs = list.map((t) => ({ shape: t.shape.slice(), dtype: t.dtype, values: Array.from(t.dataSync()) }));
  tf.dispose(list);
  return outs;
}

export function expectClose(actual: Out[], expected: Out[], atol = 1e-4, rtol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i];
    expect(a.shape, `output ${i} shape`).toEqual(e.shape);
    expect(a.dtype, `output ${i} dtype`).toBe(e.dtype);
    let worst = 0;
    let at = -1;
    a.values.forEach((v, j) => {
      const err = Math.abs(v - e.values[j]) - rtol * Math.abs(e.values[j]);
      if (!(err <= atol) && (err > worst || Number.isNaN(err))) {
        worst = Number.isNaN(err) ? Infinity : err;
        at = j;
      }
    });
    expect(at, `output ${i}: element ${at} is ${a.values[at]}, expected ${e.values[at]}`).toBe(-1);
  });
}

/** Same computation on wasm and on the cpu reference backend; outputs must agree. */
export async function expectWasmMatchesCpu(f: () => tf.Tensor | tf.Tensor[], atol = 1e-4, rtol = 1e-4): Promise<Out[]> {
  const cpu = await runOn('cpu', f);
  const wasm = await runOn('wasm', f);
  expectClose(wasm, cpu, atol, rtol);
  return wasm;
}
