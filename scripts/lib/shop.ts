/**
 * The retrieval and ranking samples: one shop with a product catalogue, the queries shoppers typed,
 * graded ESCI judgements of some products per query, and two training views of those judgements.
 *
 *  - catalogue.csv  product_id, title, brand, category, description. Every judged product, plus about
 *                   a quarter more that no query judged (retrieval must find the judged ones among them);
 *                   a title judged for two queries is one product.
 *  - queries.csv    query_id, query, split
 *  - qrels.csv      query_id, product_id, esci_label, split: the graded judgements (Exact, Substitute,
 *                   Complement, Irrelevant), with the annotator disagreement of esci.csv.
 *  - pairs.csv      query_id, query, product_id, product_title, esci_label, split: the same judgements
 *                   as text pairs, for a cross-encoder (`recsys rank`).
 *  - triplets.csv   query_id, query, positive, negative, split: (query, Exact title, hard negative title)
 *                   for a bi-encoder; the negative is an Irrelevant product judged for the same query (they
 *                   share words with it), else a Complement, else a product judged for another query.
 *
 * The split (train 70%, validation 10%, test 20%) is drawn per query, so every file agrees on which
 * queries are held out. Queries, products and labels come from the esci.csv generator (scripts/lib/esci.ts)
 * on a stream of their own, so esci.csv is unchanged.
 */
import { CATEGORY_BRANDS, FAMILY_LIST } from './catalog.js';
import {
  ESCI_DEFAULTS,
  type EsciLabel,
  FLIPS,
  makeQuery,
  type Product,
  productFor,
  QUERY_MIXES,
  randomProduct,
  renderDescription,
  renderTitle,
} from './esci.js';
import type { Rng } from './prng.js';

export const SHOP_COLUMNS = {
  catalogue: ['product_id', 'title', 'brand', 'category', 'description'],
  queries: ['query_id', 'query', 'split'],
  qrels: ['query_id', 'product_id', 'esci_label', 'split'],
  pairs: ['query_id', 'query', 'product_id', 'product_title', 'esci_label', 'split'],
  triplets: ['query_id', 'query', 'positive', 'negative', 'split'],
} as const;
export type ShopFile = keyof typeof SHOP_COLUMNS;
export const SHOP_FILES: Record<ShopFile, string> = {
  catalogue: 'catalogue.csv',
  queries: 'queries.csv',
  qrels: 'qrels.csv',
  pairs: 'pairs.csv',
  triplets: 'triplets.csv',
};
/** Queries at --scale 1. */
export const SHOP_QUERIES = 500;
/** Unjudged products added to the catalogue, as a share of the judged ones. */
export const SHOP_UNJUDGED = 0.25;
const SPLITS = [
  ['train', 0.7],
  ['validation', 0.1],
  ['test', 0.2],
] as const;

type Row = Record<string, string>;
export type Shop = Record<ShopFile, Row[]>;

interface CatalogueEntry {
  id: string;
  title: string;
  row: Row;
}

export function generateShop(rng: Rng, nQueries: number): Shop {
  const byTitle = new Map<string, CatalogueEntry>();
  const shop: Shop = { catalogue: [], queries: [], qrels: [], pairs: [], triplets: [] };
  const addProduct = (p: Product, title: string): CatalogueEntry => {
    let entry = byTitle.get(title);
    if (!entry) {
      const id = `p${String(byTitle.size + 1).padStart(5, '0')}`;
      const row = { product_id: id, title, brand: p.brand, category: p.family.category };
      entry = { id, title, row: { ...row, description: renderDescription(rng, p) } };
      byTitle.set(title, entry);
      shop.catalogue.push(entry.row);
    }
    return entry;
  };

  const judged: { queryId: string; query: string; split: string; items: [CatalogueEntry, EsciLabel][] }[] = [];
  for (let qi = 1; qi <= nQueries; qi++) {
    const q = makeQuery(rng, ESCI_DEFAULTS.pTypo);
    const mix = rng.weighted(QUERY_MIXES);
    const split = rng.weighted(SPLITS);
    const queryId = `sq${String(qi).padStart(5, '0')}`;
    const n = rng.range(ESCI_DEFAULTS.minProducts, ESCI_DEFAULTS.maxProducts);
    const items: [CatalogueEntry, EsciLabel][] = [];
    for (let tries = 0; items.length < n && tries < n * 6; tries++) {
      let label = rng.weighted(mix);
      const p = productFor(rng, q, label);
      if (!p) continue;
      const entry = addProduct(p, renderTitle(rng, p, q.asked));
      if (items.some(([e]) => e === entry)) continue;
      if (rng.chance(ESCI_DEFAULTS.pFlip)) label = FLIPS[label];
      items.push([entry, label]);
    }
    shop.queries.push({ query_id: queryId, query: q.text, split });
    judged.push({ queryId, query: q.text, split, items });
  }
  const unjudged = Math.round(byTitle.size * SHOP_UNJUDGED);
  for (let i = 0; i < unjudged; i++) {
    const family = rng.pick(FAMILY_LIST);
    const p = randomProduct(rng, family, {}, rng.pick(CATEGORY_BRANDS[family.category]));
    addProduct(p, renderTitle(rng, p, {}));
  }

  for (const { queryId, query, split, items } of judged) {
    for (const [e, label] of items) {
      shop.qrels.push({ query_id: queryId, product_id: e.id, esci_label: label, split });
      shop.pairs.push({ query_id: queryId, query, product_id: e.id, product_title: e.title, esci_label: label, split });
    }
    const negatives = [
      ...items.filter(([, l]) => l === 'Irrelevant'),
      ...items.filter(([, l]) => l === 'Complement'),
    ].map(([e]) => e.title);
    for (const [e, label] of items) {
      if (label !== 'Exact') continue;
      const negative = negatives.length ? rng.pick(negatives) : pickOther(rng, judged, queryId);
      shop.triplets.push({ query_id: queryId, query, positive: e.title, negative, split });
    }
  }
  return shop;
}

/** A product title judged for another query (a random, easy negative). */
function pickOther(rng: Rng, judged: { queryId: string; items: [CatalogueEntry, EsciLabel][] }[], self: string) {
  for (;;) {
    const other = rng.pick(judged);
    if (other.queryId !== self && other.items.length) return rng.pick(other.items)[0].title;
  }
}
