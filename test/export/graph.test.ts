import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { evaluateGraph } from './evaluate-graph.js';
import { buildInferenceGraph, opHistogram, opInputs, weightBytes } from '../../src/model/graph/inference-graph.js';
import { paramSpecs, totalParams } from '../../src/model/index.js';
import { CLS_FIXTURES, loadFixture, logitSpread, maxAbsDiff, referenceLogits, tensorsOf } from './helpers.js';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('inference graph description', () => {
  for (const name of CLS_FIXTURES) {
    it(`${name}: evaluating the description with tfjs gives the training forward pass's logits`, async () => {
      const { config, params, cases } = await loadFixture(name);
      const graph = buildInferenceGraph(config, params);
      for (const c of cases) {
        const ref = referenceLogits(params, config, c);
        expect(logitSpread(ref), `${name}/${c.name}: logits must vary`).toBeGreaterThan(0.05);
        const t = tensorsOf(c);
        const out = evaluateGraph(graph, params, {
          input_ids: t.inputIds,
          attention_mask: t.attentionMask,
          token_type_ids: t.tokenTypeIds,
        });
        expect(maxAbsDiff(out.logits.dataSync(), ref.flat())).toBeLessThanOrEqual(1e-6);
        // and Hugging Face's own logits for the same inputs
        if (c.logits) expect(maxAbsDiff(ref, c.logits)).toBeLessThan(1e-4);
        tf.dispose([out.logits, t.inputIds, t.attentionMask, t.tokenTypeIds]);
      }
    });
  }

  it('is derived from the parameter map: one weight per parameter, every value defined before use', async () => {
    const { config, params } = await loadFixture('cls-l2-h64');
    const graph = buildInferenceGraph(config, params);
    const weights = graph.ops.filter((o) => o.op === 'weight');
    expect(weights.map((w) => w.out).sort()).toEqual([...params.keys()].sort());
    expect(weightBytes(graph)).toBe(4 * totalParams(paramSpecs(config)));
    const seen = new Set<string>();
    for (const op of graph.ops) {
      for (const i of opInputs(op)) expect(seen.has(i), `${op.out} reads ${i}`).toBe(true);
      seen.add(op.out);
    }
    expect(graph.inputs).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(graph.outputs).toEqual([{ name: 'logits', value: 'logits', dims: ['batch_size', 3] }]);
    const h = opHistogram(graph);
    expect(h).toMatchObject({
      layerNorm: 1 + 2 * config.numHiddenLayers,
      softmax: config.numHiddenLayers,
      dense: 6 * config.numHiddenLayers + 2,
    });
  });

  it('maps every activation the model supports', async () => {
    for (const [name, fn] of [
      ['cls-l2-h64', 'gelu'],
      ['cls-gelu-new', 'gelu_tanh'],
      ['cls-relu', 'relu'],
    ] as const) {
      const { config, params } = await loadFixture(name);
      const acts = buildInferenceGraph(config, params)
        .ops.filter((o) => o.op === 'activation')
        .map((o) => (o as { fn: string }).fn);
      expect(new Set(acts)).toEqual(new Set([fn, 'tanh']));
    }
  });

  it('names a missing or misshapen parameter', async () => {
    const { config, params } = await loadFixture('cls-l2-h64');
    const shapes = new Map([...params].map(([k, v]) => [k, v.shape]));
    shapes.delete('bert.encoder.layer.1.output.dense.bias');
    expect(() => buildInferenceGraph(config, shapes)).toThrow(
      /bert\.encoder\.layer\.1\.output\.dense\.bias is missing/,
    );
    shapes.set('bert.encoder.layer.1.output.dense.bias', [64]);
    shapes.set('classifier.weight', [64, 5]);
    expect(() => buildInferenceGraph(config, shapes)).toThrow(
      /classifier\.weight is \[64, 5\], the config implies \[64, 3\]/,
    );
  });
});
