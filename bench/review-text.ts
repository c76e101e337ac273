/**
 * Synthetic product reviews whose words behave like real ones for a tokenizer: a Zipf-distributed
 * word frequency over a vocabulary of millions of word types, so a corpus of 100k reviews holds
 * hundreds of thousands of distinct words and most of them are rare. The word list is built here
 * from a short list of common English words, their inflections, compounds and misspellings,
 * pseudo-words, brand and model names, numbers with units and prices — never from the tokenizer's
 * own vocabulary, which would make every word a whole-word hit. Review-level noise adds what
 * scraped reviews carry: HTML remnants (`<br />`, `&amp;`), emoji, accented and occasional CJK
 * text, punctuation runs, ALL CAPS, URLs. Lengths are long-tailed (log-normal words per review),
 * so some reviews run far past 128 tokens and get truncated.
 *
 * Everything is drawn from one seeded PRNG (xoshiro128**): the same seed gives the same texts.
 */
import { Rng } from '../src/lib/rng.js';

// The most frequent words of English product reviews, roughly in frequency order (the Zipf head).
const COMMON = `the i and it a to is this for of my was in with not but that on you have so
 great are product be very as one good they use if would just like all love works can will at had
 well do no me an or from when easy than really quality price there get what them only out has time
 up after does more been your about little nice too some work we our used buy bought even because
 much which also other these its could fit perfect recommend over did size small then off any first
 back make made into years best better still bit looks look came how were months day enough using
 set battery light sound water color feel box since now need bad cheap far around doesnt dont its
 im ive cant didnt wasnt item order ordered arrived received return returned amazon star stars
 review worth money sturdy comfortable durable broke broken stopped working cable charger phone
 case screen hand hands room kitchen car home kids son daughter wife husband gift christmas
 happy disappointed excellent awesome terrible poor beautiful pretty super definitely however
 though although overall exactly expected described picture pictures material plastic metal soft
 hard heavy light lightweight large big long short wide tight loose clean cleaning easily quickly
 issue issues problem problems fine ok okay loud quiet fast slow strong weak thin thick warm cold
 cup bottle bag shoes shirt pants dress fabric batteries bluetooth app setup instructions install
 installed assembly minutes hours week weeks year again every never always sometimes almost maybe
 thing things lot lots way another same new old two three few many most both each while where who`
  .split(/\s+/)
  .filter(Boolean);

const SUFFIXES = ['s', 'es', 'ed', 'ing', 'ly', 'er', 'est', 'ness', 'able', 'less', 'ful', 'ish', 'y', 'ers', 'ings'];
const PREFIXES = ['un', 're', 'pre', 'over', 'super', 'non', 'mis', 'anti', 'mega', 'ultra', 'eco', 'mini'];
const ONSETS =
  'b bl br c ch cl cr d dr f fl fr g gl gr h j k kl l m n p pl pr qu r s sc sh sk sl sm sn sp st str sw t th tr tw v w'
    .split(' ')
    .concat(['wh', 'z', '', '', '']);
const VOWELS = 'a e i o u a e i o ai ea ee oo ou ie io ia y'.split(' ');
const CODAS = ' n r s t l m nd nt st ck ng rt ll ss x p k sh ch th rd lt mp'.split(' ');
const UNITS = [
  'mm',
  'cm',
  'in',
  'inch',
  'ft',
  'oz',
  'lb',
  'lbs',
  'kg',
  'g',
  'ml',
  'l',
  'w',
  'v',
  'mah',
  'gb',
  'tb',
  'hz',
];
const EMOJI = ['😀', '😍', '👍', '👎', '🙌', '😡', '🔥', '💯', '⭐', '❤️', '😂', '🤔', '😭', '✅', '❌', '🎁'];
const ACCENTED = ['café', 'naïve', 'crème', 'jalapeño', 'résumé', 'über', 'façade', 'piñata', 'déjà', 'señor', 'açaí'];
const CJK = ['很好', '质量不错', '好用', 'ありがとう', '便利です', '좋아요', '非常满意', '快递很快'];
const PUNCT_RUNS = ['!!!', '!!', '...', '?!', '??', '!!!!!', '....', ':)', ':(', ';)', '--', '***', '(!)'];
const HTML = ['<br />', '<br/>', '<br /><br />', '&amp;', '&quot;', '&#39;', '</p><p>', '&nbsp;'];
// Phones type curly apostrophes: a large share of real reviews is non-ASCII because of them alone.
const CONTRACTIONS: Record<string, string> = {
  dont: 'do|n’t',
  doesnt: 'does|n’t',
  didnt: 'did|n’t',
  cant: 'ca|n’t',
  wasnt: 'was|n’t',
  im: 'I|’m',
  ive: 'I|’ve',
};
const DOMAINS = ['amzn.to', 'youtu.be', 'www.example-shop.com', 'bit.ly', 'i.imgur.com', 'support.acme-tools.net'];

