import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EmbeddingWriter } from '../../src/embed/writer.js';
import { normalizeRows } from '../../src/embed/pooling.js';

/** Seeded standard normal samples (mulberry32 + Box–Muller). */
export function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

/** n vectors around `clusters` random centres (noise `spread`), L2-normalised, row-major. */
export function clusteredVectors(n: number, dim: number, clusters: number, seed: number, spread = 0.5): Float32Array {
  const g = gaussian(seed);
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, g));
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centres[i % clusters];
    for (let d = 0; d < dim; d++) out[i * dim + d] = c[d] + spread * g();
  }
  normalizeRows(out, dim);
  return out;
}

export interface FakeModel {
  weights_sha256: string;
  tokenizer_sha256: string;
  pooling?: string;
  normalize?: boolean;
}

export const FAKE_MODEL: FakeModel = { weights_sha256: 'a'.repeat(64), tokenizer_sha256: 'b'.repeat(64) };

/** An embeddings dir as `recsys embed` writes it, with given vectors and ids (null: row-keyed). */
export async function writeEmbeddingsDir(
  dir: string,
  vectors: Float32Array,
  dim: number,
  ids: string[] | null,
  model: FakeModel = FAKE_MODEL,
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const n = vectors.length / dim;
  const writer = new EmbeddingWriter(path.join(dir, 'embeddings.arrow'), dim, ids !== null);
  const keys = ids ?? Array.from({ length: n }, (_, i) => i + 1);
  for (let at = 0; at < n; at += 500) {
    const end = Math.min(n, at + 500);
    writer.add(keys.slice(at, end), vectors.slice(at * dim, end * dim));
  }
  await writer.commit();
  const manifest = {
    kind: 'embeddings',
    model: { ref: 'fake-model', kind: 'hf', weights_file: 'model.safetensors', weights_sha256: model.weights_sha256 },
    pooling: model.pooling ?? 'mean',
    normalize: model.normalize ?? true,
    dimension: dim,
    count: n,
    key: { column: ids ? 'id' : 'row', source_column: ids ? 'item_id' : null },
    text_column: 'text',
    max_length: 32,
    truncation: 'longest_first',
    tokenizer_sha256: model.tokenizer_sha256,
    input: 'items.csv',
    rejected: 0,
    created: new Date().toISOString(),
  };
  writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Float64 brute-force cosine top-k over row-major vectors (the test's own reference). */
export function bruteForceTopK(
  vectors: Float32Array,
  dim: number,
  ids: (string | number)[],
  q: Float32Array,
  k: number,
): { id: string | number; score: number }[] {
  const n = vectors.length / dim;
  let qq = 0;
  for (let d = 0; d < dim; d++) qq += q[d] * q[d];
  const scores: { id: string | number; score: number }[] = [];
  for (let i = 0; i < n; i++) {
    let dot = 0;
    let vv = 0;
    for (let d = 0; d < dim; d++) {
      dot += q[d] * vectors[i * dim + d];
      vv += vectors[i * dim + d] * vectors[i * dim + d];
    }
    scores.push({ id: ids[i], score: dot / Math.sqrt(qq * vv) });
  }
  return scores.sort((a, b) => b.score - a.score).slice(0, k);
}
