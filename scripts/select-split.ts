/**
 * Rows of one split of a sample file (the shop's files carry a `split` column), e.g. the held-out
 * test queries and their judgements for retrieve → re-rank → metrics:
 *
 *   npx tsx scripts/select-split.ts --input data/queries.csv --split test --out out/shop/test-queries.csv
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { toCsv } from './lib/csv.js';

const { values } = parseArgs({
  options: { input: { type: 'string' }, split: { type: 'string', default: 'test' }, out: { type: 'string' } },
  strict: true,
});
if (!values.input || !values.out) {
  process.stderr.write('usage: npx tsx scripts/select-split.ts --input FILE [--split test] --out FILE\n');
  process.exit(2);
}
const text = readFileSync(values.input, 'utf8');
const rows = parse(text, { columns: true }) as Record<string, string>[];
const columns = (parse(text, { to_line: 1 }) as string[][])[0];
if (!columns.includes('split')) {
  process.stderr.write(`select-split: ${values.input} has no "split" column\n`);
  process.exit(2);
}
const kept = rows.filter((r) => r.split === values.split);
mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
writeFileSync(`${values.out}.tmp`, toCsv(columns, kept));
renameSync(`${values.out}.tmp`, values.out);
process.stdout.write(`${values.out}: ${kept.length} of ${rows.length} rows (split ${values.split})\n`);
