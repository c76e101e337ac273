/**
 * reviews.csv: product reviews with a 1–5 star rating and the sentiment derived from it
 * (1–2 negative, 3 neutral, 4–5 positive).
 *
 * A review is an optional opening, a body of sentences whose polarity mix depends on the rating
 * (a 4-star review usually has one complaint, a 3-star one is mixed, a 2-star one may praise the
 * look), and an optional closing. What keeps the rating from reading straight off the words:
 *  - negation both ways ("not bad at all", "isn't great", "can't complain");
 *  - sarcasm in low ratings ("Great, another charger that died after a week. Five stars for
 *    creativity, I guess.") and grumpy words in happy ones ("My only complaint is that I didn't
 *    buy it sooner");
 *  - sentences shared by several ratings ("Does the job.", "It's fine, I guess.");
 *  - a few percent of reviews whose stars do not match the text, as on every real site.
 * Form: 30–150 words; some reviews have commas, "double quotes", line breaks (paragraphs,
 * Pros/Cons lists), curly quotes and apostrophes, accents and emoji, so the CSV needs quoting.
 */
import { CATEGORY_BRANDS, FAMILY_LIST, type Family } from './catalog.js';
import type { Rng } from './prng.js';

export type Sentiment = 'negative' | 'neutral' | 'positive';
export const SENTIMENTS: Sentiment[] = ['negative', 'neutral', 'positive'];

export function sentimentOf(rating: number): Sentiment {
  return rating <= 2 ? 'negative' : rating === 3 ? 'neutral' : 'positive';
}

/** Star distribution, J-shaped as on real shops: many 5s, a bump at 1, few 2s and 3s. */
export const RATING_WEIGHTS: [number, number][] = [
  [5, 0.42],
  [4, 0.2],
  [3, 0.13],
  [2, 0.08],
  [1, 0.17],
];

export interface ReviewRow extends Record<string, string | number> {
  review_id: string;
  product: string;
  title: string;
  review: string;
  rating: number;
  sentiment: Sentiment;
}

type Pol = 'P' | 'N' | 'M';

const GENERIC: Record<Pol, string[]> = {
  P: [
    'Works exactly as described.',
    'Of all the {noun} options I tried, this is the best.',
    'Really happy with the build quality, it feels solid in the hand.',
    'Setup took about five minutes and everything just worked.',
    'Great value for the price.',
    'It arrived two days early and was well packed.',
    "I've been using it daily for a month and it still looks new.",
    'My {person} loves it.',
    'Honestly better than the one I paid twice as much for.',
    'Customer service answered my question within an hour.',
    'Not bad at all for the money.',
    "I was skeptical, but it hasn't let me down once.",
    "Can't complain.",
    "I can't say anything bad about it.",
    'It exceeded my expectations.',
    'I would definitely buy this again.',
    'Works like a charm.',
    'Exactly what I was looking for.',
    "I didn't expect much at this price, but it's genuinely good.",
    'No more problems since I switched to this one.',
    'It does everything the expensive brands do.',
    'Looks even nicer in person than in the photos.',
  ],
  N: [
    'It stopped working after two weeks.',
    'Feels cheap and flimsy.',
    'Of all the {noun} options out there, this is the one to skip.',
    'It arrived damaged and the box was crushed.',
    'Not worth the money.',
    "It doesn't do what the listing claims.",
    'Customer service never replied to my emails.',
    'I returned it the same day.',
    'The instructions were useless, and half of the parts were missing.',
    'It smells like chemicals even after a week of airing out.',
    'Not as good as the reviews make it sound.',
    "I really wanted to like it, but it's just not good.",
    'It broke the first time I used it.',
    'A complete waste of money.',
    'The colour looks nothing like the photos.',
    "It's not great, and it's definitely not worth the price.",
    'The replacement had exactly the same problem.',
    'I would not recommend this to anyone.',
    'Cheaply made, and it shows.',
    'I expected a lot more after all the good reviews.',
    "Don't bother with this one.",
  ],
  M: [
    "It's okay.",
    'Does the job, nothing special.',
    'Average quality for the price.',
    "It's fine, I guess.",
    "Some things I like, some I don't.",
    'Packaging was fine; delivery took a bit longer than promised.',
    "Hard to say yet, I've only used it a couple of times.",
    "Pretty much what you'd expect.",
    'It is what it is.',
    "It's not bad, it's not great either.",
    'Neither impressed nor disappointed.',
    'It works, mostly.',
    'Fine for occasional use.',
    "I'm on the fence about it.",
  ],
};

