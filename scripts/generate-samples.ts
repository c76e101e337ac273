/**
 * Writes the synthetic sample data in data/: intent.csv (query → category), esci.csv
 * (query–product relevance, ESCI labels) and reviews.csv (review → sentiment), plus data/README.md
 * with the columns, label distributions and a bag-of-words baseline.
 *
 *   npx tsx scripts/generate-samples.ts [--out data] [--seed 7] [--scale 1] [--check]
 *
 * --out    directory to write (default: data, relative to the current directory)
 * --seed   32-bit seed (default 7, the one the committed files were made with)
 * --scale  multiply every file's row count (default 1: 3000 / 4000 / 2500 rows)
 * --check  write nothing; exit 1 if the files in --out differ from what would be written
 *
 * The same seed and scale always give the same bytes. How each file is made is documented at the
 * top of scripts/lib/intent.ts, esci.ts and reviews.ts.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SEED, generateSamples, staleFiles, writeSamples } from './lib/generate.js';

function fail(message: string): never {
  process.stderr.write(`generate-samples: ${message}\n`);
  process.exit(2);
}

function numberArg(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) fail(`--${name}: expected a number, got "${value}"`);
  return n;
}

function parseSampleArgs() {
  return parseArgs({
    options: {
      out: { type: 'string', default: 'data' },
      seed: { type: 'string' },
      scale: { type: 'string' },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

let args: ReturnType<typeof parseSampleArgs>;
try {
  args = parseSampleArgs();
} catch (err) {
  fail((err as Error).message);
}
if (args.help) {
  process.stdout.write('usage: npx tsx scripts/generate-samples.ts [--out data] [--seed 7] [--scale 1] [--check]\n');
  process.exit(0);
}

const seed = numberArg('seed', args.seed, DEFAULT_SEED);
const scale = numberArg('scale', args.scale, 1);
let generated: ReturnType<typeof generateSamples>;
try {
  generated = generateSamples({ seed, scale });
} catch (err) {
  fail((err as Error).message);
}
const outDir = path.resolve(args.out!);

if (args.check) {
  const stale = staleFiles(outDir, generated);
  if (stale.length) {
    process.stderr.write(
      `generate-samples: out of date in ${args.out}: ${stale.join(', ')} (re-run without --check)\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`generate-samples: ${args.out} is up to date (seed ${seed}, scale ${scale})\n`);
  process.exit(0);
}

writeSamples(outDir, generated);
for (const s of Object.values(generated.summary)) {
  const labels = Object.entries(s.labels)
    .map(([l, n]) => `${l} ${n}`)
    .join(', ');
  const b = s.baseline;
  process.stdout.write(
    `${path.join(args.out!, s.file)}: ${s.rows} rows${s.groups ? ` (${s.groups} queries)` : ''}, ${s.bytes} bytes\n` +
      `  labels: ${labels}\n` +
      `  bag-of-words baseline: majority ${b.majority.toFixed(3)}, naive Bayes ` +
      `${b.naive_bayes.accuracy.toFixed(3)}, logistic regression ${b.logistic_regression.accuracy.toFixed(3)}\n`,
  );
}
process.stdout.write(`${path.join(args.out!, 'README.md')}: written (seed ${seed}, scale ${scale})\n`);
