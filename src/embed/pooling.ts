import type { EncodedRow } from '../data/batch.js';
import type { InferenceModel } from '../infer/model.js';
import { type Pooling, poolBatch } from '../infer/pooling.js';
import { UsageError } from '../lib/errors.js';

// The pooling itself lives in infer/ so that eval (below embed) pools a bi-encoder run the same way.
export { normalizeRows, POOLINGS, type Pooling, poolBatch } from '../infer/pooling.js';

/**
 * One forward pass over encoded rows → their sentence vectors, row-major [rows, hidden]: the one path
 * `recsys embed` and query encoding share. The runtime must return what the pooling reads.
 */
export async function embedRows(
  model: InferenceModel,
  rows: EncodedRow[],
  pooling: Pooling,
  normalize: boolean,
): Promise<{ vectors: Float32Array; dimension: number }> {
  if (!model.hidden)
    throw new UsageError(`${model.modelPath}: this ONNX file has logits only (no last_hidden_state output)`);
  const h = await model.hidden(rows);
  if (pooling === 'pooler' && !h.pooled)
    throw new UsageError(`${model.modelPath}: no pooler_output in this model; use --pooling mean or cls`);
  if (pooling !== 'pooler' && !h.lastHidden)
    throw new UsageError(`${model.modelPath}: no last_hidden_state in this model; use --pooling pooler`);
  const lengths = rows.map((r) => r.ids.length);
  return { vectors: poolBatch(h, lengths, pooling, normalize), dimension: h.hiddenSize };
}
