import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { padBatch, padRows } from '../../src/data/batch.js';

describe('padRows: the one dynamic padding', () => {
  const rows = [
    { ids: [101, 7, 102], typeIds: [0, 0, 0] },
    { ids: [101, 8, 9, 102, 10, 102], typeIds: [0, 0, 0, 0, 1, 1] },
  ];

  it('pads to the longest row with the pad id, mask 0 and token type 0 after each row', () => {
    const b = padRows(rows, 5);
    expect([b.batch, b.seq]).toEqual([2, 6]);
    expect(Array.from(b.inputIds)).toEqual([101, 7, 102, 5, 5, 5, 101, 8, 9, 102, 10, 102]);
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(b.tokenTypeIds)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it('keeps at least minSeq columns, and one for an empty batch', () => {
    expect(padRows(rows, 0, 8).seq).toBe(8);
    expect(padRows([], 0)).toMatchObject({ batch: 0, seq: 1 });
  });

  it("training's padBatch is the same batch as int32 tensors", async () => {
    await tf.setBackend('cpu');
    const t = padBatch(rows, 5);
    const b = padRows(rows, 5);
    expect(t.inputIds.shape).toEqual([2, 6]);
    expect(t.inputIds.dtype).toBe('int32');
    expect(Array.from(await t.inputIds.data())).toEqual(Array.from(b.inputIds));
    expect(Array.from(await t.attentionMask.data())).toEqual(Array.from(b.attentionMask));
    expect(Array.from(await t.tokenTypeIds.data())).toEqual(Array.from(b.tokenTypeIds));
    tf.dispose([t.inputIds, t.attentionMask, t.tokenTypeIds]);
  });
});
