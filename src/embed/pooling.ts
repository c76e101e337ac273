import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
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

/**
 * The sentence pooling a bi-encoder run (or its export) was trained with, as `recsys train` records
 * it in manifest.json (`embedding_head`): what `embed` uses when neither --pooling nor embed.pooling
 * is given. null for a Hugging Face model or a classifier run (embed then pools by the mean).
 */
export function recordedPooling(ref: string, model: InferenceModel): Pooling | null {
  if (model.kind === 'hf' || !existsSync(ref)) return null;
  // A run dir or export dir holds manifest.json; an .onnx file sits in <export>/onnx/.
  const dirs = [ref, path.dirname(ref), path.dirname(path.dirname(ref))];
  const file = dirs.map((d) => path.join(d, 'manifest.json')).find((f) => existsSync(f));
  if (!file) return null;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { task?: string; embedding_head?: { pooling?: Pooling } };
  if (manifest.task !== 'embedding') return null;
  return manifest.embedding_head?.pooling ?? 'mean';
}
