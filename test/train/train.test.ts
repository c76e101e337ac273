import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { referencePython } from '../helpers/python.js';
import { waitForStep } from '../helpers/train-progress.js';

/** End-to-end runs of `recsys train` on the intent sample, from a from-scratch tiny config. */
let dir = '';
let dataset = '';
let tinyConfig = '';
const intent = path.join(repoRoot, 'configs/intent.yaml');

beforeAll(() => {
  dir = tempDir('recsys-train-');
  dataset = path.join(dir, 'ds');
  const prep = runCli(['prepare', '-c', intent, '--out', dataset, '--max-length', '24']);
  if (prep.code !== 0) throw new Error(prep.stderr);
  tinyConfig = path.join(dir, 'tiny.json');
  writeFileSync(
    tinyConfig,
    JSON.stringify({
      model_type: 'bert',
      vocab_size: 30522,
      hidden_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 64,
      max_position_embeddings: 64,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      initializer_range: 0.02,
    }),
  );
});

function train(out: string, extra: string[]) {
  return runCli([
    'train',
    '-c',
    intent,
    '--data',
    dataset,
    '--model',
    tinyConfig,
    '--out',
    out,
    '--backend',
    'tensorflow',
    '--batch-size',
    '32',
    '--lr',
    '1e-3',
    ...extra,
  ]);
}

const summaryOf = (run: string) => JSON.parse(readFileSync(path.join(run, 'train_summary.json'), 'utf8'));
const weightsOf = (dir: string) => readFileSync(path.join(dir, 'weights.bin'));

