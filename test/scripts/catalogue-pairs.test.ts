import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/cli.js';

/**
 * scripts/catalogue-pairs.ts: the cross-encoder's training file is the judged pairs, copied as they are
 * (every split), plus per catalogue product pseudo-queries (a 2–4 word span of its title without the marketing
 * tail) paired with the product itself and a full match (Exact), partial matches of the same category
 * (Substitute) and products of other categories (Irrelevant), all in split train.
 */

type Row = Record<string, string>;
const dir = tempDir('recsys-cat-pairs-');
const pairs = path.join(dir, 'pairs.csv');
const catalogue = path.join(dir, 'catalogue.csv');
const judged =
  'query_id,query,product_id,product_title,esci_label,split\n' +
  'q1,red mug,p1,Homely Red Mug,Exact,train\n' +
  'q2,usb cable,p5,Voltix USB C Cable,Substitute,validation\n' +
  'q3,coffee mug,p2,Homely Blue Ceramic Coffee Mug,Exact,test\n';
writeFileSync(pairs, judged);
const products = [
  ['Homely Ceramic Coffee Mug, Red | Premium Quality', 'home_kitchen'],
  ['Homely Blue Ceramic Coffee Mug', 'home_kitchen'],
  ['Nordvik Ceramic Coffee Mug, Red', 'home_kitchen'],
  ['Nordvik Glass Tea Mug - Upgraded Version', 'home_kitchen'],
  ['Voltix USB C Wall Charger - 65W, 2 Port', 'electronics'],
  ['Voltix Red Coffee Grinder', 'electronics'],
  ['Purely Vitamin C Serum (30 ml)', 'beauty'],
];
const titles = products.map(([t]) => t);
const category = new Map(products.map(([t, c]) => [t, c]));
writeFileSync(
  catalogue,
  `product_id,title,category\n${products.map(([t, c], i) => `p${i + 1},"${t}",${c}`).join('\n')}\n`,
);
const tokens = (text: string) =>
  new Set(
    text
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter(Boolean),
  );

function run(out: string, extra: string[] = []) {
  const script = path.join(repoRoot, 'scripts/catalogue-pairs.ts');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', script, '--pairs', pairs, '--catalogue', catalogue, '--out', out, ...extra],
    { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  return { text: readFileSync(out, 'utf8'), rows: parse(readFileSync(out, 'utf8'), { columns: true }) as Row[] };
}

describe('scripts/catalogue-pairs.ts', () => {
  it('copies the judged pairs, then adds labelled title-span pseudo-queries per product (split train)', () => {
    const { text, rows } = run(path.join(dir, 'a.csv'), ['--per-item', '3']);
    expect(text.startsWith(judged)).toBe(true);
    const added = rows.slice(3);
    const byQuery = new Map<string, Row[]>();
    for (const r of added) byQuery.set(r.query_id, [...(byQuery.get(r.query_id) ?? []), r]);
    expect(byQuery.size).toBe(3 * titles.length);
    for (const [i, title] of titles.entries()) {
      const words = title
        .split(/[|]| - /)[0]
        .replace(/[,()]/g, ' ')
        .split(/\s+/)
        .filter(Boolean);
      for (let k = 0; k < 3; k++) {
        const group = byQuery.get(`cat-p${i + 1}-${k}`) ?? [];
        const query = group[0].query;
        // A contiguous span of 2–4 title words (all of them when the title is shorter), no tail words.
        const span = query.split(' ');
        expect(span.length).toBeGreaterThanOrEqual(Math.min(2, words.length));
        expect(span.length).toBeLessThanOrEqual(Math.min(4, words.length));
        expect(` ${words.join(' ')} `).toContain(` ${query} `);
        expect(query).not.toMatch(/Premium|Upgraded|[|,()]/);
        expect(group[0]).toMatchObject({ product_id: `p${i + 1}`, product_title: title, esci_label: 'Exact' });
        const asked = [...tokens(query)];
        for (const r of group) {
          expect(r.query).toBe(query);
          expect(r.split).toBe('train');
          expect(titles).toContain(r.product_title);
          const shared = asked.filter((t) => tokens(r.product_title).has(t)).length;
          const sameCategory = category.get(r.product_title) === category.get(title);
          if (r.esci_label === 'Exact') expect([shared, sameCategory]).toEqual([asked.length, true]);
          else if (r.esci_label === 'Substitute') {
            expect(sameCategory).toBe(true);
            expect(shared).toBeGreaterThan(0);
            expect(shared).toBeLessThan(asked.length);
          } else {
            expect(r.esci_label).toBe('Irrelevant');
            expect(sameCategory).toBe(false);
          }
        }
        expect(new Set(group.map((r) => r.product_id)).size).toBe(group.length);
        expect(group.filter((r) => r.esci_label === 'Substitute').length).toBeLessThanOrEqual(2);
      }
    }
    // Labels of every kind are drawn on this catalogue.
    expect(new Set(added.map((r) => r.esci_label))).toEqual(new Set(['Exact', 'Substitute', 'Irrelevant']));
  });

  it('--scatter draws 2–4 title words from anywhere, in any order, lowercased', () => {
    const { rows } = run(path.join(dir, 'e.csv'), ['--per-item', '4', '--scatter']);
    const added = rows.slice(3);
    let reordered = 0;
    for (const [i, title] of titles.entries()) {
      const words = title
        .split(/[|]| - /)[0]
        .replace(/[,()]/g, ' ')
        .split(/\s+/)
        .filter(Boolean)
        .map((w) => w.toLowerCase());
      for (let k = 0; k < 4; k++) {
        const group = added.filter((r) => r.query_id === `cat-p${i + 1}-${k}`);
        expect(group[0]).toMatchObject({ product_id: `p${i + 1}`, esci_label: 'Exact' });
        const query = group[0].query.split(' ');
        expect(query.length).toBeGreaterThanOrEqual(Math.min(2, words.length));
        expect(query.length).toBeLessThanOrEqual(Math.min(4, words.length));
        const left = [...words];
        for (const w of query) {
          expect(left).toContain(w);
          left.splice(left.indexOf(w), 1);
        }
        if (!` ${words.join(' ')} `.includes(` ${query.join(' ')} `)) reordered++;
      }
    }
    expect(reordered).toBeGreaterThan(0);
  });

  it('is deterministic with the seed and differs with another seed', () => {
    const a = run(path.join(dir, 'b.csv')).text;
    expect(run(path.join(dir, 'c.csv')).text).toBe(a);
    expect(run(path.join(dir, 'd.csv'), ['--seed', '8']).text).not.toBe(a);
  });
});
