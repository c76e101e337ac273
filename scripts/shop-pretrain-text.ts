/**
 * Unlabelled text for domain pretraining of the shop's encoder (`recsys pretrain -c
 * configs/shop-pretrain.yaml`): every catalogue product's title and its description (two texts, so a
 * title is also seen on its own, as retrieval sees it), and the texts of the train-split queries only.
 * No validation or test query and no judgement is read: the held-out queries stay unseen.
 *
 *   npx tsx scripts/shop-pretrain-text.ts [--data data] --out out/shop/pretrain-text.csv
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { toCsv } from './lib/csv.js';

const { values } = parseArgs({
  options: { data: { type: 'string', default: 'data' }, out: { type: 'string' } },
  strict: true,
});
if (!values.out) {
  process.stderr.write('usage: npx tsx scripts/shop-pretrain-text.ts [--data data] --out FILE\n');
  process.exit(2);
}
type Row = Record<string, string>;
const read = (name: string) => parse(readFileSync(path.join(values.data!, name), 'utf8'), { columns: true }) as Row[];
const rows: Row[] = [];
for (const p of read('catalogue.csv')) rows.push({ text: p.title }, { text: p.description });
const queries = read('queries.csv').filter((q) => q.split === 'train');
for (const q of queries) rows.push({ text: q.query });
const out = path.resolve(values.out);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(`${out}.tmp`, toCsv(['text'], rows));
renameSync(`${out}.tmp`, out);
process.stdout.write(
  `${rows.length} texts (catalogue titles and descriptions, ${queries.length} train queries) → ${out}\n`,
);
