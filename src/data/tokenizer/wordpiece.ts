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

export class WordPiece {
  private readonly cache = new Map<string, number[]>();
  readonly unkId: number;
  /** Longest vocabulary entry (UTF-16 units): no longer piece can match, so none is tried. */
  private readonly longest: number;

  constructor(
    readonly vocab: Map<string, number>,
    readonly opts: WordPieceOptions = { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 },
  ) {
    const unk = vocab.get(opts.unkToken);
    if (unk === undefined) throw new Error(`vocabulary has no unknown token ${opts.unkToken}`);
    this.unkId = unk;
    let longest = 0;
    for (const token of vocab.keys()) longest = Math.max(longest, token.length);
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
    // Without surrogate pairs a code point is one UTF-16 unit and the word can be sliced directly.
    const chars: string | string[] = /[\ud800-\udfff]/.test(word) ? Array.from(word) : word;
    if (chars.length > this.opts.maxInputCharsPerWord) return [this.unkId];
    const piece =
      typeof chars === 'string'
        ? (a: number, b: number) => chars.slice(a, b)
        : (a: number, b: number) => chars.slice(a, b).join('');
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
}
