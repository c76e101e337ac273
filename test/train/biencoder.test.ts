import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { repoRoot, runCli, tempDir, vocabPath } from '../helpers/cli.js';
import { referencePython } from '../helpers/python.js';

/**
 * Bi-encoder training (task embedding): prepare's separate token columns, the loss against
 * sentence-transformers' MultipleNegativesRankingLoss over 20 steps on recsys's own batches, and resume.
 */
const STEPS = 20;
let dir = '';
let input = '';
let dataset = '';
let checkpoint = '';

const COLORS = ['red', 'blue', 'green', 'black', 'white', 'grey'];
const ITEMS = ['shirt', 'shoe', 'lamp', 'chair', 'table', 'phone case', 'backpack', 'kettle'];
const BRANDS = ['acme', 'nova', 'zen'];

/**
 * Anchor, positive, hard negative rows. Positives repeat (a product shared by two phrasings of a
 * query), so batches hold duplicate positives; the hard negative is another item in the same colour.
 */
function tripletsTsv(): string {
  const lines = ['query\tproduct\tnegative\tsplit'];
  let n = 0;
  for (const color of COLORS)
    for (const [k, item] of ITEMS.entries()) {
      const brand = BRANDS[(n + k) % BRANDS.length];
      const product = `${brand} ${color} ${item} with warranty`;
      const negative = `${color} ${ITEMS[(k + 3) % ITEMS.length]} by ${brand}`;
      const split = n % 8 === 7 ? 'validation' : 'train';
      lines.push(`${color} ${item}\t${product}\t${negative}\t${split}`);
      if (n % 2 === 0) lines.push(`cheap ${item} in ${color}\t${product}\t${negative}\t${split}`);
      n++;
    }
  return `${lines.join('\n')}\n`;
}

function writeConfig(file: string): void {
  writeFileSync(
    file,
    [
      'task: embedding',
      'data:',
      '  text_column: query',
      '  pair_column: product',
      '  negative_column: negative',
      '  split_column: split',
      '  max_length: 24',
      'tokenizer:',
      `  path: ${vocabPath}`,
      'train:',
      '  batch_size: 16',
      '  early_stopping:',
      '    metric: mrr@10',
      '',
    ].join('\n'),
  );
}

