import { Rng } from '../lib/rng.js';

/** Rows shuffled together before sorting by length: large enough to bucket, small enough to stay random. */
const BUCKET_BATCHES = 50;

/**
 * The batches of one epoch, as row indices. Length-bucketed: shuffle, cut into buckets of
 * BUCKET_BATCHES batches, sort each bucket by length, cut into batches, shuffle the batch order.
 * Seeded by (seed, epoch) only, so any epoch's order can be rebuilt on resume.
 */
export function epochBatches(
  lengths: ArrayLike<number>,
  batchSize: number,
  seed: number,
  epoch: number,
  bucketed = true,
): number[][] {
  const rng = new Rng((seed * 1_000_003 + epoch * 7919) >>> 0);
  const order = rng.shuffle(Array.from({ length: lengths.length }, (_, i) => i));
  const batches: number[][] = [];
  const bucket = bucketed ? batchSize * BUCKET_BATCHES : batchSize;
  for (let start = 0; start < order.length; start += bucket) {
    const chunk = order.slice(start, start + bucket);
    if (bucketed) chunk.sort((a, b) => lengths[b] - lengths[a] || a - b);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  return bucketed ? rng.shuffle(batches) : batches;
}

/** Fraction of padding tokens in a set of batches padded to their own longest row. */
export function paddingFraction(lengths: ArrayLike<number>, batches: number[][]): number {
  let real = 0;
  let padded = 0;
  for (const b of batches) {
    let max = 0;
    for (const i of b) {
      real += lengths[i];
      if (lengths[i] > max) max = lengths[i];
    }
    padded += max * b.length;
  }
  return padded ? 1 - real / padded : 0;
}
