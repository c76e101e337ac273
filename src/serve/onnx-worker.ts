/**
 * Worker thread body for serve's inference pool: one onnxruntime session of the export's ONNX file.
 * onnxruntime-node runs a session synchronously on the thread that calls it, so forward passes here
 * leave the main thread free for HTTP, tokenising and batching. Padded batches come in (the length
 * groups of one micro-batch in one message), logits or hidden states go back as transferred buffers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { IdBatch } from '../data/batch.js';
import { onnxRunner } from '../infer/runners.js';

export type WorkerRequest =
  | { id: number; kind: 'run'; batches: IdBatch[] }
  | { id: number; kind: 'hidden'; batch: IdBatch }
  | { id: number; kind: 'close' };

export type WorkerReply =
  | { id: -1; kind: 'ready'; hidden: boolean }
  | { id: -1; kind: 'failed'; message: string }
  | {
      id: number;
      kind: 'done';
      /** One per batch of a 'run' request. */
      logits?: Float32Array[];
      lastHidden?: Float32Array;
      pooled?: Float32Array;
      hiddenSize?: number;
    }
  | { id: number; kind: 'error'; message: string };

const port = parentPort!;
const { file, threads, halted } = workerData as { file: string; threads: number | null; halted: Int32Array };

/** The process is being forced to stop: no new native run may start (see haltWorkers). */
function refuseIfHalted(): void {
  if (Atomics.load(halted, 0) !== 0) throw new Error('the service is stopping');
}

const buffers = (arrays: (Float32Array | undefined)[]) =>
  arrays.filter((a): a is Float32Array => !!a).map((a) => a.buffer as ArrayBuffer);

try {
  const runner = await onnxRunner(file, threads ? { threads } : {});
  port.postMessage({ id: -1, kind: 'ready', hidden: !!runner.hidden } satisfies WorkerReply);
  const answer = async (req: WorkerRequest) => {
    try {
      if (req.kind === 'close') {
        await runner.close();
        port.postMessage({ id: req.id, kind: 'done' } satisfies WorkerReply);
        port.close();
      } else if (req.kind === 'run') {
        // Several length groups of one micro-batch: one message in, one out.
        const logits: Float32Array[] = [];
        for (const batch of req.batches) {
          refuseIfHalted();
          logits.push(await runner.run(batch));
        }
        port.postMessage({ id: req.id, kind: 'done', logits } satisfies WorkerReply, buffers(logits));
      } else {
        refuseIfHalted();
        const h = await runner.hidden!(req.batch);
        const reply: WorkerReply = { id: req.id, kind: 'done', ...h };
        port.postMessage(reply, buffers([h.lastHidden, h.pooled]));
      }
    } catch (err) {
      port.postMessage({ id: req.id, kind: 'error', message: (err as Error).message } satisfies WorkerReply);
    }
  };
  // One request at a time, in order: onnxruntime-node's run waits a turn (setImmediate) before its
  // native call, so concurrent handlers would all pass the halt check before any of them ran, and a
  // close could release the session under a run still waiting for its turn.
  let queue = Promise.resolve();
  port.on('message', (req: WorkerRequest) => {
    queue = queue.then(() => answer(req));
  });
} catch (err) {
  port.postMessage({ id: -1, kind: 'failed', message: (err as Error).message } satisfies WorkerReply);
}
