/**
 * Exact-match marking for text pairs (as MarkedBERT, Boualili et al., SIGIR 2020): in each text of a
 * pair, every word the other text also has gets a marker token before it. A cross-encoder trained from
 * scratch on a few hundred queries does not learn to compare tokens across the [SEP] by itself; with the
 * marks, "which of the asked words does this title carry" is in its input, and what it learns is how much
 * each match or miss matters.
 *
 * Words are letter/digit runs, compared lower-cased with a plural -s dropped ("blocks" marks "block").
 * The marks are token ids, not text: a text is tokenized in pieces cut at word boundaries, which a BERT
 * pre-tokenizer splits at anyway, so without a match the ids are exactly the unmarked ones (tested).
 */

/** The marker: a vocabulary slot BERT vocabularies keep unused for such additions. */
export const MATCH_MARKER = '[unused0]';
/** The key recsys writes into tokenizer_config.json of a tokenizer that marks (HF ignores unknown keys). */
export const MATCH_MARKING_KEY = 'recsys_mark_matches';

const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/** How two words are compared: lower-cased, a plural -s (not -ss) dropped from words of 4+ letters. */
export function matchKey(word: string): string {
  const w = word.toLowerCase();
  return w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w;
}

/** The match keys of a text's words. */
export function matchKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const m of text.matchAll(WORD)) keys.add(matchKey(m[0]));
  return keys;
}

/**
 * The ids of `text` with `marker` before every word whose key `other` holds. `pieces` tokenizes a piece
 * of text without special tokens.
 */
export function markedIds(
  text: string,
  other: Set<string>,
  pieces: (piece: string) => number[],
  marker: number,
): number[] {
  const ids: number[] = [];
  let last = 0;
  for (const m of text.matchAll(WORD)) {
    if (!other.has(matchKey(m[0]))) continue;
    if (m.index > last) ids.push(...pieces(text.slice(last, m.index)));
    ids.push(marker, ...pieces(m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) ids.push(...pieces(text.slice(last)));
  return ids;
}
