import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { readManifest } from '../../src/data/manifest.js';
import type { ExportRecord } from '../../src/export/export.js';
import { loadCheckRows } from '../../src/export/parity.js';
import { tfjsRunner } from '../../src/infer/runners.js';
import { loadModelDir } from '../../src/infer/model-dir.js';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { py, reference, referencePython } from '../helpers/python.js';
import { prepareSample, type Sample } from './run-fixture.js';

/**
 * The "done when": from a run dir of each sample config, as `recsys train` writes it, both
 * formats export and pass the parity gate; the ONNX files pass onnx.checker full_check; the
 * SavedModels load and match in TensorFlow 2.21 (TF2 loader, TF1 loader, C API).
 */

const root = tempDir('recsys-export-samples-');
const SAMPLES: Sample[] = ['intent', 'esci', 'reviews'];
const exported: Record<string, { runDir: string; datasetDir: string; out: string }> = {};
const onnxPython = reference(py('onnx', 'onnxruntime'));
const tensorflow = reference(py('tensorflow'));

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('export from a trained run of every sample config', () => {
  for (const sample of SAMPLES) {
    it(`${sample}: recsys train (2 steps) → recsys export --format onnx,savedmodel passes the gate`, () => {
      const datasetDir = prepareSample(sample, path.join(root, `${sample}-dataset`));
      const runDir = path.join(root, `${sample}-run`);
      const out = path.join(root, `${sample}-export`);
      const cfg = path.join(repoRoot, 'configs', `${sample}.yaml`);
      const t = runCli([
        'train',
        '-c',
        cfg,
        '--data',
        datasetDir,
        '--out',
        runDir,
        '--max-steps',
        '2',
        '--no-progress',
      ]);
      expect(t.code, t.stderr).toBe(0);
      const e = runCli([
        'export',
        '-c',
        cfg,
        '--run',
        runDir,
        '--format',
        'onnx,savedmodel',
        '--out',
        out,
        '--check-rows',
        '128',
      ]);
      expect(e.code, e.stderr).toBe(0);
      expect(e.stderr.match(/→ passed/g)).toHaveLength(2);
      const record = JSON.parse(readFileSync(path.join(out, 'export.json'), 'utf8')) as ExportRecord;
      expect(record.formats.onnx!.status).toBe('passed');
      expect(record.formats.savedmodel!.status).toBe('passed');
      expect(record.check.rows).toBe(128);
      exported[sample] = { runDir, datasetDir, out };
    });
  }

  it.skipIf(onnxPython.skip)('every ONNX export passes onnx.checker full_check and runs in Python onnxruntime', () => {
    onnxPython.require();
    const files = SAMPLES.filter((s) => exported[s]).map((s) => path.join(exported[s].out, 'onnx', 'model.onnx'));
    expect(files).toHaveLength(SAMPLES.length);
    const r = spawnSync(referencePython(), [path.join(repoRoot, 'scripts/check_onnx.py'), ...files], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const reports = r.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            ir_version: number;
            opset: number;
            inputs: unknown[];
            finite: boolean;
            metadata: string[];
          },
      );
    for (const rep of reports) {
      expect(rep).toMatchObject({ ir_version: 8, opset: 17, finite: true });
      expect(rep.inputs).toEqual([
        ['input_ids', ['batch_size', 'sequence_length']],
        ['attention_mask', ['batch_size', 'sequence_length']],
        ['token_type_ids', ['batch_size', 'sequence_length']],
      ]);
      expect(rep.metadata).toContain('recsys.manifest');
    }
  });

  it.skipIf(tensorflow.skip)('every SavedModel export matches the run in TensorFlow 2.21 on real rows', async () => {
    tensorflow.require();
    const args: string[] = [];
    for (const s of SAMPLES) {
      const e = exported[s];
      expect(e, s).toBeDefined();
      const m = await loadModelDir(path.join(e.runDir, 'model'));
      const manifest = readManifest(e.datasetDir);
      const rows = await loadCheckRows(e.datasetDir, manifest, 'test', 48, manifest.tokenizer.special_ids.pad, 16);
      const ref = tfjsRunner(m.params, m.config);
      const cases = [];
      for (const [i, { batch }] of rows.batches.entries()) {
        const logits = Array.from(await ref.run(batch));
        const L = m.config.id2label.length;
        const nested = (a: Int32Array) =>
          Array.from({ length: batch.batch }, (_, r) => Array.from(a.subarray(r * batch.seq, (r + 1) * batch.seq)));
        cases.push({
          name: `batch${i}`,
          input_ids: nested(batch.inputIds),
          attention_mask: nested(batch.attentionMask),
          token_type_ids: nested(batch.tokenTypeIds),
          logits: Array.from({ length: batch.batch }, (_, r) => logits.slice(r * L, (r + 1) * L)),
        });
      }
      const file = path.join(root, `${s}.cases.json`);
      writeFileSync(file, JSON.stringify(cases));
      args.push(path.join(e.out, 'savedmodel'), file);
    }
    const r = spawnSync(referencePython(), [path.join(repoRoot, 'scripts/check_savedmodel.py'), ...args], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    });
    expect(r.status, r.stderr).toBe(0);
    const reports = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { results: Array<{ loader: string; case: string; max_abs_diff: number }> });
    expect(reports).toHaveLength(SAMPLES.length);
    for (const rep of reports) {
      expect(new Set(rep.results.map((x) => x.loader))).toEqual(new Set(['tf2', 'tf1', 'capi']));
      for (const x of rep.results) expect(x.max_abs_diff, `${x.loader} ${x.case}`).toBeLessThanOrEqual(1e-4);
    }
  });
});