describe('recsys train', () => {
  it('early-stops and restores the best weights, whatever stopped the run', () => {
    const run = path.join(dir, 'early');
    // min_delta 10 makes any later evaluation a non-improvement: the first one stays the best.
    const r = train(run, [
      '--epochs',
      '5',
      '--set',
      'train.eval_every=10',
      '--set',
      'train.early_stopping.patience=2',
      '--set',
      'train.early_stopping.min_delta=10',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.stop_reason).toBe('early_stopping');
    expect(s.best_step).toBe(10);
    expect(s.steps).toBe(30);
    expect(weightsOf(path.join(run, 'model')).equals(weightsOf(path.join(run, 'checkpoints/best')))).toBe(true);
    const last = path.resolve(run, readlinkSync(path.join(run, 'last')));
    expect(weightsOf(path.join(run, 'model')).equals(weightsOf(last))).toBe(false);
    const evals = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'eval');
    expect(evals.map((e) => e.step)).toEqual([10, 20, 30]);
    // the saved model is a Hugging Face model: config with the dataset's labels, tokenizer files
    const cfg = JSON.parse(readFileSync(path.join(run, 'model/config.json'), 'utf8'));
    expect(Object.values(cfg.id2label)).toEqual(
      JSON.parse(readFileSync(path.join(dataset, 'manifest.json'), 'utf8')).labels,
    );
    expect(existsSync(path.join(run, 'model/tokenizer.json'))).toBe(true);
  });

  it(
    'the run model is a Hugging Face model: transformers loads RUN/model and agrees with recsys predict ' +
      '--model RUN',
    () => {
      const run = path.join(dir, 'early');
      const input = path.join(dir, 'queries.jsonl');
      const texts = [
        'wireless earbuds under 50',
        'kids water bottle',
        'organic dog food grain free 30 lb bag',
        'Café espresso machine',
      ];
      writeFileSync(input, `${texts.map((t) => JSON.stringify({ q: t })).join('\n')}\n`);
      const out = path.join(dir, 'pred.jsonl');
      const r = runCli([
        'predict',
        '--model',
        run,
        '--input',
        input,
        '--text-column',
        'q',
        '--output',
        out,
        '--logits',
        '--backend',
        'tensorflow',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const ours = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).logits as number[]);
      const code =
        'import sys, json, torch\nfrom transformers import AutoModelForSequenceClassification, AutoTokenizer\n' +
        'm = AutoModelForSequenceClassification.from_pretrained(sys.argv[1]).eval(); t = ' +
        'AutoTokenizer.from_pretrained(sys.argv[1])\n' +
        'out = []\nfor q in json.loads(sys.argv[2]):\n  with torch.no_grad(): out.append(m(**t(q, truncation=True, ' +
        'return_tensors="pt")).logits[0].tolist())\n' +
        'print(json.dumps(out))';
      const py = spawnSync(referencePython(), ['-c', code, path.join(run, 'model'), JSON.stringify(texts)], {
        encoding: 'utf8',
      });
      expect(py.status, py.stderr).toBe(0);
      const ref = JSON.parse(py.stdout) as number[][];
      const diff = Math.max(...ref.flatMap((row, i) => row.map((x, j) => Math.abs(x - ours[i][j]))));
      expect(diff).toBeLessThan(1e-4);
    },
  );

  it(
    'resumed after kill -9 mid-run, it reaches the same weights and metrics as an uninterrupted ' + 'run (dropout on)',
    async () => {
      const args = [
        '--max-steps',
        '40',
        '--set',
        'train.checkpoint_every=5',
        '--set',
        'train.eval_every=20',
        '--set',
        'train.dropout=true',
        '--no-progress',
      ];
      const full = path.join(dir, 'full');
      expect(train(full, args).code).toBe(0);

      const cut = path.join(dir, 'cut');
      const child = spawn(
        process.execPath,
        [
          path.join(repoRoot, 'bin/recsys.js'),
          'train',
          '-c',
          intent,
          '--data',
          dataset,
          '--model',
          tinyConfig,
          '--out',
          cut,
          '--backend',
          'tensorflow',
          '--batch-size',
          '32',
          '--lr',
          '1e-3',
          ...args,
        ],
        { stdio: 'ignore' },
      );
      const deadline = Date.now() + 120_000;
      const stepOfLast = () => {
        try {
          return Number(/step-(\d+)/.exec(readlinkSync(path.join(cut, 'last')))?.[1] ?? 0);
        } catch {
          return 0;
        }
      };
      while (Date.now() < deadline && stepOfLast() < 15) await new Promise((r) => setTimeout(r, 25));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      expect(existsSync(path.join(cut, 'train_summary.json'))).toBe(false);
      expect(stepOfLast()).toBeGreaterThanOrEqual(15);
      expect(stepOfLast()).toBeLessThan(40);

      const resumed = runCli([
        'train',
        '-c',
        intent,
        '--data',
        dataset,
        '--model',
        tinyConfig,
        '--out',
        cut,
        '--backend',
        'tensorflow',
        '--batch-size',
        '32',
        '--lr',
        '1e-3',
        ...args,
        '--resume',
      ]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/resuming from step \d+/);
      expect(weightsOf(path.join(cut, 'model')).equals(weightsOf(path.join(full, 'model')))).toBe(true);
      const a = summaryOf(full);
      const b = summaryOf(cut);
      expect(b.last_eval).toEqual(a.last_eval);
      expect([b.best_value, b.best_step, b.steps]).toEqual([a.best_value, a.best_step, a.steps]);
      const lines = (run: string) =>
        readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
          .map(({ samples_per_s: _s, time_s: _t, ...rest }) => rest);
      expect(lines(cut)).toEqual(lines(full));
    },
  );

  it('stops on a NaN loss with a clear message, keeping the best weights saved', () => {
    const run = path.join(dir, 'nan');
    const r = train(run, ['--max-steps', '30', '--lr', '1e9', '--set', 'train.clip_norm=0', '--set', 'train.warmup=0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/recsys: error: training diverged at step \d+: (loss|gradient norm) is (NaN|Infinity)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(summaryOf(run).stop_reason).toBe('nan');
    expect(existsSync(path.join(run, 'model/model.safetensors'))).toBe(true);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    'on %s writes a checkpoint, saves the best weights, says how to resume and exits %i',
    async (signal, exitCode) => {
      const run = path.join(dir, `sig-${signal}`);
      const child = spawn(
        process.execPath,
        [
          path.join(repoRoot, 'bin/recsys.js'),
          'train',
          '-c',
          intent,
          '--data',
          dataset,
          '--model',
          tinyConfig,
          '--out',
          run,
          '--backend',
          'tensorflow',
          '--epochs',
          '50',
          '--no-progress',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      // The first step logged: the run is inside its training loop (no guessed sleep).
      await waitForStep(child, run, 1);
      child.kill(signal);
      const code = await new Promise((r) => child.on('exit', r));
      expect(code).toBe(exitCode);
      expect(stderr).toMatch(/interrupted: resume with +recsys train .*--resume/);
      expect(summaryOf(run).stop_reason).toBe('interrupted');
      expect(existsSync(path.join(run, 'last/state.json'))).toBe(true);
      // the best weights are restored and saved as the run's model
      expect(existsSync(path.join(run, 'model/model.safetensors'))).toBe(true);
    },
  );

  it('refuses a dataset prepared with another tokenizer than the pretrained model before the first step', () => {
    const model = path.join(dir, 'pretrained');
    const other = path.join(dir, 'other-vocab.txt');
    writeFileSync(other, readFileSync(path.join(repoRoot, 'data/vocab.txt'), 'utf8').replace('\nthe\n', '\nthee\n'));
    const r = spawnSync(
      referencePython(),
      [path.join(repoRoot, 'scripts/make_small_checkpoint.py'), model, '--labels', 'a,b', '--vocab', other],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const t = runCli([
      'train',
      '-c',
      intent,
      '--data',
      dataset,
      '--model',
      model,
      '--out',
      path.join(dir, 'mismatch'),
      '--backend',
      'tensorflow',
    ]);
    expect(t.code).toBe(3);
    expect(t.stderr).toMatch(
      /the dataset was prepared with another tokenizer than the model's .* re-run recsys prepare with --tokenizer/,
    );
    expect(existsSync(path.join(dir, 'mismatch/metrics.jsonl'))).toBe(false);
  });

  it('never replaces a finished run without --overwrite', () => {
    const run = path.join(dir, 'early');
    const r = train(run, ['--max-steps', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds a finished run; pass --overwrite/);
  });
});
