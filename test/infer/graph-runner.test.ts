import { readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import type { IdBatch } from '../../src/data/batch.js';
import { compiledRunner } from '../../src/infer/compiled.js';
import { graphRunner } from '../../src/infer/graph-runner.js';
import { tfjsRunner } from '../../src/infer/runners.js';
import { makeLogger } from '../../src/lib/log.js';
import { importHfModel } from '../../src/model/import.js';
import { disposeParams } from '../../src/model/params.js';
import { tempDir } from '../helpers/cli.js';
import { FIXTURES, maxAbsDiff, type RefCase, readVectors } from '../model/parity-suite.js';

/**
 * The compiled inference path (src/infer/graph-runner.ts): the forward pass as one TensorFlow graph in
 * tfjs-node's session, against the Hugging Face reference vectors of test/fixtures/reference and against
 * the eager tfjs forward pass it replaces. Needs the tensorflow backend: fails, not skips, without it.
 */

/** Logits within 1e-5 of HF and of eager; the encoder's states (larger values, longer sums) within 2e-5. */
const TOL = 1e-5;
const HIDDEN_TOL = 2e-5;
const cacheDir = tempDir('recsys-compiled-infer-');
const log = makeLogger({ quiet: true });
const classifiers = readdirSync(FIXTURES).filter(
  (n) => readVectors(n).architecture === 'BertForSequenceClassification',
);

beforeAll(async () => {
  const info = await initBackend('tensorflow', { log: () => {} });
  expect(info.name).toBe('tensorflow');
});

const batchOf = (c: RefCase): IdBatch => ({
  batch: c.input_ids.length,
  seq: c.input_ids[0].length,
  inputIds: Int32Array.from(c.input_ids.flat()),
  attentionMask: Int32Array.from(c.attention_mask.flat()),
  tokenTypeIds: Int32Array.from(c.token_type_ids.flat()),
});

describe('the forward pass as one TensorFlow graph', () => {
  for (const name of classifiers) {
    it(`${name}: logits within ${TOL}, pooled and last hidden within ${HIDDEN_TOL} of HF and eager`, async () => {
      const ref = readVectors(name);
      const { config, params } = await importHfModel(path.join(FIXTURES, name));
      const eager = tfjsRunner(params, config);
      const graph = await graphRunner(params, config, { cacheDir });
      try {
        expect(graph.name).toMatch(/graph \(one session call per batch/);
        for (const c of ref.cases) {
          const b = batchOf(c);
          const before = tf.memory().numTensors;
          const logits = await graph.run(b);
          const h = await graph.hidden!(b);
          expect(tf.memory().numTensors).toBe(before);
          expect(maxAbsDiff(logits, c.logits!.flat()), `${c.name} logits vs HF`).toBeLessThanOrEqual(TOL);
          expect(maxAbsDiff(h.pooled!, c.pooled.flat()), `${c.name} pooled vs HF`).toBeLessThanOrEqual(HIDDEN_TOL);
          if (c.last_hidden) expect(maxAbsDiff(h.lastHidden!, c.last_hidden.flat(2))).toBeLessThanOrEqual(HIDDEN_TOL);
          const e = await eager.run(b);
          expect(maxAbsDiff(logits, Array.from(e)), `${c.name} logits vs eager`).toBeLessThanOrEqual(TOL);
          const eh = await eager.hidden!(b);
          expect(maxAbsDiff(h.lastHidden!, Array.from(eh.lastHidden!))).toBeLessThanOrEqual(HIDDEN_TOL);
        }
        // logits that vary: a wrong mask or activation could not hide behind constant outputs
        const all = ref.cases.flatMap((c) => c.logits!.map((row) => row[0]));
        expect(Math.max(...all) - Math.min(...all)).toBeGreaterThan(0.05);
      } finally {
        await graph.close();
        disposeParams(params);
      }
    });
  }

  it('takes any [batch, seq], keeps two models of one config apart, and owns its weights', async () => {
    const a = await importHfModel(path.join(FIXTURES, 'cls-l2-h64'));
    const scaled = new Map([...a.params].map(([k, t]) => [k, k.startsWith('classifier') ? tf.mul(t, 2) : t.clone()]));
    const own = tempDir('recsys-compiled-infer-');
    const first = await graphRunner(a.params, a.config, { cacheDir: own });
    const second = await graphRunner(scaled, a.config, { cacheDir: own });
    const eager = tfjsRunner(a.params, a.config);
    const cases = readVectors('cls-l2-h64').cases.map(batchOf);
    const wanted = await Promise.all(cases.map((b) => eager.run(b)));
    disposeParams(a.params); // the session holds its own copy
    disposeParams(scaled);
    try {
      const before = tf.memory().numTensors;
      for (let round = 0; round < 2; round++) {
        for (const [i, b] of cases.entries()) {
          const got = await first.run(b);
          expect(maxAbsDiff(got, Array.from(wanted[i]))).toBeLessThanOrEqual(TOL);
          const other = await second.run(b);
          expect(maxAbsDiff(other, Array.from(got))).toBeGreaterThan(1e-3);
        }
      }
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await first.close();
      await second.close();
    }
    // one graph for both: it is cached by content, and the content does not hold the weights
    expect(readdirSync(own).filter((n) => !n.startsWith('.'))).toHaveLength(1);
  });
});

describe('eval.compiled / predict.compiled', () => {
  it('auto takes the graph on tensorflow; off keeps the eager pass; on refuses another backend', async () => {
    const { config, params } = await importHfModel(path.join(FIXTURES, 'cls-l2-h64'));
    try {
      const auto = await compiledRunner(params, config, { mode: 'auto', key: 'eval.compiled' }, log);
      expect(auto?.name).toMatch(/^TensorFlow .*graph/);
      await auto?.close();
      expect(await compiledRunner(params, config, { mode: 'off', key: 'eval.compiled' }, log)).toBeUndefined();
      await tf.setBackend('cpu');
      try {
        const cpuParams = new Map([...params].map(([k, t]) => [k, tf.tensor(t.dataSync(), t.shape)]));
        expect(await compiledRunner(cpuParams, config, { mode: 'auto', key: 'eval.compiled' }, log)).toBeUndefined();
        await expect(compiledRunner(cpuParams, config, { mode: 'on', key: 'predict.compiled' }, log)).rejects.toThrow(
          'predict.compiled: on, but the backend is cpu, not tensorflow',
        );
        disposeParams(cpuParams);
      } finally {
        await tf.setBackend('tensorflow');
      }
      // a graph that cannot be built: auto says why and goes eager, on refuses
      const broken = { ...config, hiddenSize: config.hiddenSize * 2 };
      const warnings: string[] = [];
      const noted = { ...log, warn: (m: string) => warnings.push(m) };
      expect(await compiledRunner(params, broken, { mode: 'auto', key: 'eval.compiled' }, noted)).toBeUndefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^eager forward pass: the TensorFlow graph failed \(cannot build the inference graph/,
      );
      await expect(compiledRunner(params, broken, { mode: 'on', key: 'eval.compiled' }, log)).rejects.toThrow(
        /eval\.compiled: on, but the TensorFlow graph failed: cannot build the inference graph/,
      );
    } finally {
      disposeParams(params);
    }
  });
});
