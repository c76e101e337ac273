/**
 * bench/export: `recsys export` of a BERT-base-size model (L12 H768 A12, vocab 30522, 109M
 * parameters) into ONNX (+ int8) and SavedModel, with the parity gate on the reviews sample's
 * test split (max_length 128): wall time per step, file sizes, parity numbers, peak RSS. The run
 * dir is built like recsys train writes it, with random weights (init std --init, 0.02 by default,
 * biases and LayerNorm perturbed at the same scale); optionally the SavedModel is also loaded and timed in TF 2.21.
 *
 *   npx tsx bench/export.ts [--layers 12] [--hidden 768] [--rows 256] [--init 0.02] [--backend auto] [--tf]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../src/backend/index.js';
import { exportRun } from '../src/export/export.js';
import { makeLogger } from '../src/lib/log.js';
import { initParams, parseBertConfig, saveCheckpoint, saveHfModel } from '../src/model/index.js';

const root = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const layers = Number(arg('layers', '12'));
const hidden = Number(arg('hidden', '768'));
const rows = Number(arg('rows', '256'));
const withTf = process.argv.includes('--tf');
/** Init std; 0.02 is BERT's (pretrained-like scale), larger makes logits vary more and grow. */
const initStd = Number(arg('init', '0.02'));
const python = process.env.RECSYS_PYTHON ?? path.join(root, '.venv/bin/python');

const work = mkdtempSync(path.join(tmpdir(), 'recsys-bench-export-'));
const t = (label: string, t0: number) => console.error(`${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

try {
  const backend = await initBackend(arg('backend', 'auto') as BackendName);
  let t0 = performance.now();
  const dataset = path.join(work, 'dataset');
  const prep = spawnSync(
    process.execPath,
    [
      path.join(root, 'bin/recsys.js'),
      'prepare',
      '-c',
      path.join(root, 'configs/reviews.yaml'),
      '--out',
      dataset,
      '--no-progress',
    ],
    { encoding: 'utf8' },
  );
  if (prep.status !== 0) throw new Error(prep.stderr);
  t('prepare reviews', t0);
  const manifest = JSON.parse(readFileSync(path.join(dataset, 'manifest.json'), 'utf8'));

  t0 = performance.now();
  const config = parseBertConfig(
    {
      model_type: 'bert',
      vocab_size: 30522,
      hidden_size: hidden,
      num_hidden_layers: layers,
      num_attention_heads: hidden / 64,
      intermediate_size: 4 * hidden,
      max_position_embeddings: 512,
      initializer_range: initStd,
      problem_type: 'single_label_classification',
      id2label: Object.fromEntries(manifest.labels.map((l: string, i: number) => [String(i), l])),
    },
    'bench',
  );
  const params = initParams(config, 1);
  let seed = 100;
  for (const [name, p] of params) {
    if (name.endsWith('LayerNorm.weight') || name.endsWith('.bias')) {
      const v = name.endsWith('.bias')
        ? tf.randomNormal(p.shape, 0, initStd, 'float32', ++seed)
        : tf.tidy(() => tf.add(1, tf.mul(initStd, tf.randomNormal(p.shape, 0, 1, 'float32', ++seed))));
      p.dispose();
      params.set(name, v);
    }
  }
  const runDir = path.join(work, 'run');
  const modelDir = path.join(runDir, 'model');
  mkdirSync(modelDir, { recursive: true });
  await saveHfModel(modelDir, config, params);
  await saveCheckpoint(modelDir, config, params);
  for (const f of readdirSync(path.join(dataset, 'tokenizer')))
    copyFileSync(path.join(dataset, 'tokenizer', f), path.join(modelDir, f));
  writeFileSync(path.join(runDir, 'manifest.json'), JSON.stringify({ ...manifest, dataset_dir: dataset }));
  writeFileSync(path.join(runDir, 'train_summary.json'), JSON.stringify({ stop_reason: 'bench' }));
  for (const p of params.values()) p.dispose();
  const nParams = [...params.values()].reduce((n, p) => n + p.size, 0);
  t(`run dir (${(nParams / 1e6).toFixed(1)}M parameters)`, t0);

  t0 = performance.now();
  const out = path.join(work, 'export');
  const result = await exportRun({
    atol: Number(arg('atol', '1e-4')),
    runDir,
    out,
    formats: ['onnx', 'savedmodel'],
    checkRows: rows,
    quantize: 'int8',
    // Random weights: the int8 agreement is reported here, not gated (a trained model's export gates it).
    int8MinAgreement: 0,
    log: makeLogger(),
  });
  const exportSeconds = (performance.now() - t0) / 1000;
  const parity = JSON.parse(readFileSync(path.join(out, 'parity.json'), 'utf8'));
  const summary: Record<string, unknown> = {
    model: `L${layers} H${hidden}`,
    parameters: nParams,
    backend: backend.name,
    rows,
    export_seconds: exportSeconds,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    onnx: {
      bytes: result.record.formats.onnx!.bytes,
      write_seconds: result.record.formats.onnx!.write_seconds,
      ...pick(parity.formats.onnx),
    },
    onnx_int8: parity.onnx_int8,
    savedmodel: {
      bytes: result.record.formats.savedmodel!.bytes,
      write_seconds: result.record.formats.savedmodel!.write_seconds,
      ...pick(parity.formats.savedmodel),
    },
  };
  if (withTf) {
    const code =
      `import os, time, sys\nos.environ['TF_CPP_MIN_LOG_LEVEL']='3'\nimport numpy as np, ` +
      `tensorflow as tf\nt=time.time(); ` +
      `f=tf.saved_model.load(sys.argv[1]).signatures['serving_default']; ` +
      `l=time.time()-t\nx=np.full((8,128),1000,np.int32); t=time.time(); f(input_ids=x, ` +
      `attention_mask=np.ones_like(x), token_type_ids=np.zeros_like(x)); ` +
      `c=time.time()-t\nprint(f'{l:.2f} {c:.2f}')`;
    const r = spawnSync(python, ['-c', code, path.join(out, 'savedmodel')], { encoding: 'utf8' });
    const [load, first] = r.stdout.trim().split(' ').map(Number);
    summary.tf_savedmodel = {
      load_seconds: load,
      first_call_8x128_seconds: first,
      error: r.status ? r.stderr.slice(-300) : undefined,
    };
  }
  console.log(JSON.stringify(summary, null, 2));
} finally {
  if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
  else console.error(`kept ${work}`);
}

function pick(p: Record<string, unknown>) {
  const { max_abs_diff, mean_abs_diff, argmax_agreement, seconds, runtime } = p;
  return { max_abs_diff, mean_abs_diff, argmax_agreement, seconds, runtime };
}
