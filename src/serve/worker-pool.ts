import { padRows, type EncodedRow, type IdBatch } from '../data/batch.js';
import type { InferenceModel } from '../infer/model.js';
import type { HiddenStates } from '../infer/runners.js';
import { startWorker } from '../lib/worker.js';
import type { ForwardMany } from './groups.js';
import type { WorkerReply, WorkerRequest } from './onnx-worker.js';

interface Pending {
  resolve(r: Extract<WorkerReply, { kind: 'done' }>): void;
  reject(e: Error): void;
}

/**
 * The model's forward passes on worker threads, one onnxruntime session each: the main thread keeps
 * the tokenizer, padding (padRows, as every runtime takes it) and batching, and stays responsive
 * while a batch runs. A batch goes to the worker with the fewest batches in hand. The returned
 * model is the given one with `forward` and `hidden` moved to the pool (its own session is closed),
 * plus `forwardMany`: the length groups of one micro-batch to one worker in one message.
 */
export async function onWorkers(model: InferenceModel, workers: number, threads: number | null) {
  const pool = await Promise.all(Array.from({ length: workers }, () => startOne(model.modelPath, threads)));
  const pick = () => pool.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  const pad = (rows: EncodedRow[]) => padRows(rows, model.padId);
  const forwardMany: ForwardMany = async (groups) => (await pick().run(groups.map(pad))).logits!;
  const forward = async (rows: EncodedRow[]) => (await forwardMany([rows]))[0];
  const hidden = async (rows: EncodedRow[]): Promise<HiddenStates> => {
    const r = await pick().hidden(pad(rows));
    return { hiddenSize: r.hiddenSize!, lastHidden: r.lastHidden, pooled: r.pooled };
  };
  // The workers hold the model now: the main thread's session goes, so the weights are not in memory twice.
  await model.close();
  const pooled: InferenceModel & { forwardMany: ForwardMany } = Object.create(model);
  Object.assign(pooled, {
    forward,
    forwardMany,
    ...(pool[0].hasHidden ? { hidden } : { hidden: undefined }),
    close: async () => {
      await Promise.all(pool.map((w) => w.close()));
    },
  });
  return pooled;
}

/**
 * Every inference worker of this process, to halt before a forced exit. A worker inside
 * onnxruntime's (synchronous, uninterruptible) run when the process exits aborts the process as the
 * run returns into a torn-down thread, so a forced stop first lets each worker finish the batch it
 * is in and refuse the rest.
 */
const live = new Set<{ halt(): Promise<void> }>();

/** Resolves when no inference worker is running a batch or will start one. */
export async function haltWorkers(): Promise<void> {
  await Promise.all([...live].map((w) => w.halt()));
}

async function startOne(file: string, threads: number | null) {
  // Shared with the worker: non-zero means refuse every batch not yet started.
  const halted = new Int32Array(new SharedArrayBuffer(4));
  const worker = startWorker(import.meta.url, './onnx-worker', { file, threads, halted });
  const pending = new Map<number, Pending>();
  let next = 0;
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const handle = {
    async halt() {
      Atomics.store(halted, 0, 1);
      while (pending.size > 0) await new Promise((r) => setTimeout(r, 2));
    },
  };
  live.add(handle);
  worker.on('exit', () => live.delete(handle));
  const ready = new Promise<boolean>((resolve, reject) => {
    worker.on('message', (m: WorkerReply) => {
      if (m.kind === 'ready') resolve(m.hidden);
      else if (m.kind === 'failed') reject(new Error(m.message));
      else {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.kind === 'done') p?.resolve(m);
        else p?.reject(new Error(m.message));
      }
    });
    worker.on('error', (err) => {
      reject(err);
      failAll(err);
    });
    worker.on('exit', (code) => failAll(new Error(`inference worker exited (${code})`)));
  });
  const hasHidden = await ready;
  const request = (req: WorkerRequest, transfer: ArrayBuffer[] = []) =>
    new Promise<Extract<WorkerReply, { kind: 'done' }>>((resolve, reject) => {
      pending.set(req.id, { resolve, reject });
      worker.postMessage(req, transfer);
    });
  const buffers = (b: IdBatch) => [b.inputIds.buffer, b.attentionMask.buffer, b.tokenTypeIds.buffer] as ArrayBuffer[];
  return {
    pending,
    hasHidden,
    run: (batches: IdBatch[]) => request({ id: next++, kind: 'run', batches }, batches.flatMap(buffers)),
    hidden: (batch: IdBatch) => request({ id: next++, kind: 'hidden', batch }, buffers(batch)),
    async close() {
      await request({ id: next++, kind: 'close' }).catch(() => {});
      await worker.terminate();
    },
  };
}
