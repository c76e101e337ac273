import { DataError, UsageError } from '../lib/errors.js';
import { sha256File } from '../lib/hash.js';
import { Rng } from '../lib/rng.js';
import { cellText, requireColumns } from './readers/columns.js';
import { openSource, type InputFormat } from './readers/index.js';
import type { SplitArrays } from './split-reader.js';
import type { TextTokenizer } from './tokenizer/index.js';

/**
 * Unlabelled text for masked-LM pretraining, tokenized in memory into the same compact arrays a
 * prepared split uses (labels all 0), so the training loop's batching works on it unchanged.
 *  - group_texts: every text is encoded with [CLS] … [SEP] and no truncation, the texts of a split are
 *    concatenated and cut into max_length blocks, the remainder dropped (Hugging Face's run_mlm.py).
 *  - one_per_row: one text per row, truncated to max_length (run_mlm.py --line_by_line).
 * The held-out split is drawn per text from the seed before packing, so no text is in both splits.
 */

export const PACKINGS = ['group_texts', 'one_per_row'] as const;
export type Packing = (typeof PACKINGS)[number];

export interface MlmTextOptions {
  input: string;
  format: InputFormat | 'auto';
  delimiter?: string;
  textColumn: string;
  maxLength: number;
  packing: Packing;
  /** Share of texts held out for validation (0 = none). */
  validationShare: number;
  seed: number;
  tokenizer: TextTokenizer;
}

export interface MlmTexts {
  train: SplitArrays;
  validation: SplitArrays | null;
  texts: { train: number; validation: number; empty: number };
  tokens: number;
  /** sha256 of the input file: with the settings, what a resumed run checks it still reads. */
  inputSha256: string;
}

/** No length cap when texts are packed: blocks are cut after concatenation. */
const UNTRUNCATED = 2 ** 31 - 1;

function toArrays(seqs: number[][], rowNumbers: number[]): SplitArrays {
  const offsets = new Int32Array(seqs.length + 1);
  seqs.forEach((s, i) => {
    offsets[i + 1] = offsets[i] + s.length;
  });
  const ids = new Int32Array(offsets[seqs.length]);
  for (const [i, s] of seqs.entries()) ids.set(s, offsets[i]);
  return {
    size: seqs.length,
    ids,
    typeIds: new Int8Array(ids.length),
    offsets,
    labels: new Int32Array(seqs.length),
    rows: Float64Array.from(rowNumbers),
  };
}

/** run_mlm.py's group_texts: concatenate, cut into blocks; the remainder is dropped unless it is all there is. */
function groupTexts(seqs: number[][], blockSize: number): SplitArrays {
  const all = seqs.flat();
  const full = Math.floor(all.length / blockSize) * blockSize;
  const end = full > 0 ? full : all.length;
  const blocks: number[][] = [];
  for (let at = 0; at < end; at += blockSize) blocks.push(all.slice(at, Math.min(at + blockSize, end)));
  return toArrays(
    blocks,
    blocks.map((_, i) => i + 1),
  );
}

export async function readMlmTexts(o: MlmTextOptions): Promise<MlmTexts> {
  if (o.maxLength < 2) throw new UsageError(`pretrain.max_length: ${o.maxLength} leaves no room for a token`);
  const source = openSource(o.input, o.format, o.delimiter);
  await requireColumns(source, o.input, [o.textColumn]);
  const rng = new Rng(o.seed ^ 0x6d6c6d);
  const split = { train: [] as number[][], validation: [] as number[][] };
  const rows = { train: [] as number[], validation: [] as number[] };
  let empty = 0;
  let tokens = 0;
  const maxLength = o.packing === 'group_texts' ? UNTRUNCATED : o.maxLength;
  for await (const r of source.rows()) {
    if (r.error) throw new DataError(`${o.input}: row ${r.row}: ${r.error}`);
    const text = cellText(r.values?.[o.textColumn])?.trim();
    // One draw per row, empty or not, so the split of a row never depends on the rows around it.
    const part = rng.next() < o.validationShare ? 'validation' : 'train';
    if (!text) {
      empty++;
      continue;
    }
    const enc = o.tokenizer.encode(text, undefined, maxLength, 'longest_first');
    if (!enc) continue;
    tokens += enc.ids.length;
    split[part].push(enc.ids);
    rows[part].push(r.row);
  }
  if (split.train.length === 0)
    throw new DataError(`${o.input}: no text in column "${o.textColumn}" for training (${empty} empty rows)`);
  const pack = (part: 'train' | 'validation') =>
    o.packing === 'group_texts' ? groupTexts(split[part], o.maxLength) : toArrays(split[part], rows[part]);
  return {
    train: pack('train'),
    validation: split.validation.length ? pack('validation') : null,
    texts: { train: split.train.length, validation: split.validation.length, empty },
    tokens,
    inputSha256: await sha256File(o.input),
  };
}

/** What the masking needs to know about the vocabulary. */
export interface MaskVocab {
  maskId: number;
  vocabSize: number;
  /** 1 for ids never selected for masking ([CLS], [SEP], [PAD], [MASK]). */
  special: Uint8Array;
  /** 1 for WordPiece continuations (`##…`): whole-word masking keeps them with the token before. */
  continuation: Uint8Array;
}

export function maskVocab(tokenizer: TextTokenizer, vocabSize: number, where: string): MaskVocab {
  const json = JSON.parse(tokenizer.files()['tokenizer.json']) as {
    model?: { vocab?: Record<string, number>; continuing_subword_prefix?: string };
    added_tokens?: { id: number; content: string }[];
  };
  const vocab = new Map<string, number>(Object.entries(json.model?.vocab ?? {}));
  for (const t of json.added_tokens ?? []) vocab.set(t.content, t.id);
  const maskId = vocab.get('[MASK]');
  if (maskId === undefined)
    throw new UsageError(`${where}: the tokenizer has no [MASK] token, which masked-LM pretraining needs`);
  const special = new Uint8Array(vocabSize);
  const s = tokenizer.specialIds;
  for (const id of [s.cls, s.sep, s.pad, maskId]) if (id < vocabSize) special[id] = 1;
  const continuation = new Uint8Array(vocabSize);
  const prefix = json.model?.continuing_subword_prefix ?? '##';
  for (const [tok, id] of vocab)
    if (id < vocabSize && tok.startsWith(prefix) && tok.length > prefix.length) continuation[id] = 1;
  return { maskId, vocabSize, special, continuation };
}
