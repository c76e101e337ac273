import { UsageError } from '../lib/errors.js';
import type { SplitArrays } from './split-reader.js';
import type { TextTokenizer } from './tokenizer/index.js';

/**
 * What masked-LM pretraining needs of its text: how texts become rows (mlm-corpus.ts tokenizes them
 * into shards on disk), rows by index, and the vocabulary facts masking uses.
 */

export const PACKINGS = ['group_texts', 'one_per_row'] as const;
export type Packing = (typeof PACKINGS)[number];

/** Token rows by index: the sharded corpus on disk (ShardedRows), or a split in memory (tests). */
export interface TokenRows {
  readonly size: number;
  /** Row i's ids; may be a view that a later call invalidates. */
  ids(i: number): ArrayLike<number>;
}

/** A split held in memory as token rows. */
export function splitRows(s: SplitArrays): TokenRows {
  return { size: s.size, ids: (i) => s.ids.subarray(s.offsets[i], s.offsets[i + 1]) };
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
