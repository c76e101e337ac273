import { describe, expect, it } from 'vitest';
import { Rng, seedStream } from '../../src/lib/rng.js';

/**
 * The random streams are part of a run's reproducibility: a resumed run must replay the same
 * shuffles and dropout masks, so the values a seed gives are pinned here and must never change.
 */
describe('seeded random streams', () => {
  it('seedStream (dropout op seeds) gives the pinned mulberry32 values', () => {
    const first5 = (seed: number) => Array.from({ length: 5 }, seedStream(seed));
    expect(first5(0)).toEqual([1144304738, 1416247, 958946056, 627933444, 2007157716]);
    expect(first5(42)).toEqual([434237309, 1925393290, 1513829057, 729002158, 750819978]);
    expect(first5(2 ** 32 - 1)).toEqual([1702622164, 813802916, 926221201, 1907222789, 1482779184]);
    expect(first5(-7)).toEqual([1860010037, 1397564179, 190136057, 2062400319, 209248909]);
    for (const v of first5(1)) expect(v >= 0 && v < 2147483647).toBe(true);
  });

  it('Rng (xoshiro128**) gives the pinned values and resumes the same stream from its saved state', () => {
    const pinned = new Rng(42);
    expect(Array.from({ length: 4 }, () => pinned.nextUint32())).toEqual([
      2837322924, 544945897, 479756282, 3500138142,
    ]);
    const a = new Rng(42);
    a.nextUint32();
    const b = new Rng(Uint32Array.from(a.state));
    expect(Array.from({ length: 4 }, () => b.nextUint32())).toEqual(Array.from({ length: 4 }, () => a.nextUint32()));
    expect(new Rng(7).shuffle([1, 2, 3, 4, 5, 6])).toEqual(new Rng(7).shuffle([1, 2, 3, 4, 5, 6]));
  });
});
