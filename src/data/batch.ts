import * as tf from '@tensorflow/tfjs';

export interface EncodedRow {
  ids: ArrayLike<number>;
  typeIds: ArrayLike<number>;
}

/** A right-padded batch of token ids, row-major [batch, seq], as every runtime takes it. */
export interface IdBatch {
  batch: number;
  seq: number;
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
}

/**
 * Dynamic padding, the one implementation training, eval, predict and the export parity check
 * share: pad a batch to its own longest row (not max_length), so short queries do not pay for long
 * reviews. Pad positions hold `padId`, attention mask 0 and token type 0.
 */
export function padRows(rows: EncodedRow[], padId: number, minSeq = 1): IdBatch {
  let seq = minSeq;
  for (const r of rows) if (r.ids.length > seq) seq = r.ids.length;
  const n = rows.length * seq;
  const inputIds = new Int32Array(n).fill(padId);
  const attentionMask = new Int32Array(n);
  const tokenTypeIds = new Int32Array(n);
  rows.forEach((r, i) => {
    const at = i * seq;
    for (let j = 0; j < r.ids.length; j++) {
      inputIds[at + j] = r.ids[j];
      attentionMask[at + j] = 1;
      tokenTypeIds[at + j] = r.typeIds[j];
    }
  });
  return { batch: rows.length, seq, inputIds, attentionMask, tokenTypeIds };
}

export interface BatchTensors {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
}

/** The graph input names of a batch, in this order, wherever a BERT graph is fed (train, infer, export). */
export const INPUT_NAMES = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

/** A batch's tensors keyed by graph input name, for a session's feeds. */
export function inputFeeds(b: BatchTensors): Array<[(typeof INPUT_NAMES)[number], tf.Tensor]> {
  return [
    ['input_ids', b.inputIds],
    ['attention_mask', b.attentionMask],
    ['token_type_ids', b.tokenTypeIds],
  ];
}

/** The batch as int32 tensors the caller disposes. */
export function batchTensors(b: IdBatch): BatchTensors {
  const shape: [number, number] = [b.batch, b.seq];
  return {
    inputIds: tf.tensor2d(b.inputIds, shape, 'int32'),
    attentionMask: tf.tensor2d(b.attentionMask, shape, 'int32'),
    tokenTypeIds: tf.tensor2d(b.tokenTypeIds, shape, 'int32'),
  };
}

/** Training's batches: padRows as tensors. */
export function padBatch(rows: EncodedRow[], padId: number): BatchTensors {
  return batchTensors(padRows(rows, padId));
}
