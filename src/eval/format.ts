/**
 * Python-compatible number formatting, so the text report is byte-identical to sklearn's.
 * JavaScript's toFixed rounds an exact tie (0.125 → "0.13") away from zero; Python's format
 * rounds the exact binary value half-to-even ("0.12").
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const plain = x.toFixed(digits);
  if (Math.abs(x) >= 1e21 || digits >= 100) return plain;
  // The exact decimal expansion of a double in [0, 1e21) with ≤ 100 fraction digits: a tie needs the
  // expansion to end in a 5 right after the kept digits.
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(rest)) return plain;
  // Exact tie: round half to even on the truncated value.
  const kept = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
  const lastDigit = Number(kept[kept.length - 1]);
  const truncated = (x < 0 ? '-' : '') + kept;
  if (lastDigit % 2 === 0) return truncated;
  return plain; // odd: rounding away from zero lands on the even neighbour, as toFixed does
}

/** Python's `'{:>{w}}'.format(s)` counts code points, not UTF-16 units. */
export function padStart(s: string, width: number): string {
  const len = [...s].length;
  return len >= width ? s : ' '.repeat(width - len) + s;
}

export function padEnd(s: string, width: number): string {
  const len = [...s].length;
  return len >= width ? s : s + ' '.repeat(width - len);
}

export function codePoints(s: string): number {
  return [...s].length;
}
