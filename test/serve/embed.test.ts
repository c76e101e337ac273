import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { encoderIdentity } from '../../src/embed/encoder.js';
import { embedRows } from '../../src/embed/pooling.js';
import { type InferenceModel, openModel } from '../../src/infer/model.js';
import { identityDifferences } from '../../src/retrieval/manifest.js';
import { buildIndex } from '../../src/retrieval/build.js';
import { VectorStore } from '../../src/retrieval/store.js';
import { RowCache } from '../../src/serve/cache.js';
import { embed, encodeInputs, search, type SearchContext } from '../../src/serve/inference.js';
import { type LoadedModel, servedModel } from '../../src/serve/models.js';
import { makeRun } from '../export/run-fixture.js';
import { tempDir } from '../helpers/cli.js';
import { bruteForceTopK, writeEmbeddingsDir } from '../retrieval/fixtures.js';
import { QUERIES } from './fixture.js';

/**
 * /embed and /search with a model that has hidden states (today a run dir on tfjs; embedding
 * exports with last_hidden_state take the same path): vectors equal `recsys embed`'s pooling of
 * the same rows whatever the batch composition, and search hits equal a brute-force cosine top-k.
 */

const root = tempDir('recsys-serve-embed-');
const limits = { maxItems: 64, maxChars: 2000 };
let model: InferenceModel;
let served: LoadedModel;
let reference: Float32Array;
let dim: number;

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  const run = await makeRun(root, { sample: 'intent', datasetDir: path.join(root, 'intent-dataset') });
  model = await openModel(run.runDir, { backend: 'cpu', log: { info: () => {}, warn: () => {}, debug: () => {} } });
  const batching = { maxBatch: 3, maxWaitMs: 5, maxQueue: 100, inflight: 1 };
  served = await servedModel('emb', run.runDir, model, '', {
    batching,
    pooling: 'mean',
    normalize: true,
    observe: () => ({}),
  });
  const rows = QUERIES.map((q) => model.tokenizer.encode(q, undefined, model.maxLength, model.truncation)!);
  ({ vectors: reference, dimension: dim } = await embedRows(model, rows, 'mean', true));
}, 240_000);

const close = (a: number[], b: Float32Array) => {
  expect(a).toHaveLength(b.length);
  for (const [i, x] of a.entries()) expect(Math.abs(x - b[i])).toBeLessThan(1e-5);
};

describe('/embed', () => {
  it('vectors equal embed pooling of the same rows, alone, together and in mixed batches', async () => {
    const cache = new RowCache(0, 60);
    const together = await embed(served, { inputs: QUERIES }, limits, cache);
    expect(together.dimension).toBe(dim);
    for (const [i, v] of together.vectors.entries()) close(v, reference.subarray(i * dim, (i + 1) * dim));
    const alone = await Promise.all(QUERIES.map((q) => embed(served, { inputs: [q] }, limits, cache)));
    for (const [i, r] of alone.entries()) close(r.vectors[0], reference.subarray(i * dim, (i + 1) * dim));
  });

  it('refuses pairs: an embedding is of one text', () => {
    expect(() => encodeInputs(served, [{ text: 'a', pair: 'b' }], limits, false)).toThrow(
      'inputs[0].pair: this endpoint takes single texts',
    );
  });
});

describe('/search', () => {
  it("hits equal a brute-force cosine top-k over the index's vectors; another model is refused", async () => {
    const ids = QUERIES.map((_, i) => `item${i}`);
    const id = await encoderIdentity(served.dir, model, 'mean', true);
    await writeEmbeddingsDir(path.join(root, 'vectors'), reference, dim, ids, { ...id, pooling: 'mean' });
    const out = path.join(root, 'index');
    await buildIndex({
      vectors: path.join(root, 'vectors'),
      out,
      ann: 'none',
      annMinRows: 1,
      partitions: null,
      subVectors: null,
      hnswM: 20,
      efConstruction: 150,
      overwrite: false,
    });
    const store = await VectorStore.open(out);
    const ctx: SearchContext = {
      store,
      exact: true,
      ann: { nprobes: 20, ef: null, refineFactor: 10 },
      kMax: 5,
      matches: async (m) =>
        identityDifferences(store.manifest, await encoderIdentity(m.dir, m.model, 'mean', true)).join('; ') || null,
    };
    const r = await search(served, { inputs: ['usb charger', 'dog food'], k: 3 }, limits, new RowCache(0, 60), ctx);
    const queries = await embedRows(
      model,
      ['usb charger', 'dog food'].map((q) => model.tokenizer.encode(q, undefined, model.maxLength, model.truncation)!),
      'mean',
      true,
    );
    r.results.forEach((res, i) => {
      const want = bruteForceTopK(reference, dim, ids, queries.vectors.subarray(i * dim, (i + 1) * dim), 3);
      expect(res.hits.map((h) => h.id)).toEqual(want.map((h) => h.id));
      for (const [j, h] of res.hits.entries()) expect(Math.abs(h.score - want[j].score)).toBeLessThan(1e-5);
    });
    await expect(search(served, { inputs: ['x'], k: 6 }, limits, new RowCache(0, 60), ctx)).rejects.toThrow(
      'k: 6; the limit is 5 (serve.search_k_max)',
    );
    const other = { ...served, sha256: 'other', model: { ...model, modelSha256: 'f'.repeat(64) } } as LoadedModel;
    await expect(search(other, { inputs: ['x'] }, limits, new RowCache(0, 60), ctx)).rejects.toThrow(
      /^model emb is not the model of the index: weights sha256 ffffffffffff/,
    );
  });
});
