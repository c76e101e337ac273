import { createHash } from 'node:crypto';
import type { MaskVocab } from '../data/mlm-texts.js';
import { Rng } from '../lib/rng.js';

/**
 * BERT's masking, as Hugging Face's DataCollatorForLanguageModeling draws it: each token (or, with
 * whole-word masking, each word) is selected with `probability`; a selected token becomes [MASK]
 * with `maskReplace`, a random id with `randomReplace`, and stays as it is otherwise. Special tokens
 * are never selected. One difference: a row where nothing was drawn gets one selected token, so no
 * batch is without a target (HF would give a NaN loss on such a batch).
 *
 * Masks are a pure function of (seed, epoch, row): drawn anew each epoch, the same after a resume,
 * and readable by a reference script. Validation uses one fixed draw (epoch -1) so its loss is
 * comparable from one evaluation to the next.
 */

export interface MaskSettings {
  probability: number;
  maskReplace: number;
  randomReplace: number;
  wholeWord: boolean;
}

export interface MaskedRow {
  /** The row's ids with the replacements applied. */
  ids: Int32Array;
  /** Selected positions (within the row) and the original token at each. */
  positions: number[];
  labels: number[];
}

/** The epoch used for the fixed validation masks. */
export const VALIDATION_EPOCH = -1;

export function maskSeed(seed: number, epoch: number, row: number): number {
  return createHash('sha256').update(`mlm:${seed}:${epoch}:${row}`).digest().readUInt32LE(0);
}

export function maskRow(
  row: ArrayLike<number>,
  vocab: MaskVocab,
  s: MaskSettings,
  seed: number,
  epoch: number,
  rowIndex: number,
): MaskedRow {
  const rng = new Rng(maskSeed(seed, epoch, rowIndex));
  const ids = Int32Array.from(row);
  const n = ids.length;
  const selected = new Uint8Array(n);
  let wordSelected = false;
  for (let i = 0; i < n; i++) {
    if (vocab.special[ids[i]]) continue;
    const continues = s.wholeWord && i > 0 && vocab.continuation[ids[i]] && !vocab.special[ids[i - 1]];
    if (!continues) wordSelected = rng.next() < s.probability;
    if (wordSelected) selected[i] = 1;
  }
  if (!selected.some((x) => x === 1)) {
    const candidates = [...ids.keys()].filter((i) => !vocab.special[ids[i]]);
    if (candidates.length) selected[candidates[rng.int(candidates.length)]] = 1;
  }
  const positions: number[] = [];
  const labels: number[] = [];
  // Of the selected tokens not masked, the share that get a random token (10% of 20% → one half).
  const randomGivenNotMasked = s.maskReplace < 1 ? s.randomReplace / (1 - s.maskReplace) : 0;
  for (let i = 0; i < n; i++) {
    if (!selected[i]) continue;
    positions.push(i);
    labels.push(ids[i]);
    if (rng.next() < s.maskReplace) ids[i] = vocab.maskId;
    else if (rng.next() < randomGivenNotMasked) ids[i] = rng.int(vocab.vocabSize);
  }
  return { ids, positions, labels };
}
