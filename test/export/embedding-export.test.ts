import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { openModel } from '../../src/infer/model.js';
import { RowCache } from '../../src/serve/cache.js';
import { embed } from '../../src/serve/inference.js';
import { servedModel } from '../../src/serve/models.js';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { referencePython } from '../helpers/python.js';

/**
 * The export of a bi-encoder run (task embedding): last_hidden_state and sentence_embedding outputs that
 * transformers.js's feature-extraction pipeline, `recsys embed` and TensorFlow read, each equal to
 * `recsys embed --model RUN` within 1e-4.
 */
const root = tempDir('recsys-embedding-export-');
const runDir = path.join(root, 'run');
const exportDir = path.join(root, 'export');
const input = path.join(root, 'texts.csv');
const TEXTS = [
  'usb c charger',
  'red running shoes for men size 10 waterproof trail with a long description that goes on',
  'lamp',
  'landscape 1000 piece puzzle',
];

function python(args: string[]): void {
  const r = spawnSync(referencePython(), args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(r.stderr);
}

function cli(args: string[]): string {
  const withBackend = args[0] === 'prepare' ? args : [...args, '--backend', 'tensorflow'];
  const r = runCli(withBackend, { env: { TF_CPP_MIN_LOG_LEVEL: '2' } });
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stderr;
}

function vectorsOf(out: string): number[][] {
  const table = tableFromIPC(readFileSync(path.join(out, 'embeddings.arrow')));
  const vector = table.getChild('vector')!;
  return Array.from({ length: table.numRows }, (_, i) => Array.from(vector.get(i)!.toArray() as Float32Array));
}

const maxDiff = (got: number[][], want: number[][]) =>
  Math.max(...got.flatMap((v, i) => v.map((x, d) => Math.abs(x - want[i][d]))));

let exportLog = '';
let fromRun: number[][] = [];

beforeAll(() => {
  const config = path.join(repoRoot, 'configs/biencoder.yaml');
  const dataset = path.join(root, 'ds');
  // The config's input is made by scripts/catalogue-triplets.ts; the judged triplets alone have its columns.
  cli(['prepare', '-c', config, '--input', path.join(repoRoot, 'data/triplets.csv'), '--out', dataset]);
  const checkpoint = path.join(root, 'ckpt');
  python([path.join(repoRoot, 'scripts/make_small_checkpoint.py'), checkpoint, '--labels', 'LABEL_0']);
  cli(['train', '-c', config, '--data', dataset, '--model', checkpoint, '--out', runDir, '--max-steps', '3']);
  exportLog = cli(['export', '--run', runDir, '--out', exportDir, '--format', 'onnx,savedmodel', '--check-rows', '64']);
  writeFileSync(input, `text\n${TEXTS.map((t) => `"${t}"`).join('\n')}\n`);
  cli(['embed', '--model', runDir, '--input', input, '--text-column', 'text', '--out', path.join(root, 'e-run')]);
  fromRun = vectorsOf(path.join(root, 'e-run'));
}, 900_000);

describe('export of a bi-encoder run', () => {
  it('passes the parity gate on sentence_embedding for both formats', () => {
    expect(exportLog).toMatch(/parity onnx: .*passed/);
    expect(exportLog).toMatch(/parity savedmodel: .*passed/);
    const record = JSON.parse(readFileSync(path.join(exportDir, 'export.json'), 'utf8'));
    expect(record.formats.onnx.output).toMatch(/^sentence_embedding float32 \[batch_size, \d+\]; last_hidden_state/);
    const spread = Math.max(...fromRun[0].map((x, d) => Math.abs(x - fromRun[1][d])));
    expect(spread, 'vectors must differ between texts').toBeGreaterThan(1e-2);
  });

  it('the ONNX file passes onnx.checker full_check and strict shape inference, encoder weights only', () => {
    const file = path.join(exportDir, 'onnx', 'model.onnx');
    const r = spawnSync(referencePython(), [path.join(repoRoot, 'scripts/check_onnx.py'), file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(report.outputs.map((o: [string]) => o[0])).toEqual(['sentence_embedding', 'last_hidden_state']);
    expect(report.finite).toBe(true);
    expect(r.stderr).not.toMatch(/Removing initializer/); // the unused pooler and head are not exported
  });

  it('recsys embed --model EXPORT_DIR equals embed --model RUN', () => {
    const out = path.join(root, 'e-export');
    cli(['embed', '--model', exportDir, '--input', input, '--text-column', 'text', '--out', out]);
    expect(maxDiff(vectorsOf(out), fromRun)).toBeLessThan(1e-4);
  });

  it("transformers.js pipeline('feature-extraction', dir) with mean pooling and normalize matches", async () => {
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = root;
    const extract = await pipeline('feature-extraction', path.basename(exportDir), {
      local_files_only: true,
      dtype: 'fp32',
    });
    const got = (await extract(TEXTS, { pooling: 'mean', normalize: true })).tolist() as number[][];
    expect(got).toHaveLength(TEXTS.length);
    expect(maxDiff(got, fromRun)).toBeLessThan(1e-4);
    await extract.dispose();
  });

  it('recsys serve /embed on the ONNX export answers the same vectors, alone and batched', async () => {
    const quiet = { info: () => {}, warn: () => {}, debug: () => {} };
    const model = await openModel(exportDir, { log: quiet });
    const served = await servedModel('emb', exportDir, model, '', {
      batching: { maxBatch: 3, maxWaitMs: 5, maxQueue: 100, inflight: 1 },
      pooling: 'mean',
      normalize: true,
      observe: () => ({}),
    });
    const limits = { maxItems: 64, maxChars: 2000 };
    const together = await embed(served, { inputs: TEXTS }, limits, new RowCache(0, 60));
    expect(maxDiff(together.vectors, fromRun)).toBeLessThan(1e-4);
    const alone = await Promise.all(TEXTS.map((t) => embed(served, { inputs: [t] }, limits, new RowCache(0, 60))));
    expect(
      maxDiff(
        alone.map((r) => r.vectors[0]),
        fromRun,
      ),
    ).toBeLessThan(1e-4);
    await model.close();
  });

  it('TensorFlow loads the SavedModel; its sentence_embedding equals recsys embed of the run', () => {
    const tokenized = TEXTS.map((t) => {
      const code =
        'import sys, json\nfrom transformers import BertTokenizerFast\n' +
        't = BertTokenizerFast.from_pretrained(sys.argv[1])\nprint(json.dumps(t(sys.argv[2])["input_ids"]))';
      const r = spawnSync(referencePython(), ['-c', code, exportDir, t], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout) as number[];
    });
    const code = [
      'import sys, json, os',
      'os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"',
      'import tensorflow as tf',
      'fn = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]',
      'out = []',
      'for ids in json.loads(sys.argv[2]):',
      '    x = tf.constant([ids], dtype=tf.int32)',
      '    r = fn(input_ids=x, attention_mask=tf.ones_like(x), token_type_ids=tf.zeros_like(x))',
      '    out.append(r["sentence_embedding"].numpy()[0].tolist())',
      'print(json.dumps(out))',
    ].join('\n');
    const r = spawnSync(
      referencePython(),
      ['-c', code, path.join(exportDir, 'savedmodel'), JSON.stringify(tokenized)],
      { encoding: 'utf8', timeout: 300_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as number[][];
    expect(maxDiff(got, fromRun)).toBeLessThan(1e-4);
  });
});
