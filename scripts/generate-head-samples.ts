/**
 * Writes data/products-multilabel.csv, the sample for `task: multi_label_classification`
 * (configs/multilabel.yaml). The regression sample (configs/regression.yaml) is the star rating
 * of data/reviews.csv, written by scripts/generate-samples.ts.
 *
 *   npx tsx scripts/generate-head-samples.ts [--out data] [--seed 7] [--rows 2000] [--check]
 *
 * The same seed and row count always give the same bytes (scripts/lib/multilabel.ts says how).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { toCsv } from './lib/csv.js';
import { generateMultiLabel, MULTI_LABEL_COLUMNS } from './lib/multilabel.js';
import { Rng } from './lib/prng.js';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'data' },
    seed: { type: 'string', default: '7' },
    rows: { type: 'string', default: '2000' },
    check: { type: 'boolean', default: false },
  },
});
const seed = Number(args.seed);
const rows = Number(args.rows);
if (!Number.isInteger(seed) || !Number.isInteger(rows) || rows < 10) {
  process.stderr.write('generate-head-samples: --seed and --rows must be integers (rows >= 10)\n');
  process.exit(2);
}
const file = path.resolve(args.out!, 'products-multilabel.csv');
const text = toCsv(MULTI_LABEL_COLUMNS, generateMultiLabel(Rng.derive(seed, 'multilabel'), rows));
if (args.check) {
  const same = existsSync(file) && readFileSync(file, 'utf8') === text;
  process.stdout.write(`${file}: ${same ? 'up to date' : 'differs'}\n`);
  process.exit(same ? 0 : 1);
}
writeFileSync(`${file}.tmp-${process.pid}`, text);
renameSync(`${file}.tmp-${process.pid}`, file);
process.stdout.write(`${file}: ${rows} rows\n`);
