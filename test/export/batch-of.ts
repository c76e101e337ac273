import type { IdBatch } from '../../src/data/batch.js';

/** A padded batch from nested arrays, as the parity fixtures store it. */
export function batchOf(c: { input_ids: number[][]; attention_mask: number[][]; token_type_ids: number[][] }): IdBatch {
  return {
    batch: c.input_ids.length,
    seq: c.input_ids[0].length,
    inputIds: Int32Array.from(c.input_ids.flat()),
    attentionMask: Int32Array.from(c.attention_mask.flat()),
    tokenTypeIds: Int32Array.from(c.token_type_ids.flat()),
  };
}
