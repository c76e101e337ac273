/**
 * Bag-of-words baseline on the sample data: how far do the words alone get?
 *
 *   npx tsx scripts/baseline-bow.ts [--data data] [--seed 7] [--json]
 *
 * For each of intent.csv, esci.csv and reviews.csv: unigram+bigram multinomial naive Bayes and
 * logistic regression (plain TypeScript, scripts/lib/baseline.ts), trained on a seeded 80%
 * (esci split by query_id) and scored on the other 20%, next to the majority-class accuracy.
 * Exits 1 when a task is too easy (≥ 97% accuracy: the labels give themselves away) or not
 * learnable (no better than always guessing the most common label).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { baselineForFile, TASKS, TOO_EASY, type BaselineResult, type Task } from './lib/baseline.js';
import { FILES } from './lib/generate.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'data' },
    seed: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});
const seed = Number(values.seed);
if (!Number.isInteger(seed) || seed < 0) {
  process.stderr.write(`baseline-bow: --seed: expected an integer ≥ 0, got "${values.seed}"\n`);
  process.exit(2);
}

const results = {} as Record<Task, BaselineResult>;
for (const task of TASKS) results[task] = baselineForFile(task, path.join(values.data!, FILES[task]), seed);

const problems: string[] = [];
for (const task of TASKS) {
  const r = results[task];
  if (r.best_accuracy >= TOO_EASY)
    problems.push(
      `${task}: accuracy ${r.best_accuracy.toFixed(3)} ≥ ${TOO_EASY}: the labels can be read off the words`,
    );
  if (r.best_accuracy <= r.majority)
    problems.push(
      `${task}: accuracy ${r.best_accuracy.toFixed(3)} is no better than the majority class (${r.majority.toFixed(3)})`,
    );
}

if (values.json) {
  process.stdout.write(`${JSON.stringify({ seed, results, problems }, null, 2)}\n`);
} else {
  const f = (x: number) => x.toFixed(3).padStart(8);
  process.stdout.write(`task       train   test  majority  NB acc  NB mF1  LR acc  LR mF1\n`);
  for (const task of TASKS) {
    const r = results[task];
    process.stdout.write(
      `${task.padEnd(8)} ${String(r.n_train).padStart(7)} ${String(r.n_test).padStart(6)}${f(r.majority)}` +
        `${f(r.naive_bayes.accuracy)}${f(r.naive_bayes.macro_f1)}` +
        `${f(r.logistic_regression.accuracy)}${f(r.logistic_regression.macro_f1)}\n`,
    );
  }
  for (const p of problems) process.stderr.write(`baseline-bow: ${p}\n`);
}
process.exitCode = problems.length ? 1 : 0;
