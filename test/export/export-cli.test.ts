import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { exportRun, type ExportRecord } from '../../src/export/export.js';
import { decodeOnnxModel } from '../../src/export/onnx.js';
import { readBundle, writeBundle } from '../../src/export/tf/bundle.js';
import { GateError } from '../../src/lib/errors.js';
import { makeLogger } from '../../src/lib/log.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { makeRun, type RunFixture } from './run-fixture.js';

const root = tempDir('recsys-export-cli-');
let intent: RunFixture;
let esci: RunFixture;

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  intent = await makeRun(root, { sample: 'intent', datasetDir: path.join(root, 'intent-dataset') });
  esci = await makeRun(root, { sample: 'esci', datasetDir: path.join(root, 'esci-dataset'), act: 'gelu_new' });
});

const readJson = <T = Record<string, unknown>>(f: string) => JSON.parse(readFileSync(f, 'utf8')) as T;
type ParityDoc = {
  rows: number;
  split: string;
  formats: Record<
    string,
    { status: string; max_abs_diff: number; mean_abs_diff: number; argmax_agreement: number; runtime: string }
  >;
};

describe('recsys export (CLI, real prepared datasets)', () => {
  it('exports ONNX and SavedModel from a run dir, checks both on the test split, and writes an HF-style dir', () => {
    const out = path.join(root, 'intent-export');
    const r = runCli([
      'export',
      '--run',
      intent.runDir,
      '--format',
      'onnx,savedmodel',
      '--out',
      out,
      '--backend',
      'cpu',
      '--check-rows',
      '96',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        String.raw`parity onnx: 96 rows of test \(test\.arrow.*onnxruntime-node ` +
          String.raw`1\.30\.0.*max \|Δlogit\| .*argmax agreement 100\.00% → passed ` +
          String.raw`\(atol 1\.00e-4\)`,
      ),
    );
    expect(r.stderr).toMatch(/parity savedmodel: 96 rows of test .*tfjs-converter.*→ passed/);
    expect(readdirSync(out).sort()).toEqual([
      'config.json',
      'export.json',
      'manifest.json',
      'onnx',
      'parity.json',
      'savedmodel',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
    ]);
    expect(readdirSync(path.join(out, 'onnx'))).toEqual(['model.onnx']);
    expect(readdirSync(path.join(out, 'savedmodel')).sort()).toEqual(['assets.extra', 'saved_model.pb', 'variables']);
    expect(readdirSync(path.join(out, 'savedmodel', 'variables')).sort()).toEqual([
      'variables.data-00000-of-00001',
      'variables.index',
    ]);
    expect(readdirSync(path.join(out, 'savedmodel', 'assets.extra')).sort()).toEqual([
      'export.json',
      'manifest.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
    ]);
    // leaves no temporary directory behind
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const parity = readJson<ParityDoc>(path.join(out, 'parity.json'));
    expect(parity.rows).toBe(96);
    for (const f of ['onnx', 'savedmodel']) {
      expect(parity.formats[f].status).toBe('passed');
      expect(parity.formats[f].max_abs_diff).toBeLessThanOrEqual(1e-4);
      expect(parity.formats[f].argmax_agreement).toBe(1);
    }
    const record = readJson<ExportRecord>(path.join(out, 'export.json'));
    expect(record).toMatchObject({
      format: 'recsys-export',
      complete: true,
      formats: {
        onnx: { status: 'passed', opset: 17, ir_version: 8 },
        savedmodel: { status: 'passed', signature: 'serving_default' },
      },
    });
    expect(record.run.dir).toBe(intent.runDir);
    const config = readJson<{ id2label: Record<string, string>; label2id: Record<string, number>; model_type: string }>(
      path.join(out, 'config.json'),
    );
    expect(config.model_type).toBe('bert');
    expect(Object.values(config.id2label)).toEqual(intent.labels);
    expect(config.label2id[intent.labels[3]]).toBe(3);
    expect(readJson<{ model_max_length: number }>(path.join(out, 'tokenizer_config.json')).model_max_length).toBe(32);
    const manifest = readJson<{ labels: string[]; dataset_sha256: string }>(path.join(out, 'manifest.json'));
    expect(manifest.labels).toEqual(intent.labels);
    // the manifest travels inside the ONNX file too
    const model = decodeOnnxModel(readFileSync(path.join(out, 'onnx', 'model.onnx')));
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(meta['recsys.manifest']).dataset_sha256).toBe(manifest.dataset_sha256);
    expect(JSON.parse(meta['recsys.labels'])).toEqual(intent.labels);
    expect(
      readJson<{ savedmodel: { status: string } }>(path.join(out, 'savedmodel', 'assets.extra', 'export.json'))
        .savedmodel.status,
    ).toBe('passed');
  });

  it(
    'sentence pairs at opset 14 (LayerNorm decomposed, gelu_new), checked on the validation split of ' + '--check-data',
    () => {
      const out = path.join(root, 'esci-export');
      const r = runCli([
        'export',
        '--run',
        esci.runDir,
        '--format',
        'onnx',
        '--opset',
        '14',
        '--out',
        out,
        '--backend',
        'cpu',
        '--check-rows',
        '64',
        '--check-data',
        esci.datasetDir,
        '--split',
        'validation',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /parity onnx: 64 rows of validation \(validation\.arrow, pairs, up to \d+ tokens\).*passed/,
      );
      const model = decodeOnnxModel(readFileSync(path.join(out, 'onnx', 'model.onnx')));
      expect(model.opsetImport.map((o) => Number(o.version))).toEqual([14]);
      expect(model.graph!.node!.some((n) => n.opType === 'LayerNormalization')).toBe(false);
      expect(readJson<ExportRecord>(path.join(out, 'export.json')).formats.onnx).toMatchObject({
        status: 'passed',
        opset: 14,
        ir_version: 7,
      });
    },
  );

  it('--quantize int8 adds onnx/model_quantized.onnx, gated on argmax agreement with the float model', () => {
    const out = path.join(root, 'quantized');
    const r = runCli([
      'export',
      '--run',
      intent.runDir,
      '--out',
      out,
      '--backend',
      'cpu',
      '--check-rows',
      '64',
      '--quantize',
      'int8',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/quantized onnx \(int8\): [\d.]+ MB vs [\d.]+ MB .*accuracy [\d.]+% vs [\d.]+% /);
    expect(r.stderr).toMatch(/quantized onnx \(int8\): .*argmax agreement [\d.]+% \(min 99\.00%\), .* → passed/);
    expect(readdirSync(path.join(out, 'onnx')).sort()).toEqual(['model.onnx', 'model_quantized.onnx']);
    const q = readJson<{
      onnx_int8: {
        status: string;
        size_ratio: number;
        accuracy: { change: number };
        rows: number;
        argmax_agreement: number;
        max_abs_diff: number;
      };
    }>(path.join(out, 'parity.json')).onnx_int8;
    expect(q).toMatchObject({ status: 'passed', rows: 64, min_agreement: 0.99 });
    expect(q.argmax_agreement).toBeGreaterThanOrEqual(0.99);
    expect(q.max_abs_diff).toBeGreaterThan(0); // the quantized model, not the float one
    expect(q.size_ratio).toBeLessThan(1);
    expect(readJson<ExportRecord>(path.join(out, 'export.json')).formats.onnx).toMatchObject({
      status: 'passed',
      quantized: { status: 'passed' },
    });
    const bad = runCli([
      'export',
      '--run',
      intent.runDir,
      '--out',
      out,
      '--format',
      'savedmodel',
      '--quantize',
      'int8',
      '--backend',
      'cpu',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--quantize int8 applies to ONNX only; add onnx to --format');
  });

  it(
    're-exports the same run without asking, keeps formats exported earlier, and refuses another run without ' +
      '--overwrite',
    () => {
      const out = path.join(root, 'reexport');
      const base = ['--backend', 'cpu', '--check-rows', '32'];
      expect(runCli(['export', '--run', intent.runDir, '--format', 'onnx', '--out', out, ...base]).code).toBe(0);
      const again = runCli(['export', '--run', intent.runDir, '--format', 'savedmodel', '--out', out, ...base]);
      expect(again.code, again.stderr).toBe(0);
      expect(Object.keys(readJson<ExportRecord>(path.join(out, 'export.json')).formats).sort()).toEqual([
        'onnx',
        'savedmodel',
      ]);
      const other = runCli(['export', '--run', esci.runDir, '--format', 'onnx', '--out', out, ...base]);
      expect(other.code).toBe(2);
      expect(other.stderr).toContain(
        `recsys: error: ${out}: holds a complete export of another run (${intent.runDir}); pass --overwrite to ` +
          'replace it or choose another --out',
      );
      const forced = runCli(['export', '--run', esci.runDir, '--format', 'onnx', '--out', out, '--overwrite', ...base]);
      expect(forced.code, forced.stderr).toBe(0);
      expect(existsSync(path.join(out, 'savedmodel'))).toBe(false); // nothing of the other run is left mixed in
      expect(readJson<ExportRecord>(path.join(out, 'export.json')).run.dir).toBe(esci.runDir);
    },
  );

  it('replaces an interrupted export (no export.json) but not a foreign directory', () => {
    const out = path.join(root, 'interrupted');
    mkdirSync(path.join(out, 'onnx'), { recursive: true });
    writeFileSync(path.join(out, 'onnx', 'model.onnx'), 'half-written');
    mkdirSync(path.join(out, 'savedmodel'), { recursive: true });
    writeFileSync(path.join(out, 'savedmodel', 'saved_model.pb'), 'half-written');
    // a stale staging dir of a dead process
    const stale = path.join(root, '.interrupted.tmp-999999-abcdef12');
    mkdirSync(stale);
    const r = runCli(['export', '--run', intent.runDir, '--out', out, '--backend', 'cpu', '--check-rows', '16']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(path.join(out, 'savedmodel')), 'leftovers of the interrupted export are removed').toBe(false);
    expect(readFileSync(path.join(out, 'onnx', 'model.onnx')).length).toBeGreaterThan(1000);
    const foreign = path.join(root, 'foreign');
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
    const f = runCli(['export', '--run', intent.runDir, '--out', foreign, '--backend', 'cpu']);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain(
      `${foreign}: not empty and not a recsys export (notes.txt); pass --overwrite or choose another --out`,
    );
  });

  it(
    'exits 1 when the gate fails (here: an atol tighter than float32 agreement between runtimes), keeping the ' +
      'artifact marked failed',
    () => {
      const out = path.join(root, 'tight-atol');
      const r = runCli([
        'export',
        '--run',
        intent.runDir,
        '--out',
        out,
        '--backend',
        'cpu',
        '--check-rows',
        '32',
        '--atol',
        '1e-12',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/parity onnx: .*→ FAILED: max \|Δlogit\| \S+ > atol 1\.00e-12/);
      expect(r.stderr).toContain(`recsys: error: parity check failed for onnx (max |Δlogit|`);
      expect(r.stderr).toContain(`the export is kept in ${out}, marked failed in export.json and parity.json`);
      expect(readJson<ExportRecord>(path.join(out, 'export.json')).formats.onnx!.status).toBe('failed');
      expect(readJson<ParityDoc>(path.join(out, 'parity.json')).formats.onnx.status).toBe('failed');
      expect(existsSync(path.join(out, 'onnx', 'model.onnx'))).toBe(true);
    },
  );

  it('errors are one line naming the file or key', () => {
    const out = path.join(root, 'err-out');
    const cases: Array<[string[], number, string]> = [
      [['export', '--out', out], 2, 'recsys export: --run RUN_DIR is required'],
      [
        ['export', '--run', path.join(root, 'nope'), '--out', out],
        2,
        `${path.join(root, 'nope')}: run directory not found`,
      ],
      [['export', '--run', intent.runDir, '--out', out, '--format', 'onnx,tflite'], 2, 'export.formats'],
      [['export', '--run', intent.runDir, '--out', out, '--opset', '13'], 2, 'export.opset'],
      [
        ['export', '--run', intent.runDir, '--out', out, '--check-rows', '0'],
        2,
        'export.check_rows: expected a positive integer, got 0',
      ],
      [
        ['export', '--run', intent.runDir, '--out', out, '--split', 'dev'],
        2,
        'export.split: expected one of train | validation | test, got "dev"',
      ],
      [
        ['export', '--run', intent.runDir, '--out', out, '--check-data', esci.datasetDir, '--backend', 'cpu'],
        3,
        `${path.join(esci.datasetDir, 'manifest.json')}: labels`,
      ],
    ];
    for (const [args, code, msg] of cases) {
      const r = runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      expect(r.stderr).toContain(msg);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('recsys: error:'))).toHaveLength(1);
    }
    // an incomplete run (no train_summary.json)
    const partial = path.join(root, 'partial-run');
    mkdirSync(partial, { recursive: true });
    const r = runCli(['export', '--run', partial, '--out', out]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${partial}: no train_summary.json; the run is incomplete`);
    // a run whose dataset moved away
    const moved = path.join(root, 'moved-run');
    rmSync(moved, { recursive: true, force: true });
    mkdirSync(moved);
    const m = readJson<Record<string, unknown>>(path.join(intent.runDir, 'manifest.json'));
    writeFileSync(path.join(moved, 'manifest.json'), JSON.stringify({ ...m, dataset_dir: path.join(root, 'gone') }));
    writeFileSync(path.join(moved, 'train_summary.json'), '{}');
    mkdirSync(path.join(moved, 'model'));
    for (const f of readdirSync(path.join(intent.runDir, 'model')))
      writeFileSync(path.join(moved, 'model', f), readFileSync(path.join(intent.runDir, 'model', f)));
    const g = runCli(['export', '--run', moved, '--out', out, '--backend', 'cpu']);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain(
      `the run's dataset is not there (${path.join(moved, 'manifest.json')}: dataset_dir = ` +
        `${path.join(root, 'gone')}); pass --check-data DATASET_DIR`,
    );
  });
});

describe('parity gate on a deliberately corrupted export', () => {
  const quiet = makeLogger({ quiet: true });

  it(
    'ONNX: a perturbed classifier bias in the written file fails the gate (exit code 1); the artifact is kept, ' +
      'marked failed',
    async () => {
      const out = path.join(root, 'corrupt-onnx');
      const err = await exportRun({
        runDir: intent.runDir,
        out,
        formats: ['onnx', 'savedmodel'],
        checkRows: 64,
        log: quiet,
        afterWrite: async (format, dir) => {
          if (format !== 'onnx') return;
          const file = path.join(dir, 'model.onnx');
          const model = decodeOnnxModel(readFileSync(file));
          const bias = model.graph!.initializer!.find((t) => t.name === 'classifier.bias')!;
          const v = new Float32Array(Uint8Array.from(bias.rawData!).buffer);
          v[0] += 1e-3; // small: argmax barely moves, the logit check catches it
          bias.rawData = new Uint8Array(v.buffer);
          writeFileSync(file, onnxProto.onnx.ModelProto.encode(model).finish());
        },
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GateError);
      expect((err as GateError).exitCode).toBe(1);
      expect((err as Error).message).toMatch(
        new RegExp(
          String.raw`^parity check failed for onnx \(max \|Δlogit\| 1\.00e-3 > atol ` +
            String.raw`1\.00e-4.*\); the export is kept in .*corrupt-onnx, marked failed ` +
            String.raw`in export\.json and parity\.json$`,
        ),
      );
      const record = readJson<ExportRecord>(path.join(out, 'export.json'));
      expect(record.formats.onnx!.status).toBe('failed');
      expect(record.formats.savedmodel!.status).toBe('passed');
      const parity = readJson<ParityDoc>(path.join(out, 'parity.json'));
      expect(parity.formats.onnx.max_abs_diff).toBeCloseTo(1e-3, 5);
      expect(existsSync(path.join(out, 'onnx', 'model.onnx'))).toBe(true);
    },
  );

  it('int8: a quantized model whose top labels differ from the float model fails its gate (exit code 1)', async () => {
    const out = path.join(root, 'corrupt-int8');
    const err = await exportRun({
      runDir: intent.runDir,
      out,
      formats: ['onnx'],
      checkRows: 64,
      quantize: 'int8',
      log: quiet,
      afterWrite: async (_format, dir) => {
        // Negate the quantized classifier (uint8 codes mirrored around the zero point 128): the
        // file stays valid, its top labels turn away from the float model's.
        const file = path.join(dir, 'model_quantized.onnx');
        const model = decodeOnnxModel(readFileSync(file));
        const w = model.graph!.initializer!.find((t) => t.name === 'classifier.weight_quantized')!;
        w.rawData = Uint8Array.from(w.rawData!, (q) => 256 - q);
        writeFileSync(file, onnxProto.onnx.ModelProto.encode(model).finish());
      },
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).exitCode).toBe(1);
    expect((err as Error).message).toMatch(
      /^parity check failed for onnx int8 \(argmax agreement [\d.]+% with the float model on 64 rows \(\d+ differ\) /,
    );
    expect((err as Error).message).toMatch(
      /is below export\.int8_min_agreement 99\.00%\); the export is kept in .*corrupt-int8/,
    );
    const record = readJson<ExportRecord>(path.join(out, 'export.json'));
    expect(record.formats.onnx).toMatchObject({ status: 'passed', quantized: { status: 'failed' } });
    const parity = readJson<{ onnx_int8: { status: string; argmax_agreement: number } }>(path.join(out, 'parity.json'));
    expect(parity.onnx_int8.status).toBe('failed');
    expect(parity.onnx_int8.argmax_agreement).toBeLessThan(0.99);
  });

  it('SavedModel: a variable rewritten with a valid checksum but wrong values fails the gate', async () => {
    const out = path.join(root, 'corrupt-savedmodel');
    const err = await exportRun({
      runDir: intent.runDir,
      out,
      formats: ['savedmodel'],
      checkRows: 64,
      log: quiet,
      afterWrite: async (_format, dir) => {
        const prefix = path.join(dir, 'variables', 'variables');
        const tensors = await readBundle(prefix);
        const ln = tensors.get('bert.encoder.layer.1.output.LayerNorm.weight')!;
        (ln.values as Float32Array)[5] *= -1; // flips a LayerNorm gain
        await writeBundle(
          prefix,
          [...tensors].map(([name, t]) => ({
            name,
            dtype: 'float32' as const,
            shape: t.shape,
            values: async () => t.values,
          })),
        );
      },
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GateError);
    expect((err as Error).message).toMatch(/parity check failed for savedmodel \(max \|Δlogit\|/);
    expect(readJson<ExportRecord>(path.join(out, 'export.json')).formats.savedmodel!.status).toBe('failed');
    expect(
      readJson<{ savedmodel: { status: string } }>(path.join(out, 'savedmodel', 'assets.extra', 'export.json'))
        .savedmodel.status,
    ).toBe('failed');
  });
});
