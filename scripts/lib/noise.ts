/**
 * Noise that real search logs and reviews have: typos, odd casing, stray spacing. Every function
 * takes the Rng so the noise is part of the seeded stream.
 */
import type { Rng } from './prng.js';

const KEYBOARD_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'];

/** Letters next to `c` on a QWERTY keyboard (same row), for fat-finger substitutions. */
function neighbours(c: string): string {
  for (const row of KEYBOARD_ROWS) {
    const i = row.indexOf(c);
    if (i >= 0) return (row[i - 1] ?? '') + (row[i + 1] ?? '');
  }
  return '';
}

/** One typo in a word of 4+ letters: swap, drop, double or fat-finger a letter. */
export function typoWord(rng: Rng, word: string): string {
  if (word.length < 4 || !/^[a-z]+$/i.test(word)) return word;
  const i = rng.range(1, word.length - 2); // keep the first letter, as people mostly do
  switch (rng.int(4)) {
    case 0:
      return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
    case 1:
      return word.slice(0, i) + word.slice(i + 1);
    case 2:
      return word.slice(0, i) + word[i] + word.slice(i);
    default: {
      const n = neighbours(word[i].toLowerCase());
      return n ? word.slice(0, i) + rng.pick([...n]) + word.slice(i + 1) : word;
    }
  }
}

/** A typo in one random word of the text, with probability p. */
export function maybeTypo(rng: Rng, text: string, p: number): string {
  if (!rng.chance(p)) return text;
  const words = text.split(' ');
  const candidates = words.map((w, i) => (w.length >= 4 && /^[a-z]+$/i.test(w) ? i : -1)).filter((i) => i >= 0);
  if (candidates.length === 0) return text;
  const i = rng.pick(candidates);
  words[i] = typoWord(rng, words[i]);
  return words.join(' ');
}

export function titleCase(s: string): string {
  return s.replace(/(^|[\s-])([a-z])/g, (_, pre: string, c: string) => pre + c.toUpperCase());
}

export function sentenceCase(s: string): string {
  return s.length ? s[0].toUpperCase() + s.slice(1) : s;
}

/** How people type queries: mostly lower case, some Title Case, a few Sentence case or SHOUTING. */
export function queryCase(rng: Rng, s: string): string {
  return rng.weighted<(x: string) => string>([
    [(x) => x, 0.76],
    [titleCase, 0.11],
    [sentenceCase, 0.08],
    [(x) => x.toUpperCase(), 0.03],
    [(x) => x.replace(/ /g, '  '), 0.02], // doubled spaces from sloppy typing
  ])(s);
}