/** Aspects people comment on, per category; combined with adjectives below. */
const ASPECTS: Record<string, string[]> = {
  electronics: ['performance', 'buttons', 'setup', 'speed'],
  home_kitchen: ['handle', 'lid', 'coating', 'cleanup', 'heat distribution'],
  beauty: ['scent', 'texture', 'pump', 'finish', 'packaging'],
  sports_outdoors: ['grip', 'padding', 'zipper', 'weight', 'stitching'],
  apparel: ['fit', 'fabric', 'stitching', 'sizing', 'colour'],
  grocery: ['taste', 'freshness', 'flavour', 'texture'],
  pet_supplies: ['smell', 'size', 'material', 'stitching'],
  automotive: ['fit', 'installation', 'grip', 'finish'],
  office_products: ['ink flow', 'paper quality', 'binding', 'clip'],
  garden: ['connector', 'coating', 'build', 'spray'],
  toys_games: ['pieces', 'paint', 'instructions', 'box'],
  books: ['plot', 'writing', 'ending', 'characters', 'print quality'],
  health: ['taste', 'capsule size', 'effect', 'smell'],
  baby: ['straps', 'material', 'size', 'valve'],
};
const ADJ: Record<Pol, string[]> = {
  P: ['great', 'excellent', 'better than expected', 'solid', 'spot on', 'fantastic', 'really nice'],
  N: ['terrible', 'disappointing', 'awful', 'worse than expected', 'a joke', 'poor', 'flimsy'],
  M: ['okay', 'average', 'acceptable', 'fine', 'so-so', 'decent'],
};

const GENERIC_ASPECTS = ['build quality', 'price', 'packaging', 'design', 'quality', 'size', 'finish'];
/** Families whose own aspects say more than their category's. */
const FAMILY_ASPECTS: Record<string, string[]> = {
  earbuds: ['battery life', 'sound quality', 'bluetooth connection', 'fit', 'microphone'],
  headphones: ['battery life', 'sound quality', 'noise cancelling', 'ear cushions'],
  bluetooth_speaker: ['battery life', 'sound quality', 'bass', 'range'],
  power_bank: ['charging speed', 'capacity', 'cable'],
  phone_charger: ['charging speed', 'plug', 'cable'],
  smart_watch: ['battery life', 'screen', 'app', 'strap'],
  monitor: ['screen', 'colours', 'stand', 'brightness'],
  mouse: ['sensor', 'buttons', 'battery life', 'scroll wheel'],
  keyboard: ['switches', 'keycaps', 'lighting', 'software'],
  coffee_maker: ['carafe', 'timer', 'coffee', 'cleanup'],
  air_fryer: ['basket', 'cleanup', 'timer', 'noise'],
  hair_dryer: ['airflow', 'heat settings', 'noise', 'cord'],
  running_shoes: ['fit', 'cushioning', 'sole', 'laces'],
  dog_food: ['kibble size', 'ingredients', 'smell', 'bag'],
  mystery_novel: ['plot', 'writing', 'ending', 'characters'],
};
function aspectsOf(f: Family): string[] {
  return [...(FAMILY_ASPECTS[f.key] ?? ASPECTS[f.category]), ...GENERIC_ASPECTS];
}
const PLURAL_ASPECTS = new Set([
  'pieces',
  'straps',
  'instructions',
  'characters',
  'buttons',
  'ear cushions',
  'colours',
  'heat settings',
  'switches',
  'keycaps',
  'laces',
  'ingredients',
]);

/** What a negated sentence says: "isn't bad at all" is praise, "is not great" a complaint. */
const NEGATED: Record<'P' | 'N', string[]> = {
  P: [
    "{be}n't bad at all",
    "{be}n't a problem at all",
    "{be}n't an issue",
    '{be} not cheap-feeling at all',
    "{be}n't disappointing in the slightest",
  ],
  N: [
    '{be} not great',
    '{be} not what I expected',
    '{be} not good, not even close',
    "{be}n't as advertised",
    '{be} not worth it',
  ],
};

