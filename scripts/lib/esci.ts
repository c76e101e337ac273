/**
 * esci.csv: query–product relevance with the four Amazon ESCI labels.
 *
 * A query names a product family (maybe with a brand and one or two key attributes, typos and odd
 * casing); several products are then judged against it, each drawn for a label:
 *  - Exact: the same family with every attribute and brand the query asked for;
 *  - Substitute: the same family with one asked-for attribute (or the brand) changed, or a
 *    related family ("kettlebell" for "dumbbells");
 *  - Complement: an accessory ("ear tips" for "wireless earbuds", filters for a coffee maker);
 *  - Irrelevant: a product that does not fit (a case for another phone model), a hard negative
 *    sharing words with the query ("mouse trap" for "gaming mouse", "dog shampoo" for
 *    "shampoo"), or something unrelated.
 * Titles leave out attributes at random (so an Exact may not show the asked-for colour), and a
 * few labels are flipped between neighbours (Exact↔Substitute, Complement→Irrelevant), as
 * annotators disagree. The mix is imbalanced like the real set: Exact most common, Complement
 * rarest.
 */
import {
  CATEGORY_BLURBS,
  CATEGORY_BRANDS,
  FAMILY,
  FAMILY_LIST,
  GENERIC_BLURBS,
  TITLE_TAILS,
  type Family,
} from './catalog.js';
import { maybeTypo, queryCase, titleCase } from './noise.js';
import type { Rng } from './prng.js';

export const ESCI_LABELS = ['Exact', 'Substitute', 'Complement', 'Irrelevant'] as const;
export type EsciLabel = (typeof ESCI_LABELS)[number];

export interface Product {
  family: Family;
  brand: string;
  values: Record<string, string>;
}

export interface QuerySpec {
  family: Family;
  brand: string | null;
  /** Attributes the query asked for. */
  asked: Record<string, string>;
  text: string;
}

export interface EsciRow extends Record<string, string> {
  query_id: string;
  query: string;
  product_title: string;
  product_description: string;
  esci_label: EsciLabel;
}

/** Accessories whose titles say what they are for ("Ear Tips for Wireless Earbuds"). */
const SAYS_WHAT_FOR = new Set([
  'earbud_case',
  'ear_tips',
  'straw_lid',
  'air_fryer_liners',
  'diffuser',
  'brush_heads',
  'hose_nozzle',
  'puzzle_mat',
  'stroller_organizer',
  'bottle_brush',
  'oil_filter',
  'keycaps',
  'mattress_protector',
  'insoles',
  'dumbbell_rack',
  'tent_stakes',
]);

const PARENTS: Record<string, Family[]> = {};
for (const f of FAMILY_LIST) {
  for (const a of f.accessories) {
    PARENTS[a] ??= [];
    PARENTS[a].push(f);
  }
}

const STOPWORDS = new Set(['for', 'with', 'set', 'pack', 'of', 'and', 'the', 'a', 'to', 'up', 'in']);

function nameTokens(f: Family): Set<string> {
  const words = [...f.names, f.noun]
    .join(' ')
    .toLowerCase()
    .replace(/\{\w+\}/g, ' ')
    .split(/[^a-z0-9]+/);
  return new Set(words.filter((w) => w.length > 1 && !STOPWORDS.has(w)));
}

/** Families that share a name word with `f` but are neither it, its substitutes nor accessories. */
const HARD_NEGATIVES: Record<string, Family[]> = {};
for (const f of FAMILY_LIST) {
  const mine = nameTokens(f);
  HARD_NEGATIVES[f.key] = FAMILY_LIST.filter(
    (g) =>
      g !== f &&
      !f.related.includes(g.key) &&
      !f.accessories.includes(g.key) &&
      !g.accessories.includes(f.key) &&
      [...nameTokens(g)].some((w) => mine.has(w)),
  );
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => values[name]);
}

export function randomProduct(rng: Rng, family: Family, fixed: Record<string, string> = {}, brand?: string): Product {
  const values: Record<string, string> = {};
  for (const a of family.attrs)
    values[a.name] =
      fixed[a.name] !== undefined && a.values.includes(fixed[a.name]) ? fixed[a.name] : rng.pick(a.values);
  return { family, brand: brand ?? rng.pick(CATEGORY_BRANDS[family.category]), values };
}

