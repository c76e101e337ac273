import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';

/** eval, export, predict and train --data given a pretraining run dir say what to do with it (exit 2). */
it('a pretraining run dir is refused by eval, export, predict and train --data with one line saying what to do', () => {
  const run = path.join(tempDir('recsys-pretrain-run-'), 'mlm');
  mkdirSync(path.join(run, 'model'), { recursive: true });
  writeFileSync(path.join(run, 'model', 'config.json'), '{"architectures": ["BertForMaskedLM"]}');
  writeFileSync(path.join(run, 'manifest.json'), JSON.stringify({ kind: 'pretrain', dataset_sha256: 'x' }));
  writeFileSync(path.join(run, 'train_summary.json'), '{}');
  const expected =
    `recsys: error: ${run}: this is a pretraining (masked-LM) run, with no task head; fine-tune it with ` +
    `\`recsys train --model ${path.join(run, 'model')}\``;
  const input = path.join(repoRoot, 'data/reviews.csv');
  for (const args of [
    ['eval', '--run', run],
    ['export', '--run', run, '--out', path.join(run, '..', 'export')],
    ['predict', '--model', run, '--input', input, '--text-column', 'review', '--output', `${run}.jsonl`],
    ['train', '-c', path.join(repoRoot, 'configs/reviews.yaml'), '--data', run, '--out', `${run}-ft`],
  ]) {
    const r = runCli(args);
    expect(r.stderr.trim().split('\n').pop(), args[0]).toBe(expected);
    expect(r.code, args[0]).toBe(2);
  }
});
