import { LRUCache } from 'lru-cache';
import type { EncodedRow } from '../data/batch.js';

/**
 * Answers of hot inputs: an LRU with a TTL, bounded in bytes, keyed by the model's sha256 and the
 * row's token ids. Two texts that tokenise alike (case, spacing, Unicode forms the tokenizer
 * normalises) share one entry, and an entry is exactly what a forward pass would return, so a hit
 * gives the same numbers as a miss. A reloaded model has another sha256: its rows never hit the
 * old model's entries.
 */
export class RowCache {
  private readonly lru: LRUCache<string, Float32Array> | undefined;
  hits = 0;
  misses = 0;

  constructor(maxBytes: number, ttlSeconds: number) {
    if (maxBytes > 0)
      this.lru = new LRUCache<string, Float32Array>({
        maxSize: maxBytes,
        ttl: ttlSeconds * 1000,
        // Keys are JS strings (2 bytes a char), values float32; ~64 bytes of entry overhead each.
        sizeCalculation: (v, k) => v.byteLength + 2 * k.length + 64,
      });
  }

  /** False when serve.cache_bytes is 0: nothing is stored, and callers need not build keys. */
  get enabled(): boolean {
    return this.lru !== undefined;
  }

  static key(sha256: string, kind: string, row: EncodedRow): string {
    // Token types matter for pairs: the first type-1 position marks where the pair starts.
    const pairAt = Array.prototype.indexOf.call(row.typeIds, 1);
    return `${sha256}:${kind}:${pairAt}:${Array.prototype.join.call(row.ids, ',')}`;
  }

  get(key: string): Float32Array | undefined {
    if (!this.lru) return undefined;
    const v = this.lru.get(key);
    if (v) this.hits++;
    else this.misses++;
    return v;
  }

  set(key: string, value: Float32Array): void {
    this.lru?.set(key, value);
  }

  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }

  get entries(): number {
    return this.lru?.size ?? 0;
  }
}