/** How a shopper types an attribute value: lower case, sometimes without the apostrophe. */
function queryValue(rng: Rng, v: string): string {
  let s = v.toLowerCase();
  if (s.includes("'s") && rng.chance(0.5)) s = s.replace("'s", 's');
  if (/^size /.test(s) && rng.chance(0.3)) s = s.slice(5);
  return s;
}

export function makeQuery(rng: Rng, pTypo: number): QuerySpec {
  const family = rng.pick(FAMILY_LIST);
  const product = randomProduct(rng, family);
  const asked: Record<string, string> = {};
  const name = rng.pick(family.names);
  for (const m of name.matchAll(/\{(\w+)\}/g)) asked[m[1]] = product.values[m[1]];
  // A name that spells a value ("a4 paper", "matte lipstick", "12 cup coffee maker") asks for it.
  for (const a of family.attrs) {
    const v = a.values.find((v) => ` ${name} `.includes(` ${v.toLowerCase()} `));
    if (v && asked[a.name] === undefined) {
      asked[a.name] = v;
      product.values[a.name] = v;
    }
  }
  const keyAttrs = family.attrs.filter((a) => a.key && asked[a.name] === undefined);
  const k = Math.min(
    keyAttrs.length,
    rng.weighted([
      [0, 0.4],
      [1, 0.42],
      [2, 0.18],
    ] as const),
  );
  const extra = rng.sample(keyAttrs, k);
  for (const a of extra) asked[a.name] = product.values[a.name];
  const brand = rng.chance(0.12) ? product.brand : null;

  const base = fill(name, Object.fromEntries(Object.entries(asked).map(([n, v]) => [n, queryValue(rng, v)])));
  const before: string[] = [];
  const after: string[] = [];
  for (const a of extra) (rng.chance(0.7) ? before : after).push(queryValue(rng, asked[a.name]));
  let text = [brand?.toLowerCase(), ...before, base, ...after].filter(Boolean).join(' ');
  text = queryCase(rng, maybeTypo(rng, text, pTypo));
  return { family, brand, asked, text };
}

export function renderTitle(rng: Rng, p: Product, asked: Record<string, string>): string {
  const used = new Set<string>();
  const noun = p.family.noun.replace(/\{(\w+)\}/g, (_, n: string) => {
    used.add(n);
    return p.values[n];
  });
  const pre: string[] = [];
  const post: string[] = [];
  for (const a of rng.shuffle([...p.family.attrs])) {
    if (used.has(a.name)) continue;
    // An attribute the query asked about usually shows; others often do not.
    if (!rng.chance(asked[a.name] !== undefined ? 0.82 : 0.6)) continue;
    (rng.chance(0.35) ? pre : post).push(p.values[a.name]);
  }
  let title = [rng.chance(0.95) ? p.brand : '', ...pre, noun].filter(Boolean).join(' ');
  const parents = PARENTS[p.family.key];
  if (parents && SAYS_WHAT_FOR.has(p.family.key) && rng.chance(0.55))
    title += ` for ${titleCase(rng.pick(parents).names[0])}`;
  if (post.length) title += rng.pick([', ', ' - ', ' | ', ', ']) + post.join(', ');
  if (rng.chance(0.3)) title += rng.pick([' - ', ', ', ' | ']) + rng.pick(TITLE_TAILS);
  return title;
}

export function renderDescription(rng: Rng, p: Product): string {
  const sentences = rng.sample(p.family.blurbs, rng.range(1, 2));
  if (rng.chance(0.5)) sentences.push(rng.pick(CATEGORY_BLURBS[p.family.category]));
  if (rng.chance(0.3)) sentences.push(rng.pick(GENERIC_BLURBS));
  if (rng.chance(0.35)) {
    const a = rng.pick(p.family.attrs);
    sentences.push(a.name === 'colour' ? `Colour: ${p.values[a.name]}.` : `${titleCase(a.name)}: ${p.values[a.name]}.`);
  }
  return sentences.join(' ');
}

