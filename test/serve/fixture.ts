import path from 'node:path';
import type { ServeOptions } from '../../src/serve/run.js';
import { makeRun } from '../export/run-fixture.js';
import { runCli } from '../helpers/cli.js';

/** A tiny intent classifier (untrained, varied logits) exported to ONNX: what `recsys serve` serves in tests. */
export async function makeExport(root: string, name: string, seed: number): Promise<string> {
  const run = await makeRun(root, {
    sample: 'intent',
    datasetDir: path.join(root, 'intent-dataset'),
    name: `${name}-run`,
    seed,
  });
  const out = path.join(root, name);
  const e = runCli(['export', '--run', run.runDir, '--format', 'onnx', '--out', out, '--check-rows', '16']);
  if (e.code !== 0) throw new Error(`recsys export failed (${e.code}): ${e.stderr}`);
  return out;
}

/** serve.* defaults (as the schema gives them), for one model, with overrides. */
export function serveOptions(dir: string, over: Partial<ServeOptions> = {}): ServeOptions {
  return {
    models: [{ name: 'intent', dir }],
    host: '127.0.0.1',
    port: 0,
    quantized: false,
    threads: 1,
    workers: 0,
    maxBatchSize: 32,
    maxWaitMs: 2,
    maxQueue: 1024,
    inflightBatches: 1,
    maxItems: 64,
    maxChars: 2000,
    bodyLimit: 1 << 20,
    cacheBytes: 1 << 20,
    cacheTtlSeconds: 600,
    apiKey: null,
    drainTimeoutSeconds: 30,
    index: null,
    pooling: 'mean',
    normalize: true,
    search: { exact: true, ann: { nprobes: 20, ef: null, refineFactor: 10 }, kMax: 100 },
    logLevel: 'silent',
    ...over,
  };
}

/** Queries of the sample kind: short and long, near-duplicates, one that overflows max_length 32. */
export const QUERIES = [
  'usb c charger',
  'USB-C   charger',
  'yoga mat extra thick non slip for hot yoga and pilates with carrying strap',
  'organic dog food',
  'wireless noise cancelling headphones',
  'kids bike',
  'lipstick',
  'a very long query about stainless steel kitchen knives set with block and sharpener for a home cook who ' +
    'wants a gift box, a honing rod, a bread knife, a paring knife and a santoku in one order',
  'garden hose 50 ft',
  'printer paper',
];