/** "The fit is great." or, with negation carrying the polarity, "The fit isn't bad at all." */
function aspectSentence(rng: Rng, aspect: string, pol: Pol, negate = true): string {
  const be = PLURAL_ASPECTS.has(aspect) ? 'are' : 'is';
  if (pol !== 'M' && negate && rng.chance(0.35)) return `The ${aspect} ${rng.pick(NEGATED[pol]).replace('{be}', be)}.`;
  return `The ${aspect} ${be} ${rng.pick(ADJ[pol])}.`;
}

const SARCASM = [
  'Great, another purchase that died after a week.',
  'Love how it broke on day two. Five stars for creativity, I guess.',
  'Wow, what a bargain: it lasted almost a whole weekend.',
  'Perfect, if you enjoy returning things.',
  'Absolutely amazing how fast this fell apart.',
  'Thanks for the "premium quality", it snapped in half.',
  'Best paperweight I have ever bought.',
  'Fantastic. Just fantastic. Now I get to buy another one.',
  'Really impressive how it manages to fail at its only job.',
];

/** Happy reviews with grumpy words. */
const TWISTED_POSITIVE = [
  "My only complaint is that I didn't buy it sooner.",
  'I was expecting it to be awful, and I was wrong.',
  'Ugh, now I need one for every room.',
  'I hate how much I love this.',
  'No more broken, leaky, cheap ones for me.',
  'Zero problems, zero regrets.',
];

const OPENINGS = [
  'Bought this for my {person}.',
  'I ordered the {variant} after reading the reviews.',
  'This is the second one I have bought.',
  'Quick review after {period} of use.',
  'Long-time customer here.',
  'Replacing my old {noun}, which finally gave up.',
  'Got this on sale.',
  'Picked this up as a gift.',
  'Update after {period}:',
  'I did a lot of research before buying.',
  'My neighbour, Mr Müller, recommended this one.',
  'Ordered on a Monday, arrived on Wednesday.',
];
const PERSONS = [
  'wife',
  'husband',
  'son',
  'daughter',
  'mom',
  'dad',
  'partner',
  'roommate',
  'grandma',
  'best friend',
  'sister',
  'brother',
];
const PERIODS = ['a week', 'two weeks', 'a month', 'three months', 'six months', 'a year', 'a few days'];

const CLOSINGS: Record<number, string[]> = {
  5: [
    'Highly recommend!',
    'Would buy again.',
    'Five stars.',
    'Love it!',
    'Recommended.',
    'Merci, you made my week!',
    'Worth every penny.',
  ],
  4: [
    'Minus one star for the {aspect}.',
    'Recommended, with small reservations.',
    'Would buy again.',
    'Good, not great.',
    'Recommended.',
    'Four stars.',
  ],
  3: [
    'Three stars.',
    'Might work for you; it is fine for me.',
    'Hard to recommend, hard to hate.',
    'Good, not great.',
    'Make of that what you will.',
  ],
  2: ['Would not buy again.', 'Two stars for the looks.', 'Disappointed.', 'Hard to recommend.', 'Not for me.'],
  1: ['Avoid.', 'Returned.', 'Zero stars if I could.', 'Do not buy.', 'Save your money.', 'Disappointed.'],
};
const TITLES: Record<number, string[]> = {
  5: [
    'Love it!',
    'Perfect',
    'Great value',
    'Five stars',
    'Exactly what I needed',
    'Does the job',
    'Wow',
    'Best purchase this year',
    'Très bien',
  ],
  4: ['Very good', 'Good, not great', 'Solid', 'Does the job', 'Pretty good', 'Almost perfect'],
  3: ["It's okay", 'Meh', 'Mixed feelings', 'Does the job', 'Good, not great', 'Average'],
  2: ['Disappointed', 'Not great', 'Meh', 'Could be better', 'Not worth it'],
  1: ['Do not buy', 'Broke after a week', 'Waste of money', 'Great... not', 'Five stars my foot', 'Awful'],
};
const EMOJI: Record<Sentiment, string[]> = {
  positive: ['👍', '😍', '🙂', '⭐⭐⭐⭐⭐', '🙌', '❤️'],
  neutral: ['🤷', '😐', '🙂'],
  negative: ['👎', '😡', '🙄', '😤', '🤦'],
};
const ACCENTED = [
  'The crème brûlée scent one was sold out, so I got the plain one.',
  'I use it at the café where I work.',
  'Took it on our trip to Zürich, no problems.',
  'Déjà vu: my last one had the same box.',
  'Naïve me thought the bigger size would be the same price.',
];

