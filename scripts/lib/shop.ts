/**
 * The retrieval and ranking samples: one shop with a product catalogue, the queries shoppers typed,
 * graded ESCI judgements, and two training views of those judgements.
 *
 *  - catalogue.csv  product_id, title, brand, category, description: the products drawn for the queries
 *                   (as esci.csv draws them, per label), plus a quarter more drawn for no query; a title
 *                   drawn twice is one product.
 *  - queries.csv    query_id, query, split
 *  - qrels.csv      query_id, product_id, esci_label, split: per query, every catalogue product of its own,
 *                   related and accessory families, and the products drawn for it, labelled by `judge`
 *                   (one rule for all), with the annotator disagreement of esci.csv (`FLIPS`). A product
 *                   a query does not judge is one the rule calls Irrelevant.
 *  - pairs.csv      query_id, query, product_id, product_title, esci_label, split: the same judgements
 *                   as text pairs, for a cross-encoder (`recsys rank`).
 *  - triplets.csv   query_id, query, positive, negative, split: (query, Exact title, hard negative title)
 *                   for a bi-encoder; the negative is an Irrelevant product judged for the same query
 *                   (often sharing its words), else a Complement, else a random catalogue product.
 *
 * The split (train 70%, validation 10%, test 20%) is drawn per query, so every file agrees on which
 * queries are held out. Queries and products come from the esci.csv generator (scripts/lib/esci.ts) on a
 * stream of their own, so esci.csv is unchanged.
 */
import { CATEGORY_BRANDS, FAMILY_LIST, type Family } from './catalog.js';
import {
  ESCI_DEFAULTS,
  type EsciLabel,
  FLIPS,
  makeQuery,
  type Product,
  productFor,
  QUERY_MIXES,
  type QuerySpec,
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
  /** The product the title was rendered from (the first one, when two products render the same title). */
  product: Product;
  row: Row;
}

/**
 * The judging rule: how an annotator who knows the product's attributes labels it for the query.
 *  - a product of any family that has a fit attribute the query asked for with another value (a case for
 *    another phone model): Irrelevant;
 *  - the query's family: Exact when the brand (if asked) and every asked attribute match, else Substitute;
 *  - a related family of the query's: Substitute; one of its accessories: Complement;
 *  - anything else: Irrelevant.
 * It agrees with the label each product was drawn for (`productFor`), so a drawn product and an unjudged
 * look-alike of it get the same label. Annotator disagreement (`FLIPS`) is applied on top by the caller.
 */
export function judge(q: QuerySpec, p: Product): EsciLabel {
  const f = q.family;
  const misfit = p.family.attrs.some(
    (a) => a.fit && q.asked[a.name] !== undefined && p.values[a.name] !== q.asked[a.name],
  );
  if (misfit) return 'Irrelevant';
  if (p.family === f) {
    const asked = Object.entries(q.asked).every(([name, v]) => p.values[name] === v);
    return asked && (q.brand === null || p.brand === q.brand) ? 'Exact' : 'Substitute';
  }
  if (f.related.includes(p.family.key)) return 'Substitute';
  if (f.accessories.includes(p.family.key)) return 'Complement';
  return 'Irrelevant';
}

/** Families whose every catalogue product a query of family `f` judges: its own, related and accessories. */
export function judgedFamilies(f: Family): Set<string> {
  return new Set([f.key, ...f.related, ...f.accessories]);
}

export function generateShop(rng: Rng, nQueries: number): Shop {
  return generateShopJudged(rng, nQueries).shop;
}

/** The shop, with what the judging rule saw: each product's attributes and each query's spec (for tests). */
export interface JudgedShop {
  shop: Shop;
  products: Map<string, Product>;
  queries: Map<string, QuerySpec>;
}

