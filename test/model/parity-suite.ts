import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bertForward, bertLogits } from '../../src/model/bert.js';
import { importHfModel } from '../../src/model/import.js';
import { disposeParams, type Params } from '../../src/model/params.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'reference');

export interface RefCase {
  name: string;
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
  logits?: number[][];
  pooled: number[][];
  last_hidden?: number[][][];
}
export interface RefVectors {
  name: string;
  architecture: string;
  saved_dtype: string;
  cases: RefCase[];
  /** Gradients of the mean cross-entropy on one case, PyTorch layout ([out, in] kernels). */
  grads?: { case: string; labels: number[]; loss: number; params: Record<string, number[] | number[][]> };
}

/** Mean softmax cross-entropy, as torch's CrossEntropyLoss. */
export function crossEntropy(logits: tf.Tensor2D, labels: number[]): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as tf.Scalar;
  });
}

export const fixtureNames = (): string[] =>
  readdirSync(FIXTURES)
    .filter((n) => !n.startsWith('.'))
    .sort();

export function readVectors(name: string): RefVectors {
  return JSON.parse(readFileSync(path.join(FIXTURES, name, 'vectors.json'), 'utf8')) as RefVectors;
}

export function inputsOf(c: RefCase) {
  return {
    inputIds: tf.tensor2d(c.input_ids, undefined, 'int32'),
    attentionMask: tf.tensor2d(c.attention_mask, undefined, 'int32'),
    tokenTypeIds: tf.tensor2d(c.token_type_ids, undefined, 'int32'),
  };
}

export function maxAbsDiff(a: number[] | Float32Array, b: number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Max |Δ| per fixture, case and output, recorded so the report can show the numbers. */
export const results: Array<{ fixture: string; case: string; output: string; diff: number }> = [];

export const TOL = 1e-4;

/**
 * Parity of recsys's BERT against the transformers reference vectors on the current backend:
 * logits and pooled output (and the last hidden state for the single-row case) within 1e-4.
 */
export function defineParitySuite(backend: () => string): void {
  for (const name of fixtureNames()) {
    const ref = readVectors(name);
    describe(`${name} (${ref.architecture}, ${ref.saved_dtype})`, () => {
      for (const c of ref.cases) {
        it(`${c.name}: logits and pooled output within ${TOL} of transformers`, async () => {
          const { config, params } = await importHfModel(path.join(FIXTURES, name));
          const inputs = inputsOf(c);
          const before = tf.memory().numTensors;
          const out = bertForward(params, config, inputs, { returnHidden: true, headless: !c.logits });
          const pooled = maxAbsDiff((await out.pooled.data()) as Float32Array, c.pooled.flat());
          results.push({ fixture: name, case: c.name, output: 'pooled', diff: pooled });
          expect(pooled).toBeLessThanOrEqual(TOL);
          if (c.logits) {
            const logits = maxAbsDiff((await out.logits!.data()) as Float32Array, c.logits.flat());
            results.push({ fixture: name, case: c.name, output: 'logits', diff: logits });
            expect(logits).toBeLessThanOrEqual(TOL);
          }
          if (c.last_hidden) {
            const hidden = maxAbsDiff((await out.lastHidden!.data()) as Float32Array, c.last_hidden.flat(2));
            results.push({ fixture: name, case: c.name, output: 'last_hidden', diff: hidden });
            expect(hidden).toBeLessThanOrEqual(TOL);
          }
          tf.dispose(out as unknown as tf.TensorContainer);
          expect(tf.memory().numTensors).toBe(before);
          tf.dispose(Object.values(inputs));
          disposeParams(params);
          expect(tf.getBackend()).toBe(backend());
        });
      }
      if (ref.grads) {
        const g = ref.grads;
        it(`gradients of the cross-entropy on ${g.case} within ${TOL} of torch (and no leaks)`, async () => {
          const loaded = await importHfModel(path.join(FIXTURES, name));
          const vars: Params = new Map([...loaded.params].map(([k, t]) => [k, tf.variable(t, true, `${name}/${k}`)]));
          disposeParams(loaded.params);
          const inputs = inputsOf(ref.cases.find((c) => c.name === g.case)!);
          const before = tf.memory().numTensors;
          for (let rep = 0; rep < 2; rep++) {
            const { value, grads } = tf.variableGrads(() =>
              crossEntropy(bertLogits(vars, loaded.config, inputs), g.labels),
            );
            expect(Math.abs((await value.data())[0] - g.loss)).toBeLessThanOrEqual(TOL);
            for (const [pname, want] of Object.entries(g.params)) {
              const gt = grads[`${name}/${pname}`];
              expect(gt, pname).toBeDefined();
              const got =
                pname.endsWith('.weight') && gt.rank === 2 && !pname.includes('embeddings')
                  ? tf.transpose(gt)
                  : gt.clone();
              const diff = maxAbsDiff((await got.data()) as Float32Array, (want as number[]).flat());
              got.dispose();
              results.push({ fixture: name, case: g.case, output: 'grads', diff });
              expect(diff, pname).toBeLessThanOrEqual(TOL);
            }
            expect(Object.keys(grads).length).toBe(vars.size);
            tf.dispose([value, ...Object.values(grads)]);
            expect(tf.memory().numTensors).toBe(before);
          }
          tf.dispose(Object.values(inputs));
          disposeParams(vars);
        });
      }
    });
  }
}

export function summarize(backend: string): string {
  const worst = new Map<string, number>();
  for (const r of results) {
    const k = `${r.output}`;
    worst.set(k, Math.max(worst.get(k) ?? 0, r.diff));
  }
  return (
    `[${backend}] max |Δ| vs transformers over ${new Set(results.map((r) => r.fixture)).size} fixtures: ` +
    [...worst].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')
  );
}