/**
 * The polarity of each body sentence, for a review of `rating` with `n` sentences: mostly one
 * way, with the odd exception real reviews have (a 5-star review's minor complaint, the one thing
 * a 1-star review liked), and a 3-star review mixed.
 */
function plan(rng: Rng, rating: number, n: number): Pol[] {
  const main: Pol = rating >= 4 ? 'P' : rating <= 2 ? 'N' : 'M';
  const out: Pol[] = new Array(n).fill(main);
  const set = (pol: Pol) => {
    const free = out.map((p, i) => (p === main ? i : -1)).filter((i) => i >= 0);
    if (free.length > 1) out[rng.pick(free)] = pol;
  };
  switch (rating) {
    case 5:
      if (rng.chance(0.45)) set('M');
      if (rng.chance(0.3)) set('N');
      break;
    case 4:
      if (rng.chance(0.75)) set('N');
      if (rng.chance(0.4)) set('M');
      if (rng.chance(0.2)) set('N');
      break;
    case 3:
      for (let i = 0; i < n; i++)
        out[i] = rng.weighted([
          ['M', 0.24],
          ['P', 0.38],
          ['N', 0.38],
        ] as const);
      break;
    case 2:
      if (rng.chance(0.65)) set('P');
      if (rng.chance(0.4)) set('M');
      if (rng.chance(0.2)) set('P');
      break;
    case 1:
      if (rng.chance(0.25)) set('P');
      if (rng.chance(0.4)) set('M');
      break;
  }
  return out;
}

