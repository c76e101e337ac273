/**
 * Worker thread body for the tokenize pool: loads the same tokenizer as the main thread (from its
 * spec) and encodes chunks of texts into packed typed arrays, which travel back without copying.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadTokenizer, type TokenizerSpec, type Truncation } from './tokenizer/index.js';
import type { ChunkRequest, PackedChunk, WorkerMessage } from './tokenize-pool.js';

interface Setup {
  spec: TokenizerSpec;
  maxLength: number;
  truncation: Truncation;
}

const port = parentPort!;
const setup = workerData as Setup;

function send(message: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

try {
  const tokenizer = loadTokenizer(setup.spec);
  send({ kind: 'ready', sha256: tokenizer.sha256 });
  port.on('message', (req: ChunkRequest) => {
    try {
      const encoded = req.a.map((a, i) => tokenizer.encode(a, req.b?.[i], setup.maxLength, setup.truncation));
      const chunk = pack(encoded);
      send({ kind: 'done', id: req.id, chunk }, [
        chunk.ids.buffer as ArrayBuffer,
        chunk.typeIds.buffer as ArrayBuffer,
        chunk.offsets.buffer as ArrayBuffer,
        chunk.fullLengths.buffer as ArrayBuffer,
      ]);
    } catch (err) {
      send({ kind: 'failed', id: req.id, name: (err as Error).name, message: (err as Error).message });
    }
  });
} catch (err) {
  send({ kind: 'failed', id: -1, name: (err as Error).name, message: (err as Error).message });
}

function pack(encoded: ({ ids: number[]; typeIds: number[]; fullLength: number } | null)[]): PackedChunk {
  let total = 0;
  for (const e of encoded) total += e ? e.ids.length : 0;
  const ids = new Int32Array(total);
  const typeIds = new Int8Array(total);
  const offsets = new Int32Array(encoded.length + 1);
  const fullLengths = new Int32Array(encoded.length);
  let at = 0;
  encoded.forEach((e, i) => {
    if (e) {
      ids.set(e.ids, at);
      typeIds.set(e.typeIds, at);
      at += e.ids.length;
    }
    offsets[i + 1] = at;
    fullLengths[i] = e ? e.fullLength : -1; // -1: only_second could not fit the pair
  });
  return { ids, typeIds, offsets, fullLengths };
}
