import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  initParams,
  parseBertConfig,
  saveCheckpoint,
  saveHfModel,
  type HiddenAct,
  type Params,
} from '../../src/model/index.js';
import { repoRoot, runCli } from '../helpers/cli.js';

/**
 * Run directories in the layout of docs/run-dir.md, built without training so that their logits
 * vary (conventions: a freshly initialised BERT at std 0.02 gives near-constant logits, and a
 * wrong mask/GELU/LayerNorm would still pass 1e-4): a real `recsys prepare` of a sample config,
 * a small BERT over the bert-base-uncased vocab with init std 0.2 and perturbed biases and
 * LayerNorm weights, saved by recsys's own HF and native checkpoint writers.
 */

export type Sample = 'intent' | 'esci' | 'reviews';

/** `recsys prepare -c configs/<sample>.yaml --out DIR` (once per DIR). */
export function prepareSample(sample: Sample, dir: string): string {
  if (existsSync(path.join(dir, 'manifest.json'))) return dir;
  const r = runCli(['prepare', '-c', path.join(repoRoot, 'configs', `${sample}.yaml`), '--out', dir, '--no-progress']);
  if (r.code !== 0) throw new Error(`recsys prepare ${sample} failed (${r.code}): ${r.stderr}`);
  return dir;
}

function perturb(params: Params, seed: number): void {
  let s = seed;
  for (const [name, t] of params) {
    if (name.endsWith('LayerNorm.weight')) {
      const v = tf.tidy(() => tf.add(1, tf.mul(0.3, tf.randomNormal(t.shape, 0, 1, 'float32', ++s))));
      t.dispose();
      params.set(name, v);
    } else if (name.endsWith('.bias')) {
      const v = tf.randomNormal(t.shape, 0, 0.2, 'float32', ++s);
      t.dispose();
      params.set(name, v);
    }
  }
}

export interface RunFixture {
  runDir: string;
  datasetDir: string;
  labels: string[];
}

export async function makeRun(
  root: string,
  opts: {
    sample: Sample;
    datasetDir: string;
    name?: string;
    act?: HiddenAct;
    hidden?: number;
    layers?: number;
    seed?: number;
  },
): Promise<RunFixture> {
  const datasetDir = prepareSample(opts.sample, opts.datasetDir);
  const manifest = JSON.parse(readFileSync(path.join(datasetDir, 'manifest.json'), 'utf8')) as {
    labels: string[];
    max_length: number;
    tokenizer: { dir: string; vocab_size: number };
  };
  const hidden = opts.hidden ?? 32;
  const config = parseBertConfig(
    {
      model_type: 'bert',
      vocab_size: manifest.tokenizer.vocab_size,
      hidden_size: hidden,
      num_hidden_layers: opts.layers ?? 2,
      num_attention_heads: 2,
      intermediate_size: 2 * hidden,
      hidden_act: opts.act ?? 'gelu',
      max_position_embeddings: 128,
      initializer_range: 0.2,
      problem_type: 'single_label_classification',
      id2label: Object.fromEntries(manifest.labels.map((l, i) => [String(i), l])),
    },
    'test run fixture',
  );
  const seed = opts.seed ?? 7;
  const params = initParams(config, seed);
  perturb(params, seed * 1000);
  const runDir = path.join(root, opts.name ?? `${opts.sample}-run`);
  const modelDir = path.join(runDir, 'model');
  mkdirSync(modelDir, { recursive: true });
  await saveHfModel(modelDir, config, params);
  await saveCheckpoint(modelDir, config, params, { best: { metric: 'macro_f1', value: null, step: 0 } });
  const tokDir = path.join(datasetDir, manifest.tokenizer.dir);
  for (const f of readdirSync(tokDir)) copyFileSync(path.join(tokDir, f), path.join(modelDir, f));
  writeFileSync(
    path.join(runDir, 'manifest.json'),
    JSON.stringify({ ...manifest, dataset_dir: path.resolve(datasetDir) }, null, 2),
  );
  writeFileSync(
    path.join(runDir, 'config.yaml'),
    `seed: ${seed}\ndata:\n  out: ${JSON.stringify(path.resolve(datasetDir))}\n`,
  );
  writeFileSync(
    path.join(runDir, 'train_summary.json'),
    JSON.stringify({
      stop_reason: 'test fixture (not trained)',
      steps: 0,
      best_value: null,
      dataset_dir: path.resolve(datasetDir),
    }),
  );
  for (const t of params.values()) t.dispose();
  return { runDir, datasetDir, labels: manifest.labels };
}