/** A product judged `label` against the query, or null when this query has none of that kind. */
export function productFor(rng: Rng, q: QuerySpec, label: EsciLabel): Product | null {
  const f = q.family;
  switch (label) {
    case 'Exact':
      return randomProduct(rng, f, q.asked, q.brand ?? undefined);
    case 'Substitute': {
      const changeable = f.attrs.filter((a) => q.asked[a.name] !== undefined && !a.fit && a.values.length > 1);
      const options: (() => Product)[] = [];
      if (changeable.length) {
        options.push(() => {
          const a = rng.pick(changeable);
          const other = rng.pick(a.values.filter((v) => v !== q.asked[a.name]));
          return randomProduct(rng, f, { ...q.asked, [a.name]: other }, q.brand ?? undefined);
        });
      }
      if (q.brand)
        options.push(() =>
          randomProduct(rng, f, q.asked, rng.pick(CATEGORY_BRANDS[f.category].filter((b) => b !== q.brand))),
        );
      if (f.related.length) options.push(() => randomProduct(rng, FAMILY[rng.pick(f.related)], q.asked));
      return options.length ? rng.pick(options)() : null;
    }
    case 'Complement':
      // An accessory that fits: it takes the query's values for attributes of the same name.
      return f.accessories.length ? randomProduct(rng, FAMILY[rng.pick(f.accessories)], q.asked) : null;
    case 'Irrelevant': {
      const fit = f.attrs.filter((a) => a.fit && q.asked[a.name] !== undefined);
      const hard = HARD_NEGATIVES[f.key];
      const r = rng.next();
      if (fit.length && r < 0.3) {
        const a = rng.pick(fit);
        return randomProduct(
          rng,
          f,
          { ...q.asked, [a.name]: rng.pick(a.values.filter((v) => v !== q.asked[a.name])) },
          q.brand ?? undefined,
        );
      }
      if (hard.length && r < 0.75) return randomProduct(rng, rng.pick(hard));
      const others = FAMILY_LIST.filter((g) => g.category !== f.category);
      return randomProduct(rng, rng.pick(others));
    }
  }
}

/** Label mixes of three kinds of query: most are plain, some draw many substitutes, some are broad. */
export const QUERY_MIXES: [readonly (readonly [EsciLabel, number])[], number][] = [
  [
    [
      ['Exact', 0.54],
      ['Substitute', 0.19],
      ['Complement', 0.13],
      ['Irrelevant', 0.14],
    ],
    0.7,
  ],
  [
    [
      ['Exact', 0.3],
      ['Substitute', 0.5],
      ['Complement', 0.05],
      ['Irrelevant', 0.15],
    ],
    0.15,
  ],
  [
    [
      ['Exact', 0.68],
      ['Substitute', 0.08],
      ['Complement', 0.14],
      ['Irrelevant', 0.1],
    ],
    0.15,
  ],
];

/** Annotator disagreement: Exact and Substitute swap both ways; a Complement may be judged Irrelevant. */
export const FLIPS: Record<EsciLabel, EsciLabel> = {
  Exact: 'Substitute',
  Substitute: 'Exact',
  Complement: 'Irrelevant',
  Irrelevant: 'Irrelevant',
};

export interface EsciOptions {
  pTypo: number;
  /** Share of labels flipped to their neighbour (annotator disagreement). */
  pFlip: number;
  minProducts: number;
  maxProducts: number;
}

export const ESCI_DEFAULTS: EsciOptions = { pTypo: 0.08, pFlip: 0.05, minProducts: 4, maxProducts: 11 };

export function generateEsci(rng: Rng, targetRows: number, opt: EsciOptions = ESCI_DEFAULTS): EsciRow[] {
  const rows: EsciRow[] = [];
  for (let qi = 1; rows.length < targetRows; qi++) {
    const q = makeQuery(rng, opt.pTypo);
    const mix = rng.weighted(QUERY_MIXES);
    const n = Math.min(rng.range(opt.minProducts, opt.maxProducts), Math.max(2, targetRows - rows.length));
    const seen = new Set<string>();
    const queryId = `eq${String(qi).padStart(5, '0')}`;
    for (let i = 0, tries = 0; i < n && tries < n * 6; tries++) {
      let label = rng.weighted(mix);
      const p = productFor(rng, q, label);
      if (!p) continue;
      const title = renderTitle(rng, p, q.asked);
      if (seen.has(title)) continue;
      seen.add(title);
      if (rng.chance(opt.pFlip)) label = FLIPS[label];
      rows.push({
        query_id: queryId,
        query: q.text,
        product_title: title,
        product_description: renderDescription(rng, p),
        esci_label: label,
      });
      i++;
    }
  }
  return rows;
}
