/**
 * bench/eval: rows/s of `recsys eval` on the tensorflow backend (`--run`) and on the ONNX path
 * (`--model`, onnxruntime-node) for BERT-tiny (L2 H128 A2 I512) and BERT-mini (L4 H256 A4 I1024)
 * shapes at seq 128, next to Hugging Face / torch inference (torch.inference_mode(), same batch
 * size, same rows, dynamic padding) on the same weights, in the same run.
 *
 *   npx tsx bench/eval.ts [--rows 2048] [--batch-size 64] [--models tiny,mini] [--repeat 3] [--work DIR]
 *
 * The dataset: --rows test rows of random words, every one 128 tokens after truncation (so
 * dynamic padding saves nothing), 4 labels. Each model is from scratch: `recsys train --max-steps 1`
 * from a config.json, then `recsys export --format onnx`. recsys's rows/s is the report's
 * `rows_per_second` (reading the Arrow split, forward passes, metrics; model loading excluded),
 * torch's is its inference loop (batching + forward + argmax; one warm-up batch not counted);
 * each side runs --repeat times, alternating, and the best is kept. Needs the reference Python env
 * (bash scripts/setup-python.sh) and npm run setup:native. --work DIR keeps the dataset, runs and
 * exports in DIR and reuses them on the next call (for profiling); by default a temp dir is removed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Rng } from '../src/lib/rng.js';

const root = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const rowsWanted = Number(arg('rows', '2048'));
const batchSize = Number(arg('batch-size', '64'));
const repeat = Number(arg('repeat', '3'));
const models = arg('models', 'tiny,mini').split(',');
const work = arg('work', '');
const python = process.env.RECSYS_PYTHON ?? path.join(root, '.venv/bin/python');
const SHAPES: Record<
  string,
  { hidden_size: number; num_hidden_layers: number; num_attention_heads: number; intermediate_size: number }
> = {
  tiny: { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 512 },
  mini: { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024 },
};

const recsys = path.join(root, 'bin/recsys.js');
const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
};

const dir = work ? path.resolve(work) : mkdtempSync(path.join(tmpdir(), 'recsys-bench-eval-'));
mkdirSync(dir, { recursive: true });
try {
  // Rows of 200 random lowercase words: far more than 128 WordPiece tokens, so each is cut to 128.
  const words = readFileSync(path.join(root, 'data/vocab.txt'), 'utf8')
    .split('\n')
    .filter((w) => /^[a-z]{3,}$/.test(w));
  const rng = new Rng(11);
  const trainRows = 64;
  const csv = ['text,label,split'];
  for (let i = 0; i < trainRows + rowsWanted; i++) {
    csv.push(
      `${Array.from({ length: 200 }, () => words[rng.int(words.length)]).join(' ')},c${i % 4},` +
        `${i < trainRows ? 'train' : 'test'}`,
    );
  }
  writeFileSync(path.join(dir, 'data.csv'), `${csv.join('\n')}\n`);
  const ds = path.join(dir, 'ds');
  if (!existsSync(path.join(ds, 'manifest.json')))
    run(process.execPath, [
      recsys,
      'prepare',
      '--input',
      path.join(dir, 'data.csv'),
      '--split-column',
      'split',
      '--tokenizer',
      path.join(root, 'data/vocab.txt'),
      '--max-length',
      '128',
      '--out',
      ds,
      '--no-progress',
    ]);
  const manifest = JSON.parse(readFileSync(path.join(ds, 'manifest.json'), 'utf8'));
  const testRows: number = manifest.splits.test.rows;
  const lengths = manifest.token_lengths as { p50: number; truncation_rate: number };
  if (lengths.truncation_rate !== 1)
    throw new Error(`expected every row cut to 128 tokens, truncation rate ${lengths.truncation_rate}`);
  const load0 = loadavg()[0];

  const results: Array<{ model: string; tf: number; onnx: number; torch: number; torchInfo: Record<string, unknown> }> =
    [];
  for (const name of models) {
    const cfg = path.join(dir, `${name}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        model_type: 'bert',
        vocab_size: 30522,
        max_position_embeddings: 512,
        type_vocab_size: 2,
        hidden_act: 'gelu',
        ...SHAPES[name],
      }),
    );
    const runDir = path.join(dir, `run-${name}`);
    const exportDir = path.join(dir, `export-${name}`);
    if (!existsSync(path.join(runDir, 'train_summary.json'))) {
      run(process.execPath, [
        recsys,
        'train',
        '--data',
        ds,
        '--model',
        cfg,
        '--out',
        runDir,
        '--backend',
        'tensorflow',
        '--max-steps',
        '1',
        '--batch-size',
        '32',
        '--no-progress',
        '--overwrite',
      ]);
    }
    if (!existsSync(path.join(exportDir, 'export.json')))
      run(process.execPath, [
        recsys,
        'export',
        '--run',
        runDir,
        '--format',
        'onnx',
        '--out',
        exportDir,
        '--backend',
        'tensorflow',
      ]);

    const evalRate = (args: string[]) => {
      const report = JSON.parse(
        run(process.execPath, [
          recsys,
          'eval',
          ...args,
          '--data',
          ds,
          '--batch-size',
          String(batchSize),
          '--json',
          '--no-progress',
        ]),
      );
      if (report.rows !== testRows) throw new Error(`eval read ${report.rows} rows, expected ${testRows}`);
      return report.rows_per_second as number;
    };
    let tf = 0;
    let onnx = 0;
    let torch = 0;
    let torchInfo: Record<string, unknown> = {};
    for (let i = 0; i < repeat; i++) {
      tf = Math.max(tf, evalRate(['--run', runDir, '--backend', 'tensorflow']));
      onnx = Math.max(onnx, evalRate(['--model', exportDir]));
      torchInfo = JSON.parse(
        run(python, [
          path.join(root, 'bench/eval_torch.py'),
          path.join(runDir, 'model'),
          path.join(ds, 'test.arrow'),
          '--batch-size',
          String(batchSize),
        ]),
      );
      torch = Math.max(torch, torchInfo.rows_per_second as number);
      console.error(
        `${name} pass ${i + 1}/${repeat}: tensorflow ${tf.toFixed(0)}, onnx ${onnx.toFixed(0)}, ` +
          `torch ${torch.toFixed(0)} rows/s (best so far), load ${loadavg()[0].toFixed(2)}`,
      );
    }
    results.push({ model: name, tf, onnx, torch, torchInfo });
  }

  const t = results[0]?.torchInfo ?? {};
  console.log(
    `${testRows} rows × 128 tokens (every row truncated, median ${lengths.p50} before), batch ` +
      `${batchSize}, best of ${repeat}; ` +
      `${cpus().length} cores, load average ${load0.toFixed(2)} before / ${loadavg()[0].toFixed(2)} after; ` +
      `torch ${t.torch} (${t.threads} threads, ${t.attention} attention)`,
  );
  console.log('');
  console.log(
    '| model | recsys tensorflow rows/s | recsys ONNX rows/s | torch rows/s | tensorflow / torch | ONNX / torch |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const f = (x: number) => Math.round(x).toLocaleString('en-US');
    console.log(
      `| BERT-${r.model} | ${f(r.tf)} | ${f(r.onnx)} | ${f(r.torch)} | ` +
        `${(r.tf / r.torch).toFixed(2)}× | **${(r.onnx / r.torch).toFixed(2)}×** |`,
    );
  }
} finally {
  if (!work) rmSync(dir, { recursive: true, force: true });
}
