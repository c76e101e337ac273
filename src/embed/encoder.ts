import { UsageError } from '../lib/errors.js';
import { type InferenceModel, type OpenOptions, openModel } from '../infer/model.js';
import { type IndexManifest, identityDifferences } from '../retrieval/manifest.js';
import { modelIdentity } from './output.js';
import { embedRows, type Pooling } from './pooling.js';

/**
 * Texts → vectors with the pooling `recsys embed` uses, for queries searched against an index of
 * embeddings: the same tokenizer, max length, truncation, pooling and normalisation, so a query
 * and an item embedded alike are compared alike. Vectors come back row-major [texts, hidden].
 */
export function textEncoder(model: InferenceModel, pooling: Pooling, normalize: boolean) {
  // Refused when the search opens the model, before any query is read (embedRows checks it again per batch).
  if (!model.hidden)
    throw new UsageError(`${model.modelPath}: this ONNX file has logits only (no last_hidden_state output)`);
  return async (texts: string[]): Promise<Float32Array> => {
    const rows = texts.map((t) => {
      const enc = model.tokenizer.encode(t, undefined, model.maxLength, model.truncation);
      if (!enc) throw new UsageError(`query "${t.slice(0, 40)}" does not fit max_length ${model.maxLength}`);
      return enc;
    });
    return (await embedRows(model, rows, pooling, normalize)).vectors;
  };
}

/** What an index compares a query model with (see retrieval/manifest.ts identityDifferences). */
export async function encoderIdentity(ref: string, model: InferenceModel, pooling: Pooling, normalize: boolean) {
  const { weights_sha256 } = await modelIdentity(ref, model);
  return { weights_sha256, pooling, normalize, tokenizer_sha256: model.tokenizer.sha256 };
}

export interface QueryModelOptions extends Omit<OpenOptions, 'maxLength'> {
  /** Query pooling and normalisation; null: the index's (another value is refused with the difference). */
  pooling: Pooling | null;
  normalize: boolean | null;
}

/**
 * Open `ref` to embed queries for the index at `dir`: tokenised to the index's max length, pooled
 * and normalised as its vectors were. A model whose weights, tokenizer, pooling or normalisation
 * differ from the index manifest's is refused in one line naming each difference.
 */
export async function openQueryEncoder(ref: string, dir: string, index: IndexManifest, opts: QueryModelOptions) {
  const model = await openModel(ref, { ...opts, maxLength: index.max_length });
  try {
    const pooling = opts.pooling ?? (index.pooling as Pooling);
    const normalize = opts.normalize ?? index.normalize;
    const differs = identityDifferences(index, await encoderIdentity(ref, model, pooling, normalize));
    if (differs.length)
      throw new UsageError(`${ref}: not the model of the index ${dir}: ${differs.join('; ')}; search with its model`);
    return { model, encode: textEncoder(model, pooling, normalize) };
  } catch (err) {
    await model.close();
    throw err;
  }
}