function wordCount(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

function nounOf(f: Family): string {
  return f.names[0]
    .replace(/\{\w+\}/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function productName(rng: Rng, f: Family): string {
  const noun = f.noun.replace(/\{(\w+)\}/g, (_, n: string) => rng.pick(f.attrs.find((a) => a.name === n)!.values));
  return `${rng.pick(CATEGORY_BRANDS[f.category])} ${noun}`;
}

function fillSlots(rng: Rng, s: string, f: Family): string {
  return s
    .replace(/\{noun\}/g, nounOf(f))
    .replace(/\{person\}/g, () => rng.pick(PERSONS))
    .replace(/\{period\}/g, () => rng.pick(PERIODS))
    .replace(/\{aspect\}/g, () => rng.pick(aspectsOf(f)))
    .replace(/\{variant\}/g, () => {
      const a = rng.pick(f.attrs);
      return `${rng.pick(a.values).toLowerCase()} one`;
    });
}

/** One body sentence; an aspect is talked about once per review (`used`). */
function bodySentence(rng: Rng, f: Family, pol: Pol, used: Set<string>): string {
  if (rng.chance(0.4)) {
    const aspects = aspectsOf(f).filter((a) => !used.has(a));
    if (aspects.length) {
      const aspect = rng.pick(aspects);
      used.add(aspect);
      return aspectSentence(rng, aspect, pol);
    }
  }
  return rng.pick(GENERIC[pol]);
}

/** "The fit is great, but the stitching is poor.": praise and a complaint in one sentence. */
function butSentence(rng: Rng, f: Family, used: Set<string>, first: Pol, second: Pol): string | null {
  const aspects = rng.sample(
    aspectsOf(f).filter((a) => !used.has(a)),
    2,
  );
  if (aspects.length < 2) return null;
  for (const a of aspects) used.add(a);
  const a = aspectSentence(rng, aspects[0], first, false);
  const b = aspectSentence(rng, aspects[1], second, false);
  return `${a.slice(0, -1)}, but ${b[0].toLowerCase()}${b.slice(1)}`;
}

/** Straight quotes and apostrophes to typographic ones, as phones type them. */
function curly(s: string): string {
  return s
    .replace(/(^|[\s(])"/g, '$1“')
    .replace(/"/g, '”')
    .replace(/'/g, '’');
}

export interface ReviewOptions {
  /** Share of reviews whose text was written for another rating (star/text mismatch). */
  pMismatch: number;
}

export const REVIEW_DEFAULTS: ReviewOptions = { pMismatch: 0.08 };

interface Sentence {
  text: string;
  pol: Pol;
}

function makeReview(rng: Rng, f: Family, textRating: number): string {
  const sentiment = sentimentOf(textRating);
  const target = rng.chance(0.7) ? rng.range(34, 80) : rng.range(60, 148);
  const opening = rng.chance(0.55) ? fillSlots(rng, rng.pick(OPENINGS), f) : '';
  const closing = rng.chance(0.6) ? fillSlots(rng, rng.pick(CLOSINGS[textRating]), f) : '';
  const emoji = rng.chance(0.12) ? rng.pick(EMOJI[sentiment]) : '';
  const body: Sentence[] = [];
  if (textRating <= 2 && rng.chance(0.22)) body.push({ text: fillSlots(rng, rng.pick(SARCASM), f), pol: 'N' });
  if (textRating >= 4 && rng.chance(0.12)) body.push({ text: rng.pick(TWISTED_POSITIVE), pol: 'P' });
  if (rng.chance(0.06)) body.push({ text: rng.pick(ACCENTED), pol: 'M' });

  // Sentences average ~8 words: plan enough of them for the target length.
  const fixed = wordCount(opening) + wordCount(closing) + (emoji ? 1 : 0);
  let words = fixed + body.reduce((n, x) => n + wordCount(x.text), 0);
  const used = new Set<string>();
  const pols = plan(rng, textRating, Math.max(1, Math.round((target - words) / 8)));
  for (let i = 0; i < pols.length; i++) {
    const pol = pols[i];
    let text: string | null = null;
    let kind = pol;
    // The 4-star "good, but" and the 2-star "looks nice, but" sentence: both at once ('M').
    if (((textRating === 4 && pol === 'N') || (textRating === 2 && pol === 'P')) && rng.chance(0.5)) {
      text = butSentence(rng, f, used, 'P', 'N');
      if (text) kind = 'M';
    }
    text ??= fillSlots(rng, bodySentence(rng, f, pol, used), f);
    if (body.some((x) => x.text === text)) continue;
    if (words + wordCount(text) > 148 && body.length > 0) break; // 148: room for "Pros:"/"Cons:"
    body.push({ text, pol: kind });
    words += wordCount(text);
  }
  rng.shuffle(body);
  // Keep it within 30–150 words: pad with short neutral remarks, trim from the end of the body.
  for (let guard = 0; words < 30 && guard < 20; guard++) {
    const text = rng.pick(GENERIC.M);
    if (body.some((x) => x.text === text)) continue;
    body.push({ text, pol: 'M' });
    words += wordCount(text);
  }
  while (words > 148 && body.length > 1) words -= wordCount(body.pop()!.text);

  let text: string;
  const of = (pol: Pol) => body.filter((x) => x.pol === pol).map((x) => x.text);
  if (of('P').length && of('N').length && rng.chance(0.25)) {
    // A Pros/Cons list on separate lines, general remarks first.
    text = [
      [opening, ...of('M')].filter(Boolean).join(' '),
      `Pros: ${of('P').join(' ')}`,
      `Cons: ${of('N').join(' ')}`,
      closing,
    ]
      .filter(Boolean)
      .join('\n');
  } else if (body.length >= 3 && rng.chance(0.1)) {
    const cut = rng.range(1, body.length - 1);
    const first = [opening, ...body.slice(0, cut).map((x) => x.text)].filter(Boolean).join(' ');
    text = `${first}\n\n${[...body.slice(cut).map((x) => x.text), closing].filter(Boolean).join(' ')}`;
  } else {
    text = [opening, ...body.map((x) => x.text), closing].filter(Boolean).join(' ');
  }
  if (emoji) text += ` ${emoji}`;
  if (rng.chance(0.15)) text = curly(text);
  if (rng.chance(0.04)) text = text.replace(/\. /g, '.. ');
  return text;
}

export function generateReviews(rng: Rng, total: number, opt: ReviewOptions = REVIEW_DEFAULTS): ReviewRow[] {
  const rows: ReviewRow[] = [];
  for (let i = 1; i <= total; i++) {
    const f = rng.pick(FAMILY_LIST);
    const rating = rng.weighted(RATING_WEIGHTS);
    const textRating = rng.chance(opt.pMismatch) ? rng.range(1, 5) : rating;
    const review = makeReview(rng, f, textRating);
    let title = rng.pick(TITLES[textRating]);
    if (rng.chance(0.1)) title = title.toUpperCase();
    if (rng.chance(0.08)) title += ` ${rng.pick(EMOJI[sentimentOf(textRating)])}`;
    rows.push({
      review_id: `rv${String(i).padStart(5, '0')}`,
      product: productName(rng, f),
      title,
      review,
      rating,
      sentiment: sentimentOf(rating),
    });
  }
  return rows;
}