/** A second, stateless PRNG keyed by word rank, so word type r is always the same string. */
function hashRng(seed: number, r: number): Rng {
  return new Rng((Math.imul(r + 1, 0x9e3779b1) ^ seed) >>> 0);
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

function pseudoWord(rng: Rng): string {
  let w = '';
  const syllables = 1 + (rng.next() < 0.45 ? 1 : 0) + (rng.next() < 0.1 ? 1 : 0);
  for (let s = 0; s < syllables; s++) w += pick(rng, ONSETS) + pick(rng, VOWELS) + pick(rng, CODAS);
  return w;
}

function misspell(rng: Rng, w: string): string {
  if (w.length < 3) return `${w}${w.at(-1)}`;
  const i = 1 + rng.int(w.length - 2);
  switch (rng.int(4)) {
    case 0:
      return w.slice(0, i) + w.slice(i + 1); // dropped letter
    case 1:
      return w.slice(0, i) + w[i] + w.slice(i); // doubled letter
    case 2:
      return w.slice(0, i - 1) + w[i] + w[i - 1] + w.slice(i + 1); // swapped letters
    default:
      return w.slice(0, i) + pick(rng, VOWELS)[0] + w.slice(i + 1); // wrong vowel
  }
}

function brand(rng: Rng): string {
  const name = pseudoWord(rng);
  const cap = name[0].toUpperCase() + name.slice(1);
  switch (rng.int(5)) {
    case 0:
      return `${cap.toUpperCase().slice(0, 2 + rng.int(3))}-${100 + rng.int(9900)}`; // XR-500
    case 1:
      return `${cap}${rng.int(20)}`; // Pixel7
    case 2:
      return `${cap}${pseudoWord(rng)[0].toUpperCase()}${pseudoWord(rng)}`; // CamelCase
    case 3:
      return `${rng.next() < 0.5 ? 'i' : 'e'}${cap}`; // iThing
    default:
      return cap;
  }
}

function numberToken(rng: Rng): string {
  switch (rng.int(5)) {
    case 0:
      return `$${rng.int(500)}.${String(rng.int(100)).padStart(2, '0')}`;
    case 1:
      return `${1 + rng.int(200)}${pick(rng, UNITS)}`;
    case 2:
      return `${1 + rng.int(50)}.${rng.int(10)} ${pick(rng, UNITS)}`;
    case 3:
      return `${1 + rng.int(12)}/${1 + rng.int(28)}/${10 + rng.int(15)}`;
    default:
      return `${rng.int(3000)}`;
  }
}

/** Word type of Zipf rank r (0 = most frequent). Deterministic in (seed, r). */
function wordType(seed: number, r: number): string {
  if (r < COMMON.length) return COMMON[r];
  const rng = hashRng(seed, r);
  const base = COMMON[rng.int(COMMON.length)];
  const u = rng.next();
  if (u < 0.3) return base + pick(rng, SUFFIXES); // inflections, often split into subwords
  if (u < 0.38) return pick(rng, PREFIXES) + base;
  if (u < 0.43) return base + COMMON[rng.int(COMMON.length)]; // run-together words
  if (u < 0.58) return misspell(rng, base + (rng.next() < 0.4 ? pick(rng, SUFFIXES) : ''));
  if (u < 0.75) return pseudoWord(rng) + (rng.next() < 0.3 ? pick(rng, SUFFIXES) : '');
  if (u < 0.87) return brand(rng);
  if (u < 0.97) return numberToken(rng);
  return pick(rng, ACCENTED) + (rng.next() < 0.5 ? pick(rng, SUFFIXES) : '');
}

export interface ReviewTextOptions {
  seed?: number;
  /** Number of Zipf word types (ranks); the tail most reviews never reach. */
  types?: number;
  /** Share of words drawn from the common-word head alone (real text repeats its head words). */
  head?: number;
}

/** `n` reviews, deterministic in the seed. */
export function makeReviews(n: number, opts: ReviewTextOptions = {}): string[] {
  const seed = opts.seed ?? 11;
  const types = opts.types ?? 4_000_000;
  const rng = new Rng(seed);
  const cache = new Map<number, string>();
  const head = opts.head ?? 0.5;
  const logTypes = Math.log(types + 1);
  const logCommon = Math.log(COMMON.length + 1);
  // Zipf with exponent 1: P(rank <= r) ~ ln(r+1)/ln(N+1), inverted.
  // A mixture: `head` of the draws come from the common words only, the rest from the whole tail.
  const word = () => {
    const r = Math.floor(Math.exp(rng.next() * (rng.next() < head ? logCommon : logTypes))) - 1;
    let w = cache.get(r);
    if (w === undefined) {
      w = wordType(seed, r);
      if (cache.size < 2_000_000) cache.set(r, w);
    }
    return w;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    // Log-normal length: median ~40 words, a long tail past 300 (those are truncated at 128 tokens).
    const z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const len = Math.max(1, Math.min(1200, Math.round(Math.exp(3.7 + 0.9 * z))));
    const shouting = rng.next() < 0.03;
    const parts: string[] = [];
    let sentenceStart = true;
    for (let w = 0; w < len; w++) {
      let t = word();
      const contraction = CONTRACTIONS[t];
      if (contraction) t = contraction.replace('|', '').replace('’', rng.next() < 0.6 ? "'" : '’');
      const u = rng.next();
      if (sentenceStart || u < 0.04) t = t[0].toUpperCase() + t.slice(1);
      else if (u < 0.055) t = t.toUpperCase();
      sentenceStart = false;
      const v = rng.next();
      if (v < 0.07) {
        t += rng.next() < 0.6 ? '.' : ',';
        sentenceStart = t.endsWith('.');
      } else if (v < 0.085) t += pick(rng, PUNCT_RUNS);
      else if (v < 0.088) t += ` ${pick(rng, EMOJI)}`;
      else if (v < 0.095) t += ` ${pick(rng, HTML)}`;
      else if (v < 0.0955) t += ` ${pick(rng, CJK)}`;
      else if (v < 0.0965) t += ` https://${pick(rng, DOMAINS)}/${pseudoWord(rng)}?ref=${rng.int(1e6)}`;
      else if (v < 0.1) t = `"${t}"`;
      else if (v < 0.104) t = `(${t})`;
      parts.push(t);
    }
    const text = parts.join(' ');
    out.push(shouting ? text.toUpperCase() : text);
  }
  return out;
}
