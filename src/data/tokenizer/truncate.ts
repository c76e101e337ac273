export const TRUNCATIONS = ['longest_first', 'only_second'] as const;
export type Truncation = (typeof TRUNCATIONS)[number];

/**
 * How many tokens of each text survive, given room for `budget` content tokens. Mirrors
 * Hugging Face tokenizers' `truncate_encodings` so recsys and the Python tools truncate alike.
 * Returns null when only_second cannot make the pair fit (the first text alone is too long).
 */
export function truncatedLengths(
  lenA: number,
  lenB: number | undefined,
  budget: number,
  strategy: Truncation,
  maxLength = budget,
): [number, number] | null {
  if (lenB === undefined) return [Math.min(lenA, budget), 0];
  if (lenA + lenB <= budget) return [lenA, lenB];
  if (strategy === 'only_second') return lenA < budget ? [lenA, budget - lenA] : null;
  // Measured against tokenizers 0.23: each text is first capped at max_length (special tokens
  // included), then the shorter one keeps what it can; if both are long, the shorter (or, on a
  // tie, the first) gets the floor of half the budget and the other the ceiling.
  const a = Math.min(lenA, maxLength);
  const b = Math.min(lenB, maxLength);
  const shorter = Math.min(a, b);
  if (shorter + shorter <= budget) return a <= b ? [a, budget - a] : [budget - b, b];
  const floor = Math.floor(budget / 2);
  const ceil = floor + (budget % 2);
  return a > b ? [ceil, floor] : [floor, ceil];
}
