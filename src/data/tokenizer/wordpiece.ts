/**
 * Greedy longest-match-first WordPiece, as in Hugging Face `tokenizers` (models::WordPiece).
 * Word → ids results are cached: product text repeats the same words constantly, and the cache
 * turns most lookups into one Map hit.
 */
export interface WordPieceOptions {
  unkToken: string;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
}

const CACHE_LIMIT = 200_000;

/** Vocabulary entries as a character trie: the longest entry that starts a string in one walk. */
class PieceTrie {
  private readonly children: (Map<number, number> | undefined)[] = [undefined];
  private readonly ids: number[] = [-1];

  add(piece: string, id: number): void {
    let node = 0;
    for (let i = 0; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      let kids = this.children[node];
      if (!kids) this.children[node] = kids = new Map();
      let next = kids.get(c);
      if (next === undefined) {
        next = this.ids.length;
        kids.set(c, next);
        this.children.push(undefined);
        this.ids.push(-1);
      }
      node = next;
    }
    this.ids[node] = id;
  }

  /** Id and end of the longest entry equal to word[start..end), or end -1 when none is. */
  longestAt(word: string, start: number): { id: number; end: number } {
    let node = 0;
    let best = { id: -1, end: -1 };
    for (let i = start; i < word.length; i++) {
      const next = this.children[node]?.get(word.charCodeAt(i));
      if (next === undefined) break;
      node = next;
      if (this.ids[node] >= 0) best = { id: this.ids[node], end: i + 1 };
    }
    return best;
  }
}

export class WordPiece {
  private readonly cache = new Map<string, number[]>();
  readonly unkId: number;
  /** Longest vocabulary entry (UTF-16 units): no longer piece can match, so none is tried. */
  private readonly longest: number;
  /** Every entry, for a piece that starts a word; entries with the prefix, without it, for the rest. */
  private readonly starts = new PieceTrie();
  private readonly continues = new PieceTrie();

  constructor(
    readonly vocab: Map<string, number>,
    readonly opts: WordPieceOptions = { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 },
  ) {
    const unk = vocab.get(opts.unkToken);
    if (unk === undefined) throw new Error(`vocabulary has no unknown token ${opts.unkToken}`);
    this.unkId = unk;
    let longest = 0;
    const prefix = opts.continuingSubwordPrefix;
    for (const [token, id] of vocab) {
      longest = Math.max(longest, token.length);
      this.starts.add(token, id);
      if (token.startsWith(prefix) && token.length > prefix.length) this.continues.add(token.slice(prefix.length), id);
    }
    this.longest = longest;
  }

  /** Append the ids of one pre-tokenized word to `out`. */
  encodeWord(word: string, out: number[]): void {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      ids = this.split(word);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, ids);
    }
    for (const id of ids) out.push(id);
  }

  private split(word: string): number[] {
    const direct = this.vocab.get(word);
    if (direct !== undefined) return [direct];
    const prefix = this.opts.continuingSubwordPrefix;
    // Without surrogate pairs a code point is one UTF-16 unit: the trie walks the string itself.
    if (!/[\ud800-\udfff]/.test(word)) {
      return word.length > this.opts.maxInputCharsPerWord ? [this.unkId] : this.splitByTrie(word);
    }
    const chars = Array.from(word); // code points, so a surrogate pair is never split
    if (chars.length > this.opts.maxInputCharsPerWord) return [this.unkId];
    const piece = (a: number, b: number) => chars.slice(a, b).join('');
    const ids: number[] = [];
    let start = 0;
    while (start < chars.length) {
      // Longest match first, as Hugging Face's WordPiece, starting at the longest piece that could be in the vocab.
      let end = Math.min(chars.length, start + this.longest - (start > 0 ? prefix.length : 0));
      let found: number | undefined;
      while (start < end) {
        found = this.vocab.get(start > 0 ? prefix + piece(start, end) : piece(start, end));
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [this.unkId];
      ids.push(found);
      start = end;
    }
    return ids;
  }

  /**
   * The same greedy longest match for a word without surrogate pairs, one trie walk per piece
   * instead of a lookup per candidate length. (A word with surrogates keeps the loop above, where a
   * piece never ends inside a pair.)
   */
  private splitByTrie(word: string): number[] {
    const ids: number[] = [];
    let start = 0;
    while (start < word.length) {
      const { id, end } = (start === 0 ? this.starts : this.continues).longestAt(word, start);
      if (end < 0) return [this.unkId];
      ids.push(id);
      start = end;
    }
    return ids;
  }
}
