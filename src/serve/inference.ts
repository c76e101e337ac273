import type { EncodedRow } from '../data/batch.js';
import { fitMessage, scoreLogits, type LabelScores } from '../predict/scores.js';
import type { Hit, VectorStore, AnnQueryOptions } from '../retrieval/store.js';
import { type MicroBatcher, QueueFull } from './batcher.js';
import { RowCache } from './cache.js';
import type { LoadedModel } from './models.js';

/** An answer other than 200: the status and one line saying what is wrong. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export type Input = string | { text: string; pair?: string };

export interface InputLimits {
  maxItems: number;
  maxChars: number;
}

/** Inputs → token rows with the model's tokenizer, max_length and truncation (as `recsys predict` encodes). */
export function encodeInputs(m: LoadedModel, inputs: Input[], limits: InputLimits, pairs = true): EncodedRow[] {
  if (inputs.length > limits.maxItems)
    throw new HttpError(413, `inputs: ${inputs.length} items; the limit is ${limits.maxItems} (serve.max_items)`);
  return inputs.map((input, i) => {
    const { text, pair } = typeof input === 'string' ? { text: input, pair: undefined } : input;
    if (!pairs && pair !== undefined) throw new HttpError(400, `inputs[${i}].pair: this endpoint takes single texts`);
    for (const [field, s] of [
      ['text', text],
      ['pair', pair],
    ] as const) {
      if (s === undefined) continue;
      if (s.length > limits.maxChars)
        throw new HttpError(
          413,
          `inputs[${i}]${typeof input === 'string' ? '' : `.${field}`}: ${s.length} characters; the limit is ` +
            `${limits.maxChars} (serve.max_chars)`,
        );
      if (!s.trim()) throw new HttpError(400, `inputs[${i}]: empty ${field}`);
    }
    const enc = m.model.tokenizer.encode(text, pair, m.model.maxLength, m.model.truncation);
    if (!enc) throw new HttpError(400, `inputs[${i}]: ${fitMessage(m.model.maxLength)}`);
    return enc;
  });
}

/**
 * One result per row: cached rows answered at once, the others through the model's micro-batcher
 * in one submission (all or nothing: a full queue refuses the request whole, with 429).
 */
export async function rowsThrough(
  m: LoadedModel,
  kind: 'classify' | 'embed',
  batcher: MicroBatcher<Float32Array>,
  rows: EncodedRow[],
  cache: RowCache,
): Promise<Float32Array[]> {
  // With the cache off no key is built: a key joins every token id of the row.
  if (!cache.enabled) return submit(batcher, rows);
  const keys = rows.map((r) => RowCache.key(m.sha256, kind, r));
  const out = keys.map((k) => cache.get(k));
  const missing = out.flatMap((v, i) => (v ? [] : [i]));
  if (missing.length) {
    const toRun = missing.map((i) => rows[i]);
    const computed = await submit(batcher, toRun);
    missing.forEach((i, j) => {
      out[i] = computed[j];
      cache.set(keys[i], computed[j]);
    });
  }
  return out as Float32Array[];
}

/** The rows through the batcher; a full queue is 429 with Retry-After. */
async function submit(batcher: MicroBatcher<Float32Array>, rows: EncodedRow[]): Promise<Float32Array[]> {
  try {
    return await batcher.submit(rows);
  } catch (err) {
    if (err instanceof QueueFull) throw new HttpError(429, err.message, { 'retry-after': '1' });
    throw err;
  }
}

export interface ClassifyRequest {
  inputs: Input[];
  top_k?: number;
  logits?: boolean;
}

export async function classify(m: LoadedModel, body: ClassifyRequest, limits: InputLimits, cache: RowCache) {
  if (!m.classify) throw new HttpError(400, `model ${m.name} has no logits output (an embedding model): use /embed`);
  const labels = m.model.labels;
  const topK = Math.min(body.top_k ?? 1, labels.length);
  const rows = encodeInputs(m, body.inputs, limits);
  const logits = await rowsThrough(m, 'classify', m.classify, rows, cache);
  const results: LabelScores[] = logits.map((l) => scoreLogits(l, labels, topK, !!body.logits, m.model));
  return { model: m.name, sha256: m.sha256, results };
}

function embedder(m: LoadedModel): MicroBatcher<Float32Array> {
  if (!m.embed)
    throw new HttpError(400, `model ${m.name} has logits only (no last_hidden_state output): it cannot embed`);
  return m.embed;
}

export async function embed(m: LoadedModel, body: { inputs: Input[] }, limits: InputLimits, cache: RowCache) {
  const rows = encodeInputs(m, body.inputs, limits, false);
  const vectors = await rowsThrough(m, 'embed', embedder(m), rows, cache);
  return { model: m.name, sha256: m.sha256, dimension: m.dimension, vectors: vectors.map((v) => Array.from(v)) };
}

export interface SearchContext {
  store: VectorStore;
  exact: boolean;
  ann: AnnQueryOptions;
  kMax: number;
  /** Models whose weights, tokenizer, pooling and normalisation match the index's (checked at load). */
  matches(m: LoadedModel): Promise<string | null>;
}

export async function search(
  m: LoadedModel,
  body: { inputs: Input[]; k?: number },
  limits: InputLimits,
  cache: RowCache,
  ctx: SearchContext | undefined,
) {
  if (!ctx) throw new HttpError(404, 'no index is served (start recsys serve with --index DIR)');
  const differs = await ctx.matches(m);
  if (differs) throw new HttpError(400, `model ${m.name} is not the model of the index: ${differs}`);
  const k = body.k ?? 10;
  if (k > ctx.kMax) throw new HttpError(400, `k: ${k}; the limit is ${ctx.kMax} (serve.search_k_max)`);
  const rows = encodeInputs(m, body.inputs, limits, false);
  const vectors = await rowsThrough(m, 'embed', embedder(m), rows, cache);
  const results: { hits: Hit[] }[] = [];
  for (const v of vectors) results.push({ hits: await ctx.store.search(v, k, ctx.exact, ctx.ann) });
  return { model: m.name, sha256: m.sha256, results };
}
