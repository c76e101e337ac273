import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { makeRun, type RunFixture } from '../export/run-fixture.js';
import { runCli, tempDir } from '../helpers/cli.js';

/** recsys embed with a run dir (its manifest's max_length) and with an export dir (logits only: refused). */

const root = tempDir('recsys-embed-run-dir-');
const input = path.join(root, 'queries.csv');
let run: RunFixture;

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  run = await makeRun(root, { sample: 'intent', datasetDir: path.join(root, 'intent-dataset') });
  writeFileSync(input, 'q,text\nq1,usb c charger for a laptop\nq2,yoga mat\nq3,\n');
}, 240_000);

const embed = (model: string, out: string) =>
  runCli(['embed', '--model', model, '--input', input, '--id-column', 'q', '--out', out, '--backend', 'cpu']);

describe('recsys embed --model RUN|EXPORT_DIR', () => {
  it("embeds with a run dir at the run's max_length and truncation", () => {
    const out = path.join(root, 'emb-run');
    const r = embed(run.runDir, out);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    const trained = JSON.parse(readFileSync(path.join(run.runDir, 'manifest.json'), 'utf8'));
    expect(m.model).toMatchObject({ kind: 'run', weights_file: path.join(run.runDir, 'model', 'model.safetensors') });
    expect(m.max_length).toBe(trained.max_length);
    expect(m.truncation).toBe(trained.truncation);
    expect(m.tokenizer_sha256).toBe(trained.tokenizer.sha256);
    expect(m).toMatchObject({ count: 2, rejected: 1, dimension: 32 });
  });

  it('refuses an ONNX export that has logits only, saying what to do', () => {
    const exp = path.join(root, 'export');
    const e = runCli(['export', '--run', run.runDir, '--format', 'onnx', '--out', exp, '--check-rows', '16']);
    expect(e.code, e.stderr).toBe(0);
    const r = embed(exp, path.join(root, 'emb-export'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      `recsys: error: ${path.join(exp, 'onnx', 'model.onnx')}: this ONNX file has logits only (no last_hidden_state ` +
        'output); embed with the run or the Hugging Face model dir it was exported from',
    );
  });
});
