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

  constructor(
    readonly vocab: Map<string, number>,
    readonly opts: WordPieceOptions = { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 },
  ) {
    const unk = vocab.get(opts.unkToken);
    if (unk === undefined) throw new Error(`vocabulary has no unknown token ${opts.unkToken}`);
    this.unkId = unk;
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
    const chars = Array.from(word); // code points, so a surrogate pair is never split
    if (chars.length > this.opts.maxInputCharsPerWord) return [this.unkId];
    const ids: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (start < end) {
        let piece = chars.slice(start, end).join('');
        if (start > 0) piece = this.opts.continuingSubwordPrefix + piece;
        found = this.vocab.get(piece);
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
