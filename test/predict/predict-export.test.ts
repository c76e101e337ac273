import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';

it('predict --model EXPORT_DIR (ONNX in onnxruntime) agrees with predict --model RUN_DIR on every row', () => {
  const dir = tempDir();
  const esci = path.join(repoRoot, 'configs/esci.yaml');
  const ds = path.join(dir, 'ds');
  expect(runCli(['prepare', '-c', esci, '--out', ds]).code).toBe(0);
  const tiny = path.join(dir, 'tiny.json');
  writeFileSync(
    tiny,
    JSON.stringify({
      vocab_size: 30522,
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 64,
      max_position_embeddings: 128,
      initializer_range: 0.2,
    }),
  );
  const run = path.join(dir, 'run');
  const t = runCli([
    'train',
    '-c',
    esci,
    '--data',
    ds,
    '--model',
    tiny,
    '--out',
    run,
    '--backend',
    'tensorflow',
    '--max-steps',
    '3',
    '--no-progress',
  ]);
  expect(t.code, t.stderr).toBe(0);
  const exp = path.join(dir, 'export');
  const e = runCli(['export', '--run', run, '--format', 'onnx', '--out', exp]);
  expect(e.code, e.stderr).toBe(0);
  const out = (name: string, model: string) => {
    const file = path.join(dir, `${name}.jsonl`);
    const r = runCli([
      'predict',
      '--model',
      model,
      '--input',
      path.join(repoRoot, 'data/esci.csv'),
      '--text-column',
      'query',
      '--pair-column',
      'product_title',
      '--id-column',
      'query_id',
      '--output',
      file,
      '--logits',
      '--backend',
      'tensorflow',
    ]);
    expect(r.code, r.stderr).toBe(0);
    return {
      stderr: r.stderr,
      rows: readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    };
  };
  const onnx = out('onnx', exp);
  const tfjs = out('tfjs', run);
  expect(onnx.stderr).toMatch(/onnxruntime-node/);
  expect(onnx.stderr).not.toMatch(/backend:/); // no tfjs backend is loaded for an export
  expect(onnx.rows).toHaveLength(4000);
  let worst = 0;
  onnx.rows.forEach((p, i) => {
    expect([p.row, p.id, p.label]).toEqual([tfjs.rows[i].row, tfjs.rows[i].id, tfjs.rows[i].label]);
    p.logits.forEach((v: number, j: number) => {
      worst = Math.max(worst, Math.abs(v - tfjs.rows[i].logits[j]));
    });
  });
  expect(worst).toBeLessThan(1e-4);
});
