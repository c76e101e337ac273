import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/cli.js';

/**
 * scripts/catalogue-triplets.ts: the bi-encoder's training file is the judged triplets, copied as they
 * are, plus per catalogue product `--per-item` pseudo-queries (a 2–4 word span of its title without the
 * marketing tail) with the title as positive and another product's title as negative, all in split train.
 */

type Row = Record<string, string>;
const dir = tempDir('recsys-cat-triplets-');
const triplets = path.join(dir, 'triplets.csv');
const catalogue = path.join(dir, 'catalogue.csv');
writeFileSync(
  triplets,
  'query_id,query,positive,negative,split\n' +
    'q1,red mug,Homely Red Mug,Voltix Charger,train\n' +
    'q2,usb cable,Voltix USB C Cable,Homely Red Mug,test\n',
);
const titles = [
  'Homely Ceramic Coffee Mug, Red | Premium Quality',
  'Voltix USB C Wall Charger - 65W, 2 Port',
  'Kettle',
  'Purely Vitamin C Serum (30 ml) - Upgraded Version',
];
writeFileSync(catalogue, `product_id,title\n${titles.map((t, i) => `p${i + 1},"${t}"`).join('\n')}\n`);

function run(out: string, extra: string[] = []) {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(repoRoot, 'scripts/catalogue-triplets.ts'),
      '--triplets',
      triplets,
      '--catalogue',
      catalogue,
      '--out',
      out,
      ...extra,
    ],
    { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  return { text: readFileSync(out, 'utf8'), rows: parse(readFileSync(out, 'utf8'), { columns: true }) as Row[] };
}

describe('scripts/catalogue-triplets.ts', () => {
  it('copies the judged triplets, then adds title-span pseudo-queries per product (split train)', () => {
    const { text, rows } = run(path.join(dir, 'a.csv'), ['--per-item', '3']);
    expect(text.split('\n')[0]).toBe('query_id,query,positive,negative,split');
    expect(rows).toHaveLength(2 + 3 * titles.length);
    expect(rows.slice(0, 2)).toEqual(parse(readFileSync(triplets, 'utf8'), { columns: true }));
    for (const [i, title] of titles.entries()) {
      const words = title
        .split(/[|]| - /)[0]
        .replace(/[,()]/g, ' ')
        .split(/\s+/)
        .filter(Boolean);
      for (let k = 0; k < 3; k++) {
        const r = rows[2 + 3 * i + k];
        expect(r.query_id).toBe(`cat-p${i + 1}-${k}`);
        expect(r.positive).toBe(title);
        expect(r.split).toBe('train');
        expect(titles).toContain(r.negative);
        expect(r.negative).not.toBe(title);
        // A contiguous span of 2–4 title words (all of them when the title is shorter), no tail words.
        const span = r.query.split(' ');
        expect(span.length).toBeLessThanOrEqual(words.length);
        expect(span.length).toBeGreaterThanOrEqual(Math.min(2, words.length));
        expect(span.length).toBeLessThanOrEqual(4);
        expect(` ${words.join(' ')} `).toContain(` ${r.query} `);
        expect(r.query).not.toMatch(/Premium|Upgraded|[|,()]/);
      }
    }
  });

  it('is deterministic with the seed and differs with another seed', () => {
    const a = run(path.join(dir, 'b.csv')).text;
    expect(run(path.join(dir, 'c.csv')).text).toBe(a);
    expect(run(path.join(dir, 'd.csv'), ['--seed', '8']).text).not.toBe(a);
  });
});
