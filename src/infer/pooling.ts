/** Sentence pooling over encoder outputs: shared by `recsys embed`, search, serve and eval of a bi-encoder run. */
import type { HiddenStates } from './runners.js';

export const POOLINGS = ['mean', 'cls', 'pooler'] as const;
export type Pooling = (typeof POOLINGS)[number];

/**
 * Sentence vectors from a batch's encoder outputs, as sentence-transformers computes them: `mean`
 * averages the last hidden states over the attention mask (padding excluded), `cls` takes the
 * first token's state, `pooler` BERT's pooler output tanh(dense(hidden[:, 0])). Rows are
 * right-padded (data/batch.ts padRows), so row i's real tokens are its first `lengths[i]`
 * positions. Plain typed-array arithmetic: the runtime (tfjs, onnxruntime) has already returned.
 */
export function poolBatch(h: HiddenStates, lengths: number[], pooling: Pooling, normalize: boolean): Float32Array {
  const dim = h.hiddenSize;
  const n = lengths.length;
  const out = new Float32Array(n * dim);
  if (pooling === 'pooler') {
    if (!h.pooled) throw new Error('pooler output missing');
    out.set(h.pooled.subarray(0, n * dim));
  } else {
    const last = h.lastHidden;
    if (!last) throw new Error('last hidden states missing');
    const seq = last.length / (n * dim);
    for (let i = 0; i < n; i++) {
      const row = out.subarray(i * dim, (i + 1) * dim);
      const tokens = pooling === 'cls' ? 1 : lengths[i];
      // Sum in float64, as a long row's float32 running sum would drift from torch's reduction.
      const acc = new Float64Array(dim);
      for (let t = 0; t < tokens; t++) {
        const at = (i * seq + t) * dim;
        for (let d = 0; d < dim; d++) acc[d] += last[at + d];
      }
      // sentence-transformers divides by the mask sum clamped at 1e-9.
      const count = Math.max(tokens, 1e-9);
      for (let d = 0; d < dim; d++) row[d] = acc[d] / count;
    }
  }
  if (normalize) normalizeRows(out, dim);
  return out;
}

/** L2-normalise each row in place, as torch.nn.functional.normalize (norm clamped at 1e-12). */
export function normalizeRows(v: Float32Array, dim: number): void {
  for (let at = 0; at < v.length; at += dim) {
    let ss = 0;
    for (let d = 0; d < dim; d++) ss += v[at + d] * v[at + d];
    const norm = Math.max(Math.sqrt(ss), 1e-12);
    for (let d = 0; d < dim; d++) v[at + d] /= norm;
  }
}