function python(args: string[]): void {
  const r = spawnSync(referencePython(), args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(r.stderr);
}

let configFile = '';

beforeAll(() => {
  dir = tempDir('recsys-biencoder-');
  input = path.join(dir, 'triplets.tsv');
  writeFileSync(input, tripletsTsv());
  configFile = path.join(dir, 'biencoder.yaml');
  writeConfig(configFile);
  dataset = path.join(dir, 'ds');
  const prep = runCli(['prepare', '-c', configFile, '--input', input, '--out', dataset]);
  if (prep.code !== 0) throw new Error(prep.stderr);
  checkpoint = path.join(dir, 'ckpt');
  python([path.join(repoRoot, 'scripts/make_small_checkpoint.py'), checkpoint, '--labels', 'LABEL_0']);
});

const trainLines = (run: string) =>
  readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

function trainArgs(run: string, extra: string[]): string[] {
  return [
    'train',
    '-c',
    configFile,
    '--data',
    dataset,
    '--model',
    checkpoint,
    '--out',
    run,
    '--lr',
    '3e-4',
    '--backend',
    'tensorflow',
    ...extra,
  ];
}

describe('prepare, task embedding', () => {
  it('writes each text on its own ([CLS] text [SEP]), one column per role, and bad rows to rejects.csv', () => {
    const code =
      'import sys, json, pyarrow.ipc as i\nt = i.open_file(sys.argv[1]).read_all()\n' +
      'print(json.dumps({"names": t.column_names, "rows": t.slice(0, 2).to_pylist()}))';
    const r = spawnSync(referencePython(), ['-c', code, path.join(dataset, 'train.arrow')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { names, rows } = JSON.parse(r.stdout);
    expect(names).toEqual(['input_ids', 'positive_ids', 'negative_ids', 'row']);
    for (const col of ['input_ids', 'positive_ids', 'negative_ids']) {
      const ids: number[] = rows[0][col];
      expect(ids[0]).toBe(101);
      expect(ids.indexOf(102)).toBe(ids.length - 1); // one [SEP]: no pair template
    }
    const bad = path.join(dir, 'bad.tsv');
    writeFileSync(bad, `${tripletsTsv()}lamp\t\tred lamp\ttrain\n`);
    const out = runCli(['prepare', '-c', configFile, '--input', bad, '--out', path.join(dir, 'bad-ds')]);
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/empty or missing positive text \(column "product"\)/);
  });

  it('relevance judgements: positives and hard negatives by label, grouped by query; other labels skipped', () => {
    const csv = path.join(dir, 'judgements.csv');
    writeFileSync(
      csv,
      [
        'query,product,esci,split',
        'desk lamp,acme desk lamp,E,train',
        'desk lamp,nova red shoe,I,train',
        'desk lamp,zen desk lamp,E,train',
        'desk lamp,lamp bulb,C,train',
        'kettle,acme kettle,E,train',
        'kettle,,E,train',
        'kettle,blue shirt,I,validation',
        'tea,green tea,E,validation',
      ].join('\n'),
    );
    const config = path.join(dir, 'judgements.yaml');
    writeFileSync(
      config,
      [
        'task: embedding',
        'data:',
        '  text_column: query',
        '  pair_column: product',
        '  label_column: esci',
        '  positive_labels: [E]',
        '  negative_labels: [I]',
        '  split_column: split',
        '  max_bad_rows: 1',
        `tokenizer:\n  path: ${vocabPath}`,
        '',
      ].join('\n'),
    );
    const out = path.join(dir, 'judgements-ds');
    const r = runCli(['prepare', '-c', config, '--input', csv, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const code =
      'import sys, json, pyarrow.ipc as i\nt = i.open_file(sys.argv[1]).read_all()\n' +
      'print(json.dumps([[len(x) for x in t.column("negative_ids").to_pylist()], t.column("row").to_pylist()]))';
    const py = spawnSync(referencePython(), ['-c', code, path.join(out, 'train.arrow')], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const [negatives, rows] = JSON.parse(py.stdout);
    // Both desk-lamp positives take its one Irrelevant product; the kettle's negative is in another split.
    expect(rows).toEqual([1, 3, 5]);
    expect(negatives.map((n: number) => n > 0)).toEqual([true, true, false]);
    expect(readFileSync(path.join(out, 'rejects.csv'), 'utf8')).toMatch(/empty or missing product text/);
  });

  it('writes the same bytes with worker threads as on the main thread', async () => {
    const config = (workers: number, out: string) =>
      loadConfig({
        files: [configFile],
        sets: [`data.input=${input}`, `data.out=${out}`, `data.workers=${workers}`],
      });
    const a = await prepareDataset(config(1, path.join(dir, 'w1')), { minBytesForWorkers: 0 });
    const b = await prepareDataset(config(2, path.join(dir, 'w2')), { minBytesForWorkers: 0 });
    expect(b.splits.train?.sha256).toBe(a.splits.train?.sha256);
    expect(b.dataset_sha256).toBe(a.dataset_sha256);
  });
});

describe('bi-encoder training fidelity vs sentence-transformers MultipleNegativesRankingLoss', () => {
  for (const symmetric of [false, true]) {
    it(`matches every step's loss within 1e-3 (relative) for ${STEPS} steps${symmetric ? ', symmetric' : ''}`, () => {
      const name = symmetric ? 'sym' : 'plain';
      const run = path.join(dir, name);
      const batches = path.join(dir, `${name}.batches.jsonl`);
      const r = runCli(
        trainArgs(run, [
          '--max-steps',
          String(STEPS),
          '--dump-batches',
          batches,
          '--set',
          'train.epochs=10',
          '--set',
          'train.dropout=false',
          '--set',
          'train.warmup=2',
          '--set',
          `train.mnrl_symmetric=${symmetric}`,
        ]),
      );
      expect(r.code, r.stderr).toBe(0);
      const out = path.join(dir, `${name}.ref.json`);
      python([
        path.join(repoRoot, 'scripts/st_train_reference.py'),
        checkpoint,
        dataset,
        batches,
        out,
        '--lr',
        '3e-4',
        '--total-steps',
        String(STEPS),
        '--warmup',
        '2',
        ...(symmetric ? ['--symmetric'] : []),
      ]);
      const ref = JSON.parse(readFileSync(out, 'utf8')) as { losses: number[]; excluded: number[] };
      const ours = trainLines(run)
        .filter((m) => m.type === 'train')
        .map((m) => m.loss as number);
      expect(ours).toHaveLength(STEPS);
      expect(ref.losses).toHaveLength(STEPS);
      // Duplicate positives did meet in a batch, so the exclusions were exercised.
      expect(ref.excluded.some((n) => n > 0)).toBe(true);
      const rel = ours.map((l, i) => Math.abs(l - ref.losses[i]) / Math.abs(ref.losses[i]));
      console.info(
        `[biencoder] max relative loss difference over ${STEPS} steps: ${Math.max(...rel).toExponential(2)}`,
      );
      expect(Math.max(...rel)).toBeLessThan(1e-3);
      expect(ours[STEPS - 1]).toBeLessThan(ours[0]);
      const evals = trainLines(run).filter((m) => m.type === 'eval');
      expect(evals.length).toBeGreaterThan(0);
      for (const key of ['loss', 'ndcg@10', 'recall@10', 'mrr@10']) expect(evals[0][key]).toBeTypeOf('number');
    }, 600_000);
  }
});

describe('bi-encoder resume', () => {
  it('a run killed mid-epoch (SIGKILL) and resumed ends with the same bytes as an uninterrupted one', async () => {
    const args = [
      '--max-steps',
      '18',
      '--set',
      'train.epochs=10',
      '--set',
      'train.checkpoint_every=3',
      '--set',
      'train.eval_every=6',
    ];
    const full = path.join(dir, 'full');
    expect(runCli(trainArgs(full, args)).code).toBe(0);
    const cut = path.join(dir, 'cut');
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/recsys.js'), ...trainArgs(cut, args)], {
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.on('exit', r));
    const stepOfLast = () => {
      try {
        return Number(/step-(\d+)/.exec(readlinkSync(path.join(cut, 'last')))?.[1] ?? 0);
      } catch {
        return 0;
      }
    };
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && stepOfLast() < 6) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(path.join(cut, 'train_summary.json'))).toBe(false);
    const resumed = runCli([...trainArgs(cut, args), '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from step \d+/);
    const weights = (run: string) => readFileSync(path.join(run, 'model', 'model.safetensors'));
    expect(weights(cut).equals(weights(full))).toBe(true);
    const strip = (run: string) => trainLines(run).map(({ samples_per_s: _s, time_s: _t, ...rest }) => rest);
    expect(strip(cut)).toEqual(strip(full));
  }, 900_000);
});
