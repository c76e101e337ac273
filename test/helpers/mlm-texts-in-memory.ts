import type { Packing } from '../../src/data/mlm-texts.js';
import { DataError, UsageError } from '../../src/lib/errors.js';
import { sha256File } from '../../src/lib/hash.js';
import { Rng } from '../../src/lib/rng.js';
import { cellText, requireColumns } from '../../src/data/readers/columns.js';
import { openSource, type InputFormat } from '../../src/data/readers/index.js';
import type { SplitArrays } from '../../src/data/split-reader.js';
import type { TextTokenizer } from '../../src/data/tokenizer/index.js';

/**
 * The in-memory reader `recsys pretrain` used before it streamed its text into shards, kept as the
 * reference the sharded corpus must equal row for row: unlabelled text tokenized in memory into the
 * compact arrays a prepared split uses (labels all 0).
 *  - group_texts: every text is encoded with [CLS] … [SEP] and no truncation, the texts of a split are
 *    concatenated and cut into max_length blocks, the remainder dropped (Hugging Face's run_mlm.py).
 *  - one_per_row: one text per row, truncated to max_length (run_mlm.py --line_by_line).
 * The held-out split is drawn per text from the seed before packing, so no text is in both splits.
 */

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
