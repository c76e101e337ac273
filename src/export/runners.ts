import * as tf from '@tensorflow/tfjs';
import { bertLogits, type BertConfig, type Params } from '../model/index.js';

/**
 * Runtimes the parity gate compares: the training runtime (bertLogits on the active tfjs backend)
 * and each exported artifact in its own runtime. All take the same padded integer batch and
 * return logits flattened row-major [batch, num_labels].
 */

export interface IdBatch {
  batch: number;
  seq: number;
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
}

export interface LogitsRunner {
  /** e.g. "onnxruntime-node 1.30.0 (cpu)" */
  readonly name: string;
  run(b: IdBatch): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Right-pad rows to the batch's longest row (the training runtime's dynamic padding). */
export function padRows(
  rows: Array<{ ids: ArrayLike<number>; typeIds: ArrayLike<number> }>,
  padId: number,
  minSeq = 1,
): IdBatch {
  const seq = Math.max(minSeq, ...rows.map((r) => r.ids.length));
  const n = rows.length * seq;
  const inputIds = new Int32Array(n).fill(padId);
  const attentionMask = new Int32Array(n);
  const tokenTypeIds = new Int32Array(n);
  rows.forEach((r, i) => {
    for (let j = 0; j < r.ids.length; j++) {
      inputIds[i * seq + j] = r.ids[j];
      attentionMask[i * seq + j] = 1;
      tokenTypeIds[i * seq + j] = r.typeIds[j];
    }
  });
  return { batch: rows.length, seq, inputIds, attentionMask, tokenTypeIds };
}

/** From nested arrays (tests). */
export function batchOf(c: { input_ids: number[][]; attention_mask: number[][]; token_type_ids: number[][] }): IdBatch {
  return {
    batch: c.input_ids.length,
    seq: c.input_ids[0].length,
    inputIds: Int32Array.from(c.input_ids.flat()),
    attentionMask: Int32Array.from(c.attention_mask.flat()),
    tokenTypeIds: Int32Array.from(c.token_type_ids.flat()),
  };
}

export function tfjsRunner(params: Params, config: BertConfig): LogitsRunner {
  return {
    name: `tfjs ${tf.version.tfjs} (${tf.getBackend()} backend, training forward pass)`,
    async run(b) {
      const shape: [number, number] = [b.batch, b.seq];
      const inputs = {
        inputIds: tf.tensor2d(b.inputIds, shape, 'int32'),
        attentionMask: tf.tensor2d(b.attentionMask, shape, 'int32'),
        tokenTypeIds: tf.tensor2d(b.tokenTypeIds, shape, 'int32'),
      };
      try {
        const logits = bertLogits(params, config, inputs, { inference: true });
        const v = (await logits.data()) as Float32Array;
        logits.dispose();
        return v;
      } finally {
        tf.dispose([inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds]);
      }
    },
    async close() {},
  };
}

const toI64 = (a: Int32Array) => {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]);
  return out;
};

/** The exported ONNX file in onnxruntime-node (CPU execution provider). */
export async function onnxRunner(file: string, opts: { threads?: number } = {}): Promise<LogitsRunner> {
  const mod = (await import('onnxruntime-node')) as unknown as typeof import('onnxruntime-node') & {
    default?: typeof import('onnxruntime-node');
  };
  const ort = mod.InferenceSession ? mod : mod.default!;
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
  });
  const version =
    (ort.env as { versions?: { node?: string; common?: string } }).versions?.node ??
    (ort.env as { versions?: { common?: string } }).versions?.common ??
    '';
  return {
    name: `onnxruntime-node ${version} (cpu)`.replace('  ', ' '),
    async run(b) {
      const dims = [b.batch, b.seq];
      const out = await session.run({
        input_ids: new ort.Tensor('int64', toI64(b.inputIds), dims),
        attention_mask: new ort.Tensor('int64', toI64(b.attentionMask), dims),
        token_type_ids: new ort.Tensor('int64', toI64(b.tokenTypeIds), dims),
      });
      const logits = out.logits;
      const v = Float32Array.from(logits.data as Float32Array);
      for (const t of Object.values(out)) t.dispose?.();
      return v;
    },
    async close() {
      await session.release();
    },
  };
}
