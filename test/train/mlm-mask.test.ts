import { describe, expect, it } from 'vitest';
import type { MaskVocab } from '../../src/data/mlm-texts.js';
import { maskRow, type MaskSettings } from '../../src/train/mlm-mask.js';

// ids: 0 [PAD], 1 [CLS], 2 [SEP], 3 [MASK], 4..99 words, 100..199 "##" pieces
const V = 200;
const vocab: MaskVocab = {
  maskId: 3,
  vocabSize: V,
  special: Uint8Array.from({ length: V }, (_, i) => (i <= 3 ? 1 : 0)),
  continuation: Uint8Array.from({ length: V }, (_, i) => (i >= 100 ? 1 : 0)),
};
const BERT: MaskSettings = { probability: 0.15, maskReplace: 0.8, randomReplace: 0.1, wholeWord: false };
const row = (n: number) => [1, ...Array.from({ length: n }, (_, i) => 4 + (i % 90)), 2];

describe('masked-LM masking', () => {
  it('selects ~15% of tokens, never a special one, and replaces them 80/10/10', () => {
    let tokens = 0;
    let selected = 0;
    let masked = 0;
    let kept = 0;
    for (let r = 0; r < 400; r++) {
      const ids = row(60);
      const m = maskRow(ids, vocab, BERT, 7, 0, r);
      tokens += 60;
      selected += m.positions.length;
      for (const [k, p] of m.positions.entries()) {
        expect(vocab.special[ids[p]]).toBe(0);
        expect(m.labels[k]).toBe(ids[p]);
        if (m.ids[p] === vocab.maskId) masked++;
        else if (m.ids[p] === ids[p]) kept++;
      }
      // nothing outside the selected positions changes
      for (let i = 0; i < ids.length; i++) if (!m.positions.includes(i)) expect(m.ids[i]).toBe(ids[i]);
    }
    expect(selected / tokens).toBeGreaterThan(0.14);
    expect(selected / tokens).toBeLessThan(0.16);
    expect(masked / selected).toBeGreaterThan(0.77);
    expect(masked / selected).toBeLessThan(0.83);
    // kept: 10%, plus the random draws that hit the same token (1/200 of 10%)
    expect(kept / selected).toBeGreaterThan(0.08);
    expect(kept / selected).toBeLessThan(0.12);
  });

  it('is a pure function of (seed, epoch, row): the same on a replay, different the next epoch', () => {
    const ids = row(100);
    const a = maskRow(ids, vocab, BERT, 42, 3, 17);
    expect(maskRow(ids, vocab, BERT, 42, 3, 17)).toEqual(a);
    expect(maskRow(ids, vocab, BERT, 42, 4, 17).positions).not.toEqual(a.positions);
    expect(maskRow(ids, vocab, BERT, 43, 3, 17).positions).not.toEqual(a.positions);
    expect(maskRow(ids, vocab, BERT, 42, 3, 18).positions).not.toEqual(a.positions);
  });

  it('whole-word masking selects a word with all its ## pieces', () => {
    // words of three tokens: w ##a ##b
    const ids = [1, ...Array.from({ length: 60 }, (_, i) => [4 + (i % 90), 100 + (i % 50), 150 + (i % 50)]).flat(), 2];
    let words = 0;
    for (let r = 0; r < 50; r++) {
      const m = maskRow(ids, { ...vocab }, { ...BERT, wholeWord: true }, 1, 0, r);
      const sel = new Set(m.positions);
      for (let w = 0; w < 60; w++) {
        const start = 1 + 3 * w;
        const n = [start, start + 1, start + 2].filter((p) => sel.has(p)).length;
        expect([0, 3]).toContain(n);
        if (n === 3) words++;
      }
    }
    expect(words / (50 * 60)).toBeGreaterThan(0.12);
    expect(words / (50 * 60)).toBeLessThan(0.18);
  });

  it('a row where nothing was drawn still gets one target; a row of special tokens gets none', () => {
    const m = maskRow([1, 50, 2], vocab, { ...BERT, probability: 0 }, 1, 0, 0);
    expect(m.positions).toEqual([1]);
    expect(maskRow([1, 2], vocab, BERT, 1, 0, 0).positions).toEqual([]);
  });
});
