import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir, vocabPath } from '../helpers/cli.js';
import { reference, SCRIPT_CMD } from '../helpers/python.js';
import { intentCsv, makeRun, prepare } from './fixtures.js';

/**
 * `recsys eval` end to end on a run dir built by test/eval/make_run.py (random BERT, 14 intent
 * classes) and datasets made by `recsys prepare`: reports, data defaults, the manifest check and
 * the gates, asserting the messages users see.
 */

let dir: string;
let dataset: string;
let run: string;

const evalArgs = (...extra: string[]) => ['eval', '--run', run, '--backend', 'cpu', ...extra];

beforeAll(() => {
  dir = tempDir('recsys-eval-cli-');
  const csv = path.join(dir, 'data.csv');
  intentCsv(csv, { rows: 450 });
  dataset = path.join(dir, 'dataset');
  prepare(csv, dataset);
  run = path.join(dir, 'run');
  makeRun(dataset, run, ['--seed', '5', '--curves']);
});

describe('recsys eval: reports', () => {
  it('prints the sklearn-style report and confusion matrix, finding the dataset through the run config', () => {
    const r = runCli(evalArgs());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^test split: 300 rows, cpu backend/);
    expect(r.stdout).toMatch(/ {15}precision {4}recall {2}f1-score {3}support\n\n/);
    expect(r.stdout).toMatch(/\n {7}accuracy {25}0\.\d{4} {7}300\n/);
    expect(r.stdout).toMatch(/macro avg/);
    expect(r.stdout).toMatch(
      /\nloss {12}\d+\.\d{4}\ntop-2 accuracy {2}0\.\d{4}\ntop-3 accuracy {2}0\.\d{4}\ntop-5 accuracy {2}0\.\d{4}\n/,
    );
    expect(r.stdout).toMatch(/confusion matrix \(rows: true label, columns: predicted label\)\n/);
    expect(r.stdout).toMatch(/^\[13\] toys_games/m);
    expect(r.stderr).toMatch(/backend: cpu/);
    expect(r.stderr).not.toMatch(/evaluating \[/); // no progress bar off a terminal
  });

  it('--json: stable key names', () => {
    const r = runCli(evalArgs('--json'));
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual([
      'format',
      'version',
      'created',
      'split',
      'rows',
      'labels',
      'accuracy',
      'loss',
      'macro_precision',
      'macro_recall',
      'macro_f1',
      'weighted_precision',
      'weighted_recall',
      'weighted_f1',
      'per_class',
      'confusion_matrix',
      'top_k_accuracy',
      'roc_auc',
      'pr_auc',
      'positive_label',
      'notes',
      'source',
      'backend',
      'seconds',
      'rows_per_second',
      'gates',
    ]);
    expect(j).toMatchObject({
      format: 'recsys-eval',
      version: 1,
      split: 'test',
      rows: 300,
      roc_auc: null,
      pr_auc: null,
      positive_label: null,
      gates: null,
      backend: 'cpu',
    });
    expect(Object.keys(j.per_class)).toEqual(j.labels);
    expect(Object.keys(j.per_class.apparel)).toEqual(['precision', 'recall', 'f1', 'support']);
    expect(j.confusion_matrix).toHaveLength(14);
    expect(j.confusion_matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(300);
    expect(Object.keys(j.top_k_accuracy)).toEqual(['2', '3', '5']);
    expect(j.source).toMatchObject({ run, dataset, split_file: 'test.arrow' });
    expect(j.source.split_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('--markdown for CI job summaries; --json and --markdown are exclusive', () => {
    const r = runCli(evalArgs('--markdown', '--top-k', '4'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^### recsys eval: test split, 300 rows\n/);
    expect(r.stdout).toMatch(/\| accuracy \| 0\.\d{4} \|/);
    expect(r.stdout).toMatch(/\| top-4 accuracy \| 0\.\d{4} \|/);
    expect(r.stdout).toMatch(
      /\| label \| precision \| recall \| F1 \| support \|\n\|---\|---:\|---:\|---:\|---:\|\n\| apparel \|/,
    );
    expect(r.stdout).toMatch(/\| \*\*weighted avg\*\* \|/);
    expect(r.stdout).toContain('| true \\ predicted | apparel | automotive |');
    const both = runCli(evalArgs('--json', '--markdown'));
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--json and --markdown are exclusive/);
  });

  it('--report DIR: a self-contained HTML report (heatmap, bars, training curves) plus the JSON', () => {
    const out = path.join(dir, 'report');
    const r = runCli(evalArgs('--report', out, '--min', 'accuracy=0'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`report: ${path.join(out, 'index.html')}`);
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    const json = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(json.format).toBe('recsys-eval');
    expect(json.gates.passed).toBe(true);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<h2>Confusion matrix</h2><svg');
    expect(html).toContain('aria-label="per-class metrics"');
    expect(html).toContain('<h2>Training curves</h2>');
    expect(html).toContain('>train.loss</text>');
    expect(html).toContain('>validation.macro_f1</text>');
    expect(html).toContain('Quality gate passed: 1 conditions');
    // offline: nothing fetched, nothing executed
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(|src=|href=/i);
    expect(html.match(/https?:\/\/[^"]*/g)!.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
  });

  // util-linux `script` gives the child a pseudo-terminal: a missing one fails the test (SCRIPT_CMD says how to
  // install it) unless skipping is allowed locally.
  const script = reference(SCRIPT_CMD);
  it.skipIf(script.skip)('shows a progress bar with rows/s on a terminal', () => {
    script.require();
    const cmd = [process.execPath, path.join(repoRoot, 'bin/recsys.js'), ...evalArgs('--batch-size', '8')]
      .map((a) => `'${a}'`)
      .join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', cwd: repoRoot, timeout: 120_000 });
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/evaluating \[[█░ ]*\] \d+\/300 rows \| \d+ rows\/s/);
  });

  it('writes --predictions as JSON lines and refuses a split the dataset lacks', () => {
    const preds = path.join(dir, 'p.jsonl');
    const r = runCli(evalArgs('--predictions', preds, '--json'));
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(preds, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(300);
    expect(Object.keys(JSON.parse(lines[0]))).toEqual([
      'row',
      'label',
      'pred',
      'label_id',
      'pred_id',
      'score',
      'loss',
      'logits',
    ]);
    const v = runCli(evalArgs('--split', 'validation'));
    expect(v.code).toBe(2);
    expect(v.stderr).toContain(
      `recsys: error: ${dataset}: the "validation" split is empty; splits with rows: train (150), test (300) ` +
        '(choose one with --split)',
    );
    const bad = runCli(evalArgs('--split', 'dev'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/eval\.split: .*"dev"/);
  });
});

describe('recsys eval: which data, and the manifest check', () => {
  it('needs --data when the run does not name its dataset', () => {
    const bare = path.join(dir, 'run-bare');
    makeRun(dataset, bare, ['--seed', '5', '--no-config']);
    const r = runCli(['eval', '--run', bare, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `recsys eval: --data DATASET_DIR is required: ${bare} does not record its dataset (manifest.json ` +
        'dataset_dir, config.yaml data.out)',
    );
    const ok = runCli(['eval', '--run', bare, '--data', dataset, '--backend', 'cpu', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).rows).toBe(300);
    const recorded = path.join(dir, 'run-recorded');
    makeRun(dataset, recorded, ['--seed', '5', '--no-config', '--record-dataset']);
    const fromManifest = runCli(['eval', '--run', recorded, '--backend', 'cpu', '--json']);
    expect(fromManifest.code, fromManifest.stderr).toBe(0);
    expect(JSON.parse(fromManifest.stdout).source.dataset).toBe(dataset);
    const none = runCli(['eval', '--backend', 'cpu']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--run RUN_DIR or --model EXPORT_DIR is required/);
    const notRun = runCli(['eval', '--run', dataset, '--data', dataset, '--backend', 'cpu']);
    expect(notRun.code).toBe(2);
    expect(notRun.stderr).toContain(
      `recsys: error: ${dataset}: no model/config.json; not a recsys run directory (see docs/run-dir.md)`,
    );
  });

  it(
    'refuses a dataset with another max_length, label set, label order or tokenizer, saying what differs ' + '(exit 3)',
    () => {
      const csv = path.join(dir, 'data.csv');
      const longer = path.join(dir, 'ds-len');
      prepare(csv, longer, ['--max-length', '32']);
      let r = runCli(evalArgs('--data', longer));
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(
        `recsys: error: ${longer} was prepared differently from the data ${run} was trained on (max_length differs)`,
      );
      expect(r.stderr).toContain('  max_length: the run was trained at 24, the dataset was prepared at 32');

      const binCsv = path.join(dir, 'binary.csv');
      intentCsv(binCsv, { rows: 450, binary: true });
      const other = path.join(dir, 'ds-labels');
      prepare(binCsv, other);
      r = runCli(evalArgs('--data', other));
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/\(labels differs\)/);
      expect(r.stderr).toMatch(
        new RegExp(
          'labels: the dataset has "other" that the run does not; the run ' +
            String.raw`has "apparel", "automotive", .* that the dataset does not \(run: ` +
            String.raw`14 labels, dataset: 2\)`,
        ),
      );

      const labels = JSON.parse(readFileSync(path.join(dataset, 'manifest.json'), 'utf8')).labels as string[];
      const reordered = path.join(dir, 'ds-order');
      prepare(csv, reordered, ['--set', `data.labels=[${[...labels].reverse().join(',')}]`]);
      r = runCli(evalArgs('--data', reordered));
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        new RegExp(
          String.raw`labels: same labels in another order \(run \["apparel",.*\], ` +
            String.raw`dataset \["toys_games",.*\]\), so label ids differ`,
        ),
      );

      const vocab = readFileSync(vocabPath, 'utf8').replace('[unused0]', '[unused0x]');
      const vocabFile = path.join(dir, 'vocab-changed.txt');
      writeFileSync(vocabFile, vocab);
      const tok = path.join(dir, 'ds-tok');
      prepare(csv, tok, ['--tokenizer', vocabFile, '--max-length', '32']);
      r = runCli(evalArgs('--data', tok));
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/\(tokenizer, max_length differ\)/);
      expect(r.stderr).toMatch(
        new RegExp(
          'tokenizer: the run was trained with tokenizer sha256 [0-9a-f]{12}… ' +
            String.raw`\(vocab\.txt, 30522 tokens\), the dataset was prepared with ` +
            String.raw`[0-9a-f]{12}… \(vocab\.txt, 30522 tokens\)`,
        ),
      );
    },
  );

  it('refuses a run whose model labels differ from its manifest, and a split file changed after prepare', () => {
    const wrong = path.join(dir, 'run-wrong-labels');
    const labels = JSON.parse(readFileSync(path.join(dataset, 'manifest.json'), 'utf8')).labels as string[];
    makeRun(dataset, wrong, ['--seed', '5', '--labels', [...labels.slice(1), 'zzz'].join(',')]);
    let r = runCli(['eval', '--run', wrong, '--backend', 'cpu']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /model\/config\.json: id2label \["automotive",.*"zzz"\] differs from the run manifest's labels \["apparel",/,
    );

    const copy = path.join(dir, 'ds-tampered');
    mkdirSync(copy);
    for (const f of ['manifest.json', 'train.arrow', 'test.arrow'])
      writeFileSync(path.join(copy, f), readFileSync(path.join(dataset, f)));
    const m = JSON.parse(readFileSync(path.join(copy, 'manifest.json'), 'utf8'));
    m.splits.test.sha256 = '0'.repeat(64);
    writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify(m));
    r = runCli(evalArgs('--data', copy));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(
        String.raw`test\.arrow: sha256 [0-9a-f]{12}… differs from the manifest's ` +
          '000000000000…; the split changed after recsys prepare',
      ),
    );
  });
});

describe('recsys eval: quality gates', () => {
  it('passing gates print as passed and exit 0', () => {
    const r = runCli(evalArgs('--min', 'accuracy=0.01', '--min', 'recall:apparel=0', '--max', 'loss=100'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\ngate PASS accuracy = 0\.\d{6}, needs >= 0\.01 \(--min\)\n/);
    expect(r.stdout).toMatch(/\ngate PASS recall:apparel = \d\.\d{6}, needs >= 0 \(--min\)\n/);
    expect(r.stdout).toMatch(/\ngate PASS loss = \d+\.\d{6}, needs <= 100 \(--max\)\n/);
    expect(r.stdout).toMatch(/\nquality gate passed: 3 conditions\n$/);
  });

  it('a failed gate prints one line per failed condition (metric, value, threshold) and exits 1', () => {
    const r = runCli(
      evalArgs(
        '--min',
        'accuracy=0',
        '--min',
        'macro_f1=0.99',
        '--min',
        'recall:electronics=0.95',
        '--min',
        'top_4_accuracy=0.999',
      ),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\ngate PASS accuracy = 0\.\d{6}, needs >= 0 \(--min\)\n/);
    expect(r.stdout).toMatch(/\ngate FAIL macro_f1 = 0\.\d{6}, needs >= 0\.99 \(--min\)\n/);
    expect(r.stdout).toMatch(/\ngate FAIL recall:electronics = 0\.\d{6}, needs >= 0\.95 \(--min\)\n/);
    expect(r.stdout).toMatch(/\ngate FAIL top_4_accuracy = 0\.\d{6}, needs >= 0\.999 \(--min\)\n/);
    expect(r.stderr).toContain(
      'recsys: error: quality gate failed: 3 of 4 conditions (macro_f1, recall:electronics, top_4_accuracy)',
    );
    expect(r.stdout).toMatch(/top-4 accuracy/); // a gated top-k is computed even when not a default k
  });

  it('--json keeps stdout machine-readable: the gates are in the JSON, the lines on stderr', () => {
    const r = runCli(evalArgs('--json', '--min', 'macro_f1=0.99'));
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.gates.passed).toBe(false);
    expect(j.gates.results[0]).toMatchObject({
      metric: 'macro_f1',
      op: '>=',
      threshold: 0.99,
      passed: false,
      source: '--min',
      condition: '>= 0.99 (--min)',
    });
    expect(r.stderr).toMatch(/gate FAIL macro_f1 = 0\.\d{6}, needs >= 0\.99 \(--min\)/);
  });

  it('unknown metrics and labels are usage errors that list the valid names', () => {
    let r = runCli(evalArgs('--min', 'acuracy=0.9'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'recsys: error: --min acuracy=0.9: unknown metric "acuracy" (did you mean "accuracy"?); valid metrics: ' +
        'accuracy, loss, macro_precision, macro_recall, macro_f1, weighted_precision, weighted_recall, ' +
        'weighted_f1, top_K_accuracy (1 < K < 14), precision:<label>, recall:<label>, f1:<label>; labels: apparel, ' +
        'automotive, baby,',
    );
    r = runCli(evalArgs('--min', 'recall:electronix=0.8'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        String.raw`--min recall:electronix=0\.8: unknown label "electronix" \(did ` +
          String.raw`you mean "recall:electronics"\?\); labels: apparel, `,
      ),
    );
    r = runCli(evalArgs('--min', 'roc_auc=0.8'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        String.raw`--min roc_auc=0\.8: roc_auc is only computed for binary tasks ` +
          String.raw`\(this one has 14 labels\); valid metrics: accuracy,`,
      ),
    );
    r = runCli(evalArgs('--min', 'loss=0.5'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--min loss=0\.5: loss is lower-is-better; use --max loss=0\.5/);
    r = runCli(evalArgs('--min', 'accuracy'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--min accuracy: expected METRIC=NUMBER, e\.g\. --min accuracy=0\.9/);
    r = runCli(evalArgs('--min', 'top_14_accuracy=0.5'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/top_14_accuracy: K must be between 2 and 13 for 14 classes/);
    r = runCli(evalArgs('--max-drop', '0.01'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-drop needs --baseline OLD_REPORT\.json \(or eval\.baseline in the config\)/);
  });

  it('--baseline with --max-drop: a metric more than max-drop below the baseline fails', () => {
    const base = runCli(evalArgs('--json'));
    expect(base.code, base.stderr).toBe(0);
    const same = path.join(dir, 'baseline-same.json');
    writeFileSync(same, base.stdout);
    let r = runCli(evalArgs('--baseline', same, '--max-drop', '0'));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/gate PASS accuracy = 0\.\d{6}, needs >= 0\.\d+ \(baseline 0\.\d+ minus max drop 0\)/);
    expect(r.stdout).toMatch(/gate PASS macro_f1 = /);
    expect(r.stdout).toMatch(/gate PASS weighted_f1 = /);
    expect(r.stdout).toMatch(/quality gate passed: 3 conditions/);

    const j = JSON.parse(base.stdout);
    const better = { ...j, accuracy: j.accuracy + 0.05, macro_f1: j.macro_f1 + 0.005, loss: j.loss - 0.2 };
    const file = path.join(dir, 'baseline-better.json');
    writeFileSync(file, JSON.stringify(better));
    r = runCli(evalArgs('--baseline', file, '--max-drop', '0.01', '--baseline-metrics', 'accuracy,macro_f1,loss'));
    expect(r.code).toBe(1);
    const acc = j.accuracy.toFixed(6);
    expect(r.stdout).toContain(
      `gate FAIL accuracy = ${acc}, needs >= ${Number((j.accuracy + 0.04).toFixed(6))} (baseline ` +
        `${Number((j.accuracy + 0.05).toFixed(6))} minus max drop 0.01)`,
    );
    expect(r.stdout).toMatch(/gate PASS macro_f1 = .*\(baseline .* minus max drop 0\.01\)/);
    expect(r.stdout).toMatch(
      /gate FAIL loss = \d+\.\d{6}, needs <= \d+\.\d+ \(baseline \d+\.\d+ plus max drop 0\.01\)/,
    );
    expect(r.stderr).toContain('quality gate failed: 2 of 3 conditions (accuracy, loss)');

    writeFileSync(path.join(dir, 'not-a-report.json'), '{"accuracy": 1}');
    r = runCli(evalArgs('--baseline', path.join(dir, 'not-a-report.json')));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not-a-report\.json: not a recsys eval report \(expected "format": "recsys-eval"/);
  });

  it(
    'gates from the config: eval.min, eval.baseline (relative to the YAML file) and eval.max_drop; --min overrides ' +
      'the same metric',
    () => {
      const cfgDir = path.join(dir, 'cfg');
      mkdirSync(cfgDir, { recursive: true });
      const base = JSON.parse(runCli(evalArgs('--json')).stdout);
      writeFileSync(
        path.join(cfgDir, 'baseline.json'),
        JSON.stringify({ ...base, weighted_f1: base.weighted_f1 + 0.5 }),
      );
      writeFileSync(
        path.join(cfgDir, 'eval.yaml'),
        'train:\n  out: ../run\neval:\n  batch_size: 16\n  min:\n    accuracy: 0.99\n    "recall:apparel": 0\n  ' +
          'baseline: baseline.json\n  max_drop: 0.02\n',
      );
      let r = runCli(['eval', '-c', path.join(cfgDir, 'eval.yaml'), '--backend', 'cpu']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/gate FAIL accuracy = 0\.\d{6}, needs >= 0\.99 \(config eval\.min\)/);
      expect(r.stdout).toMatch(/gate PASS recall:apparel = \d\.\d{6}, needs >= 0 \(config eval\.min\)/);
      expect(r.stdout).toMatch(
        /gate FAIL weighted_f1 = 0\.\d{6}, needs >= \d\.\d+ \(baseline \d\.\d+ minus max drop 0\.02\)/,
      );
      expect(r.stderr).toContain('quality gate failed: 2 of 6 conditions (accuracy, weighted_f1)');
      r = runCli([
        'eval',
        '-c',
        path.join(cfgDir, 'eval.yaml'),
        '--backend',
        'cpu',
        '--min',
        'accuracy=0',
        '--max-drop',
        '1',
      ]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/gate PASS accuracy = 0\.\d{6}, needs >= 0 \(--min\)/);
      expect(r.stdout).not.toMatch(/config eval\.min.*accuracy|accuracy.*config eval\.min/);
      writeFileSync(path.join(cfgDir, 'typo.yaml'), `train:\n  out: ../run\neval:\n  min:\n    macro_f2: 0.5\n`);
      r = runCli(['eval', '-c', path.join(cfgDir, 'typo.yaml'), '--backend', 'cpu']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /eval\.min\.macro_f2: unknown metric "macro_f2" \(did you mean "macro_f1"\?\); valid metrics:/,
      );
    },
  );

  it(
    'config eval.max, eval.baseline_metrics and eval.top_k; --max, --baseline-metrics and --top-k ' + 'override them',
    () => {
      const cfgDir = path.join(dir, 'cfg-more');
      mkdirSync(cfgDir, { recursive: true });
      const base = JSON.parse(runCli(evalArgs('--json')).stdout);
      writeFileSync(path.join(cfgDir, 'baseline.json'), JSON.stringify(base));
      writeFileSync(
        path.join(cfgDir, 'eval.yaml'),
        'train:\n  out: ../run\neval:\n  max:\n    loss: 0.01\n  baseline: baseline.json\n  baseline_metrics: ' +
          '[macro_recall, "f1:apparel"]\n  top_k: [4, 6]\n',
      );
      let r = runCli(['eval', '-c', path.join(cfgDir, 'eval.yaml'), '--backend', 'cpu', '--json']);
      expect(r.code).toBe(1);
      const j = JSON.parse(r.stdout);
      expect(Object.keys(j.top_k_accuracy)).toEqual(['4', '6']);
      expect(j.gates.results.map((g: { metric: string; source: string }) => `${g.metric} ${g.source}`)).toEqual([
        'loss config eval.max',
        'macro_recall baseline',
        'f1:apparel baseline',
      ]);
      expect(r.stderr).toMatch(/gate FAIL loss = \d+\.\d{6}, needs <= 0\.01 \(config eval\.max\)/);
      r = runCli([
        'eval',
        '-c',
        path.join(cfgDir, 'eval.yaml'),
        '--backend',
        'cpu',
        '--max',
        'loss=100',
        '--baseline-metrics',
        'accuracy',
        '--top-k',
        '3',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const k = JSON.parse(r.stdout);
      expect(Object.keys(k.top_k_accuracy)).toEqual(['3']);
      expect(k.gates.results.map((g: { metric: string; source: string }) => `${g.metric} ${g.source}`)).toEqual([
        'loss --max',
        'accuracy baseline',
      ]);
      writeFileSync(
        path.join(cfgDir, 'bad.yaml'),
        `train:\n  out: ../run\neval:\n  top_k: [14]\n  baseline_metrics: [acuracy]\n  baseline: baseline.json\n`,
      );
      r = runCli(['eval', '-c', path.join(cfgDir, 'bad.yaml'), '--backend', 'cpu']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /eval\.baseline_metrics acuracy: unknown metric "acuracy" \(did you mean "accuracy"\?\)/,
      );
    },
  );
});

describe('recsys eval: signals', () => {
  it('Ctrl-C stops the evaluation with exit 130 and leaves no partial predictions', async () => {
    const big = path.join(dir, 'big');
    mkdirSync(big);
    intentCsv(path.join(big, 'data.csv'), { rows: 3000 });
    prepare(path.join(big, 'data.csv'), path.join(big, 'dataset'));
    makeRun(path.join(big, 'dataset'), path.join(big, 'run'), ['--seed', '5']);
    const out = path.join(big, 'out');
    mkdirSync(out);
    const child = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'bin/recsys.js'),
        'eval',
        '--run',
        path.join(big, 'run'),
        '--backend',
        'cpu',
        '--batch-size',
        '4',
        '--predictions',
        path.join(out, 'p.jsonl'),
        '--report',
        path.join(out, 'report'),
      ],
      { cwd: repoRoot },
    );
    let stderr = '';
    let scheduled = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/backend: cpu/.test(stderr) && !scheduled) {
        scheduled = true;
        setTimeout(() => child.kill('SIGINT'), 300);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('recsys: error: interrupted by SIGINT; no report or predictions written');
    expect(readdirSync(out)).toEqual([]);
  });
});
