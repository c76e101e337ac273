import * as tf from '@tensorflow/tfjs';
import { batchTensors, type IdBatch } from '../data/batch.js';
import { bertForward, bertLogits, type BertConfig, type Params } from '../model/index.js';

/**
 * The runtimes a model runs in: the training forward pass (bertLogits on the active tfjs backend)
 * and an ONNX file in onnxruntime-node. All take the same padded integer batch (data/batch.ts
 * padRows) and return logits flattened row-major [batch, num_labels].
 */

export type { IdBatch } from '../data/batch.js';

/** Encoder outputs, flattened row-major; what the runtime has of them (an ONNX file may have none). */
export interface HiddenStates {
  hiddenSize: number;
  /** [batch, seq, hidden] */
  lastHidden?: Float32Array;
  /** tanh(dense(hidden[:, 0])) [batch, hidden] */
  pooled?: Float32Array;
}

export interface LogitsRunner {
  /** e.g. "onnxruntime-node 1.30.0 (cpu)" */
  readonly name: string;
  run(b: IdBatch): Promise<Float32Array>;
  /** The encoder's outputs for the coming embedding commands; absent when the runtime cannot give them. */
  hidden?(b: IdBatch): Promise<HiddenStates>;
  /** Load other weights of the same model (a graph keeps its own copy; training validates each step's). */
  setWeights?(params: Params): void;
  close(): Promise<void>;
}

export function tfjsRunner(params: Params, config: BertConfig): LogitsRunner {
  return {
    name: `tfjs ${tf.version.tfjs} (${tf.getBackend()} backend, training forward pass)`,
    async run(b) {
      const inputs = batchTensors(b);
      try {
        const logits = bertLogits(params, config, inputs, { inference: true });
        const v = (await logits.data()) as Float32Array;
        logits.dispose();
        return v;
      } finally {
        tf.dispose([inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds]);
      }
    },
    async hidden(b) {
      const inputs = batchTensors(b);
      try {
        const out = bertForward(params, config, inputs, { inference: true, headless: true, returnHidden: true });
        const [lastHidden, pooled] = await Promise.all([out.lastHidden!.data(), out.pooled.data()]);
        tf.dispose([out.lastHidden!, out.pooled]);
        return {
          hiddenSize: config.hiddenSize,
          lastHidden: lastHidden as Float32Array,
          pooled: pooled as Float32Array,
        };
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

/** An ONNX file in onnxruntime-node (CPU execution provider). */
export async function onnxRunner(
  file: string,
  opts: { threads?: number; output?: string } = {},
): Promise<LogitsRunner> {
  const output = opts.output ?? 'logits';
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
  const feeds = (b: IdBatch) => {
    const dims = [b.batch, b.seq];
    return {
      input_ids: new ort.Tensor('int64', toI64(b.inputIds), dims),
      attention_mask: new ort.Tensor('int64', toI64(b.attentionMask), dims),
      token_type_ids: new ort.Tensor('int64', toI64(b.tokenTypeIds), dims),
    };
  };
  // Hugging Face ONNX exports name them so; recsys's own export has logits only.
  const hiddenNames = ['last_hidden_state', 'pooler_output'].filter((n) => session.outputNames.includes(n));
  const runner: LogitsRunner = {
    name: `onnxruntime-node ${version} (cpu)`.replace('  ', ' '),
    async run(b) {
      const out = await session.run(feeds(b));
      const v = Float32Array.from(out[output].data as Float32Array);
      for (const t of Object.values(out)) t.dispose?.();
      return v;
    },
    async close() {
      await session.release();
    },
  };
  if (hiddenNames.length) {
    runner.hidden = async (b) => {
      const out = await session.run(feeds(b), hiddenNames);
      const last = out.last_hidden_state;
      const pooled = out.pooler_output;
      const hiddenSize = Number((last ?? pooled).dims.at(-1));
      const res: HiddenStates = {
        hiddenSize,
        lastHidden: last ? Float32Array.from(last.data as Float32Array) : undefined,
        pooled: pooled ? Float32Array.from(pooled.data as Float32Array) : undefined,
      };
      for (const t of Object.values(out)) t.dispose?.();
      return res;
    };
  }
  return runner;
}
