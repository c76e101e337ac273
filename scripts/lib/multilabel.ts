/**
 * products-multilabel.csv: product title + description → the shop categories it is listed under
 * (one or more of MULTI_LABELS, `|`-separated), for `task: multi_label_classification`.
 *
 * Each product is a base item (which usually fixes one category) plus modifiers that may add
 * another (a "waterproof" item is also outdoor, "for toddlers" makes it kids, "bamboo" eco, …).
 * What keeps the labels from reading straight off the text:
 *  - items that sit in two categories at once or in either (a "water bottle" is sports and often
 *    kitchen), and modifiers that only sometimes add their category (a merchant's choice);
 *  - generic words shared by every category (colours, sizes, "2 pack", "new");
 *  - a few percent of labels missing or added without a cue (catalogue noise);
 *  - typos and odd casing.
 */
import type { Cell } from './csv.js';
import { maybeTypo } from './noise.js';
import type { Rng } from './prng.js';

export const MULTI_LABELS = ['electronics', 'kitchen', 'outdoor', 'kids', 'eco', 'gift', 'sports'] as const;
type Label = (typeof MULTI_LABELS)[number];

/** Base items: name, the categories they carry for sure, and ones they carry half of the time. */
const ITEMS: ReadonlyArray<readonly [string, Label[], Label[]]> = [
  ['bluetooth speaker', ['electronics'], ['outdoor']],
  ['headphones', ['electronics'], ['sports']],
  ['power bank', ['electronics'], ['outdoor']],
  ['smart watch', ['electronics', 'sports'], ['gift']],
  ['desk lamp', ['electronics'], []],
  ['chef knife', ['kitchen'], ['gift']],
  ['frying pan', ['kitchen'], []],
  ['water bottle', ['sports'], ['kitchen', 'outdoor']],
  ['lunch box', ['kitchen'], ['kids']],
  ['coffee grinder', ['kitchen', 'electronics'], []],
  ['tent', ['outdoor'], ['sports']],
  ['hiking backpack', ['outdoor', 'sports'], []],
  ['camping stove', ['outdoor'], ['kitchen']],
  ['picnic blanket', ['outdoor'], ['gift']],
  ['building blocks', ['kids'], ['gift']],
  ['plush bear', ['kids'], ['gift']],
  ['yoga mat', ['sports'], ['eco']],
  ['running shoes', ['sports'], ['outdoor']],
  ['tennis racket', ['sports'], []],
  ['scented candle', ['gift'], ['eco']],
  ['notebook', [], ['eco', 'gift']],
  ['toothbrush', [], ['eco', 'kids']],
];

/** Modifiers: words, the category they may add, and how often they do. */
const MODIFIERS: ReadonlyArray<readonly [string, Label | null, number]> = [
  ['waterproof', 'outdoor', 0.7],
  ['rugged', 'outdoor', 0.5],
  ['for toddlers', 'kids', 0.85],
  ['kids size', 'kids', 0.8],
  ['bamboo', 'eco', 0.8],
  ['recycled', 'eco', 0.75],
  ['plastic-free', 'eco', 0.85],
  ['gift box', 'gift', 0.85],
  ['with wrapping', 'gift', 0.7],
  ['rechargeable', 'electronics', 0.6],
  ['usb-c', 'electronics', 0.7],
  ['stainless steel', 'kitchen', 0.3],
  ['lightweight', null, 0],
  ['black', null, 0],
  ['blue', null, 0],
  ['2 pack', null, 0],
  ['large', null, 0],
  ['new', null, 0],
];

const BRANDS = ['Nordvik', 'Acorn & Co', 'Peakline', 'Brightline', 'Little Fox', 'Kitchara', 'Verda'];
const BLURBS = [
  'Ships in plain packaging.',
  'Loved by thousands of customers.',
  'Easy to clean.',
  'Two-year warranty.',
  'Compact and easy to store.',
  'Made to last.',
  '',
];

export interface MultiLabelRow extends Record<string, Cell> {
  product_id: string;
  title: string;
  description: string;
  categories: string;
}

export const MULTI_LABEL_COLUMNS = ['product_id', 'title', 'description', 'categories'] as const;

export function generateMultiLabel(rng: Rng, rows: number): MultiLabelRow[] {
  const out: MultiLabelRow[] = [];
  for (let i = 0; i < rows; i++) {
    const [item, sure, maybe] = rng.pick(ITEMS);
    const labels = new Set<Label>(sure);
    for (const m of maybe) if (rng.chance(0.5)) labels.add(m);
    const mods = rng.sample(MODIFIERS, rng.int(3));
    for (const [, label, p] of mods) if (label && rng.chance(p)) labels.add(label);
    // Catalogue noise: a label dropped, or one added without a cue.
    if (labels.size > 1 && rng.chance(0.04)) labels.delete(rng.pick([...labels]));
    if (rng.chance(0.04)) labels.add(rng.pick(MULTI_LABELS));
    const words = [...mods.map(([w]) => w), item].join(' ');
    const title = maybeTypo(rng, `${rng.pick(BRANDS)} ${words}`, 0.05);
    const description = `${rng.pick(BLURBS)} ${rng.pick(BLURBS)}`.trim();
    out.push({
      product_id: `p${String(i + 1).padStart(5, '0')}`,
      title: rng.chance(0.2) ? title.toLowerCase() : title,
      description,
      categories: MULTI_LABELS.filter((l) => labels.has(l)).join('|'),
    });
  }
  return out;
}
