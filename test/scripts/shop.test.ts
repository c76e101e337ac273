import { describe, expect, it } from 'vitest';
import { FAMILY } from '../../scripts/lib/catalog.js';
import { FLIPS, type Product, type QuerySpec } from '../../scripts/lib/esci.js';
import { Rng } from '../../scripts/lib/prng.js';
import { generateShopJudged, judge, judgedFamilies } from '../../scripts/lib/shop.js';

/**
 * The shop's judging rule (scripts/lib/shop.ts): every product of a query's own, related and accessory
 * families is judged by one rule, so an unjudged product is one the rule calls Irrelevant, and the
 * labels are a pure function of the seed.
 */

const caseQuery: QuerySpec = {
  family: FAMILY.phone_case,
  brand: null,
  asked: { model: 'Nova 12', style: 'Clear' },
  text: 'clear nova 12 case',
};
const product = (family: string, brand: string, values: Record<string, string>): Product => ({
  family: FAMILY[family],
  brand,
  values,
});

describe('judge: the ESCI rule', () => {
  it('labels by family, asked attributes, brand and fit', () => {
    const exact = product('phone_case', 'Voltix', { model: 'Nova 12', style: 'Clear', colour: 'Red' });
    expect(judge(caseQuery, exact)).toBe('Exact'); // an attribute nobody asked for does not matter
    expect(judge(caseQuery, { ...exact, values: { ...exact.values, style: 'Rugged' } })).toBe('Substitute');
    // Another phone model does not fit at all.
    expect(judge(caseQuery, { ...exact, values: { ...exact.values, model: 'Orbit 8' } })).toBe('Irrelevant');
    // A protector is the case's accessory; for another model it does not fit either.
    expect(judge(caseQuery, product('screen_protector', 'Voltix', { model: 'Nova 12' }))).toBe('Complement');
    expect(judge(caseQuery, product('screen_protector', 'Voltix', { model: 'Zephyr S5' }))).toBe('Irrelevant');
    expect(judge(caseQuery, product('earbuds', 'Voltix', {}))).toBe('Irrelevant');

    const branded: QuerySpec = { ...caseQuery, brand: 'Voltix' };
    expect(judge(branded, exact)).toBe('Exact');
    expect(judge(branded, { ...exact, brand: 'Sonara' })).toBe('Substitute');
    const earbuds: QuerySpec = { family: FAMILY.earbuds, brand: null, asked: { colour: 'Black' }, text: 'earbuds' };
    expect(judge(earbuds, product('headphones', 'Sonara', { colour: 'Red' }))).toBe('Substitute'); // related
    expect(judge(earbuds, product('ear_tips', 'Sonara', { size: 'Small' }))).toBe('Complement');
    expect(judgedFamilies(FAMILY.earbuds)).toEqual(new Set(['earbuds', 'headphones', 'earbud_case', 'ear_tips']));
  });
});

describe('generateShop: every product a query could find relevant is judged', () => {
  const seed = 11;
  const made = generateShopJudged(Rng.derive(seed, 'shop'), 60);
  const { shop, products, queries } = made;

  it('judges every catalogue product of the query families, labelled by the rule up to annotator flips', () => {
    const judged = new Map<string, Map<string, string>>();
    for (const r of shop.qrels) {
      if (!judged.has(r.query_id)) judged.set(r.query_id, new Map());
      expect(judged.get(r.query_id)!.has(r.product_id), `${r.query_id} ${r.product_id} twice`).toBe(false);
      judged.get(r.query_id)!.set(r.product_id, r.esci_label);
    }
    expect(judged.size).toBe(queries.size);
    let flipped = 0;
    for (const [queryId, spec] of queries) {
      const families = judgedFamilies(spec.family);
      const labels = judged.get(queryId)!;
      for (const [id, p] of products) {
        const rule = judge(spec, p);
        // An unjudged product is one the rule calls Irrelevant.
        if (!labels.has(id)) {
          expect(families.has(p.family.key), `${queryId}: ${id} of ${p.family.key} unjudged`).toBe(false);
          expect(rule).toBe('Irrelevant');
          continue;
        }
        const label = labels.get(id)!;
        expect([rule, FLIPS[rule]], `${queryId} ${id}`).toContain(label);
        if (label !== rule) flipped++;
      }
      const sameFamily = [...products.values()].filter((p) => p.family === spec.family).length;
      expect(labels.size).toBeGreaterThanOrEqual(sameFamily);
    }
    // About 5% of the labels move to their neighbour (Irrelevant has none to move to).
    expect(flipped / shop.qrels.length).toBeGreaterThan(0.02);
    expect(flipped / shop.qrels.length).toBeLessThan(0.09);
    expect(new Set(shop.qrels.map((r) => r.esci_label))).toEqual(
      new Set(['Exact', 'Substitute', 'Complement', 'Irrelevant']),
    );
  });

  it('is a pure function of the seed; the split is per query in every file', () => {
    const again = generateShopJudged(Rng.derive(seed, 'shop'), 60).shop;
    expect(again).toEqual(shop);
    const other = generateShopJudged(Rng.derive(seed + 1, 'shop'), 60).shop;
    expect(other.qrels).not.toEqual(shop.qrels);
    const split = new Map(shop.queries.map((q) => [q.query_id, q.split]));
    for (const file of [shop.qrels, shop.pairs, shop.triplets])
      for (const r of file) expect(r.split).toBe(split.get(r.query_id));
    // One triplet per Exact judgement, its positive an Exact title of that query.
    const exact = shop.pairs.filter((p) => p.esci_label === 'Exact');
    expect(shop.triplets.length).toBe(exact.length);
    const exactTitles = new Set(exact.map((p) => `${p.query_id} ${p.product_title}`));
    for (const t of shop.triplets) {
      expect(exactTitles.has(`${t.query_id} ${t.positive}`)).toBe(true);
      expect(t.negative).not.toBe(t.positive);
    }
  });
});
