import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir, vocabPath } from '../helpers/cli.js';
import { referencePython } from '../helpers/python.js';

const ROWS = [
  {
    sku: 'a1',
    text: 'Wireless earbuds, great bass but the case cracked after 2 weeks.',
    title: 'Bluetooth earbuds with charging case',
  },
  { sku: 'a2', text: 'not bad at all', title: 'USB-C cable 2m' },
  { sku: 'a3', text: '', title: 'empty text row' },
  {
    sku: 'a4',
    text: `Café-quality espresso at home — naïve me expected less! ${'really '.repeat(60)}`,
    title: 'Espresso machine 15 bar',
  },
  {
    sku: 'a5',
    text: 'kids water bottle',
    title: 'Stainless steel water bottle for kids, 350 ml, leak proof lid, dishwasher safe',
  },
];

function reference(dir: string, pair: boolean): { modelDir: string; input: string; logits: (number[] | null)[] } {
  const modelDir = path.join(dir, 'hf-model');
  const input = path.join(dir, 'rows.jsonl');
  writeFileSync(input, `${ROWS.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const out = path.join(dir, 'ref.json');
  const r = spawnSync(
    referencePython(),
    [
      path.join(repoRoot, 'scripts/hf_predict_reference.py'),
      modelDir,
      vocabPath,
      input,
      out,
      ...(pair ? ['--pair'] : []),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return { modelDir, input, logits: JSON.parse(readFileSync(out, 'utf8')) };
}

describe('recsys predict --model HF_DIR', () => {
  for (const pair of [false, true]) {
    it(`matches Hugging Face on raw text${pair ? ' pairs' : ''}: logits within 1e-4, one row out per row in`, () => {
      const dir = tempDir();
      const ref = reference(dir, pair);
      const output = path.join(dir, 'pred.jsonl');
      const args = [
        'predict',
        '--model',
        ref.modelDir,
        '--input',
        ref.input,
        '--text-column',
        'text',
        '--id-column',
        'sku',
        '--output',
        output,
        '--logits',
        '--top-k',
        '2',
        '--batch-size',
        '2',
        // the default path on native TensorFlow: the forward pass as one graph (the eager one is
        // checked against the same references by test/model/parity.*.test.ts)
        '--backend',
        'tensorflow',
      ];
      if (pair) args.push('--pair-column', 'title');
      const r = runCli(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/forward pass: TensorFlow \S+ graph/);
      const preds = readFileSync(output, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(preds.map((p) => p.row)).toEqual([1, 2, 3, 4, 5]);
      expect(preds.map((p) => p.id)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
      preds.forEach((p, i) => {
        const want = ref.logits[i];
        if (want === null) {
          expect(p.label).toBeNull();
          expect(p.error).toMatch(/empty or missing text/);
          return;
        }
        const diff = Math.max(...p.logits.map((x: number, j: number) => Math.abs(x - want[j])));
        expect(diff).toBeLessThan(1e-4);
        const best = want.indexOf(Math.max(...want));
        expect(p.label).toBe(['negative', 'neutral', 'positive'][best]);
        expect(p.top_k).toHaveLength(2);
        expect(p.top_k[0].label).toBe(p.label);
      });
      // logits must vary across rows, or the comparison above proves little
      const spread =
        Math.max(...ref.logits.filter(Boolean).map((l) => l![0])) -
        Math.min(...ref.logits.filter(Boolean).map((l) => l![0]));
      expect(spread).toBeGreaterThan(0.05);
      const rejects = readFileSync(path.join(dir, 'pred.rejects.csv'), 'utf8');
      expect(rejects).toMatch(/^row,line,reason,raw\n3,3,"empty or missing text/);
    });
  }

  it('says what is missing when the model dir has no tokenizer', () => {
    const r = runCli([
      'predict',
      '--model',
      path.join(repoRoot, 'test/fixtures/reference/cls-l2-h64'),
      '--input',
      'x.csv',
      '--output',
      'y.jsonl',
      '--backend',
      'cpu',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cls-l2-h64: no tokenizer\.json or vocab\.txt/);
  });
});
