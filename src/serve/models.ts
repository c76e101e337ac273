import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { EncodedRow } from '../data/batch.js';
import { embedRows, type Pooling } from '../embed/pooling.js';
import { readExportDir } from '../infer/export-dir.js';
import { openExportModel, type InferenceModel } from '../infer/model.js';
import type { Logger } from '../lib/log.js';
import { MicroBatcher, type BatcherOptions } from './batcher.js';
import { type ForwardMany, forwardGrouped } from './groups.js';
import { onWorkers } from './worker-pool.js';

/** How every served model runs: its runtime, batching and what /embed pools. */
export interface RuntimeOptions {
  quantized: boolean;
  /** onnxruntime intra-op threads per session; null: the cores left after the main thread, shared by the workers. */
  threads: number | null;
  /** Inference worker threads, one session each (0: forward passes on the main thread). */
  workers: number;
  batching: Omit<BatcherOptions, 'onBatch' | 'onDepth'>;
  pooling: Pooling;
  normalize: boolean;
  /** Metrics hooks, per model name and kind (classify, embed). */
  observe(name: string, kind: 'classify' | 'embed'): Pick<BatcherOptions, 'onBatch' | 'onDepth'>;
}

/** One loaded export: its model, its batchers, and the requests still using it. */
export interface LoadedModel {
  name: string;
  dir: string;
  model: InferenceModel;
  sha256: string;
  /** When `recsys export` wrote it (export.json `created`). */
  created: string;
  /** Null when the ONNX file has no logits output (an embedding model). */
  classify: MicroBatcher<Float32Array> | null;
  /** Null when the ONNX file has no last_hidden_state / pooler_output. */
  embed: MicroBatcher<Float32Array> | null;
  dimension: number | null;
  loadSeconds: number;
  /** Requests holding this model; a retired model closes when the last one ends. */
  active: number;
  retired: boolean;
}

/** Split a row-major [rows, width] result into one copy per row (a row outlives its batch in the cache). */
function perRow(flat: Float32Array, rows: number): Float32Array[] {
  const width = flat.length / rows;
  return Array.from({ length: rows }, (_, i) => flat.slice(i * width, (i + 1) * width));
}

/** Short rows, a long one, and a pair: the shapes requests will bring, run once before ready. */
function warmupRows(model: InferenceModel): EncodedRow[] {
  const tok = model.tokenizer;
  const texts = ['warm up', 'a longer warm-up query about wireless headphones with noise cancelling and a case'];
  const rows = texts.map((t) => tok.encode(t, undefined, model.maxLength, model.truncation)).filter((r) => !!r);
  const pair = tok.encode('warm up', 'a product title', model.maxLength, model.truncation);
  return pair ? [...rows, pair] : rows;
}

/**
 * Open an export for serving: its files checked against export.json (sha256), the tokenizer,
 * max_length and truncation of its manifest, onnxruntime sessions warmed up with a few batches so
 * the first request does not pay for graph optimisation and allocation.
 */
export async function loadServedModel(name: string, dir: string, rt: RuntimeOptions, log: Logger) {
  const t0 = performance.now();
  const target = rt.quantized ? path.join(dir, 'onnx', 'model_quantized.onnx') : dir;
  const exp = await readExportDir(target);
  const cores = availableParallelism();
  const threads = rt.threads ?? Math.max(1, Math.floor((cores - (rt.workers ? 1 : 0)) / Math.max(rt.workers, 1)));
  // With workers, the main thread's session is closed once they run: one thread is enough until then.
  const base = await openExportModel(exp, log, { threads: rt.workers ? 1 : threads });
  let model = base;
  try {
    if (rt.workers) model = await onWorkers(base, rt.workers, threads);
    return await servedModel(name, dir, model, exp.record.created, rt, t0);
  } catch (err) {
    // The pooled model's close closes its workers (the main thread's session is closed already).
    await model.close();
    throw err;
  }
}

/**
 * A model opened for serving, whatever opened it: warmed up (a few batches), with a micro-batcher
 * for logits when its runtime has them and one for sentence vectors when it has hidden states.
 */
export async function servedModel(
  name: string,
  dir: string,
  model: InferenceModel,
  created: string,
  rt: Pick<RuntimeOptions, 'batching' | 'pooling' | 'normalize' | 'observe'>,
  t0 = performance.now(),
): Promise<LoadedModel> {
  const rows = warmupRows(model);
  const batching = (kind: 'classify' | 'embed') => ({ ...rt.batching, ...rt.observe(name, kind) });
  let classify: LoadedModel['classify'] = null;
  let embed: LoadedModel['embed'] = null;
  let dimension: number | null = null;
  let forwardError: unknown;
  try {
    await model.forward(rows);
    await model.forward(rows.slice(0, 1));
    // A worker pool takes a micro-batch's length groups in one message; in process they run one by one.
    const many: ForwardMany =
      (model as { forwardMany?: ForwardMany }).forwardMany ??
      (async (groups) => {
        const out: Float32Array[] = [];
        for (const g of groups) out.push(await model.forward(g));
        return out;
      });
    classify = new MicroBatcher((r: EncodedRow[]) => forwardGrouped(many, r), batching('classify'));
  } catch (err) {
    forwardError = err;
  }
  if (model.hidden) {
    dimension = (await embedRows(model, rows, rt.pooling, rt.normalize)).dimension;
    const run = async (r: EncodedRow[]) =>
      perRow((await embedRows(model, r, rt.pooling, rt.normalize)).vectors, r.length);
    embed = new MicroBatcher(run, batching('embed'));
  }
  if (!classify && !embed) throw forwardError;
  return {
    name,
    dir,
    model,
    sha256: model.modelSha256 ?? '',
    created,
    classify,
    embed,
    dimension,
    loadSeconds: (performance.now() - t0) / 1000,
    active: 0,
    retired: false,
  };
}

/** Every batch of a retired model has run: its session can go. */
export async function closeWhenIdle(m: LoadedModel): Promise<void> {
  await Promise.all([m.classify?.whenIdle(), m.embed?.whenIdle()]);
  await m.model.close();
}
