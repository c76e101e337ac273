import * as tf from '@tensorflow/tfjs';

export interface EncodedRow {
  ids: ArrayLike<number>;
  typeIds: ArrayLike<number>;
}

/**
 * Dynamic padding: pad a batch to its own longest row (not max_length), so short queries do not
 * pay for long reviews. Returns int32 tensors the caller disposes.
 */
export function padBatch(
  rows: EncodedRow[],
  padId: number,
): { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D; tokenTypeIds: tf.Tensor2D } {
  const width = Math.max(1, ...rows.map((r) => r.ids.length));
  const ids = new Int32Array(rows.length * width).fill(padId);
  const mask = new Int32Array(rows.length * width);
  const types = new Int32Array(rows.length * width);
  rows.forEach((r, i) => {
    const at = i * width;
    for (let j = 0; j < r.ids.length; j++) {
      ids[at + j] = r.ids[j];
      mask[at + j] = 1;
      types[at + j] = r.typeIds[j];
    }
  });
  const shape: [number, number] = [rows.length, width];
  return {
    inputIds: tf.tensor2d(ids, shape, 'int32'),
    attentionMask: tf.tensor2d(mask, shape, 'int32'),
    tokenTypeIds: tf.tensor2d(types, shape, 'int32'),
  };
}