export function generateShopJudged(rng: Rng, nQueries: number): JudgedShop {
  const byTitle = new Map<string, CatalogueEntry>();
  const shop: Shop = { catalogue: [], queries: [], qrels: [], pairs: [], triplets: [] };
  const addProduct = (p: Product, title: string): CatalogueEntry => {
    let entry = byTitle.get(title);
    if (!entry) {
      const id = `p${String(byTitle.size + 1).padStart(5, '0')}`;
      const row = { product_id: id, title, brand: p.brand, category: p.family.category };
      entry = { id, title, product: p, row: { ...row, description: renderDescription(rng, p) } };
      byTitle.set(title, entry);
      shop.catalogue.push(entry.row);
    }
    return entry;
  };

  // First the catalogue: per query, products drawn for each label of its mix (as esci.csv draws them),
  // then products no query drew. The labels are given afterwards, by the rule, to every product of the
  // query's families, so that an unjudged product is one the rule calls Irrelevant.
  const queries: { queryId: string; spec: QuerySpec; split: string; drawn: CatalogueEntry[] }[] = [];
  for (let qi = 1; qi <= nQueries; qi++) {
    const q = makeQuery(rng, ESCI_DEFAULTS.pTypo);
    const mix = rng.weighted(QUERY_MIXES);
    const split = rng.weighted(SPLITS);
    const queryId = `sq${String(qi).padStart(5, '0')}`;
    const n = rng.range(ESCI_DEFAULTS.minProducts, ESCI_DEFAULTS.maxProducts);
    const drawn: CatalogueEntry[] = [];
    for (let tries = 0; drawn.length < n && tries < n * 6; tries++) {
      const p = productFor(rng, q, rng.weighted(mix));
      if (!p) continue;
      const entry = addProduct(p, renderTitle(rng, p, q.asked));
      if (drawn.includes(entry)) continue;
      rng.next(); // the draw that once flipped this label; kept so the catalogue's titles stay the same
      drawn.push(entry);
    }
    shop.queries.push({ query_id: queryId, query: q.text, split });
    queries.push({ queryId, spec: q, split, drawn });
  }
  const unjudged = Math.round(byTitle.size * SHOP_UNJUDGED);
  for (let i = 0; i < unjudged; i++) {
    const family = rng.pick(FAMILY_LIST);
    const p = randomProduct(rng, family, {}, rng.pick(CATEGORY_BRANDS[family.category]));
    addProduct(p, renderTitle(rng, p, {}));
  }

  const entries = [...byTitle.values()];
  for (const { queryId, spec, split, drawn } of queries) {
    const families = judgedFamilies(spec.family);
    const judged = entries.filter((e) => families.has(e.product.family.key) || drawn.includes(e));
    const items: [CatalogueEntry, EsciLabel][] = judged.map((e) => {
      const label = judge(spec, e.product);
      return [e, rng.chance(ESCI_DEFAULTS.pFlip) ? FLIPS[label] : label];
    });
    for (const [e, label] of items) {
      shop.qrels.push({ query_id: queryId, product_id: e.id, esci_label: label, split });
      shop.pairs.push({
        query_id: queryId,
        query: spec.text,
        product_id: e.id,
        product_title: e.title,
        esci_label: label,
        split,
      });
    }
    const negatives = [
      ...items.filter(([, l]) => l === 'Irrelevant'),
      ...items.filter(([, l]) => l === 'Complement'),
    ].map(([e]) => e.title);
    for (const [e, label] of items) {
      if (label !== 'Exact') continue;
      const negative = negatives.length ? rng.pick(negatives) : pickOther(rng, entries, e);
      shop.triplets.push({ query_id: queryId, query: spec.text, positive: e.title, negative, split });
    }
  }
  return {
    shop,
    products: new Map(entries.map((e) => [e.id, e.product])),
    queries: new Map(queries.map((q) => [q.queryId, q.spec])),
  };
}

/** A random catalogue title other than the positive's (an easy negative). */
function pickOther(rng: Rng, entries: CatalogueEntry[], positive: CatalogueEntry): string {
  for (;;) {
    const other = rng.pick(entries);
    if (other !== positive) return other.title;
  }
}
