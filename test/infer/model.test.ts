import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { openModel } from '../../src/infer/model.js';
import { makeLogger } from '../../src/lib/log.js';
import { makeRun, type RunFixture } from '../export/run-fixture.js';
import { tempDir } from '../helpers/cli.js';

/** infer/: one InferenceModel from a run dir, padding in one place, hidden states, no tensor leaks. */

const root = tempDir('recsys-infer-');
const log = makeLogger({ quiet: true });
let run: RunFixture;

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  run = await makeRun(root, { sample: 'intent', datasetDir: path.join(root, 'intent-dataset') });
}, 240_000);

describe('openModel', () => {
  it('a checkpoint without a trained classification head embeds, and refuses logits with one line', async () => {
    // A BertForPreTraining checkpoint (cls.* heads, no classifier) with a vocabulary of its size.
    const dir = path.join(root, 'pretrained');
    cpSync(path.join(import.meta.dirname, '../fixtures/reference/pretraining-l2-h32'), dir, { recursive: true });
    const words = Array.from({ length: 295 }, (_, i) => `w${i}`);
    writeFileSync(
      path.join(dir, 'vocab.txt'),
      `${['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words].join('\n')}\n`,
    );
    const m = await openModel(dir, { backend: 'cpu', log });
    try {
      const rows = [m.tokenizer.encode('w1 w2 w3', undefined, m.maxLength, m.truncation)!];
      const hidden = await m.hidden!(rows);
      expect(hidden.lastHidden?.length).toBe(rows[0].ids.length * hidden.hiddenSize);
      await expect(m.forward(rows)).rejects.toThrow(
        /pretraining-l2-h32|pretrained: the checkpoint has no trained classification head .*recsys train --model/,
      );
    } finally {
      await m.close();
    }
  });

  it('opens a run dir on tfjs with the labels and preprocessing it was trained with', async () => {
    const m = await openModel(run.runDir, { backend: 'cpu', log });
    try {
      expect(m.kind).toBe('run');
      expect(m.labels).toEqual(run.labels);
      expect(m.headKind).toBe('single_label_classification');
      expect(m.backend).toBe('cpu');
      expect(m.modelPath).toBe(path.join(run.runDir, 'model'));
      expect(m.truncation).toBe('longest_first');
      expect(m.tokenizer.encode('usb c charger', undefined, m.maxLength, m.truncation)?.ids.length).toBeGreaterThan(2);
    } finally {
      await m.close();
    }
  });

  it('forward pads a batch in one place: each row gets the logits it gets alone', async () => {
    const m = await openModel(run.runDir, { backend: 'cpu', log });
    try {
      const texts = ['yoga mat', 'usb c charger for a laptop with a long cable', 'socks'];
      const rows = texts.map((t) => m.tokenizer.encode(t, undefined, m.maxLength, m.truncation)!);
      const n = m.labels.length;
      const batch = await m.forward(rows);
      expect(batch.length).toBe(rows.length * n);
      for (let i = 0; i < rows.length; i++) {
        const alone = await m.forward([rows[i]]);
        const got = Array.from(batch.subarray(i * n, (i + 1) * n));
        for (let j = 0; j < n; j++) expect(got[j]).toBeCloseTo(alone[j], 4);
      }
      // Logits that vary between rows: the fixture's init makes a wrong mask visible.
      expect(new Set(Array.from(batch).map((v) => v.toFixed(3))).size).toBeGreaterThan(n);
    } finally {
      await m.close();
    }
  });

  it('hidden gives the last hidden states and the pooled output, and nothing leaks', async () => {
    const m = await openModel(run.runDir, { backend: 'cpu', log });
    try {
      const rows = ['yoga mat', 'usb charger'].map((t) => m.tokenizer.encode(t, undefined, m.maxLength, m.truncation)!);
      const seq = Math.max(...rows.map((r) => r.ids.length));
      await m.forward(rows); // warm-up
      const before = tf.memory().numTensors;
      const h = await m.hidden!(rows);
      await m.forward(rows);
      expect(tf.memory().numTensors).toBe(before);
      expect(h.hiddenSize).toBe(32);
      expect(h.pooled?.length).toBe(2 * 32);
      expect(h.lastHidden?.length).toBe(2 * seq * 32);
      expect(h.pooled!.every((v) => Math.abs(v) <= 1)).toBe(true); // tanh
    } finally {
      await m.close();
    }
  });

  it('refuses an export dir that is incomplete, and a directory that is no model', async () => {
    const partial = path.join(root, 'partial-export');
    mkdirSync(path.join(partial, 'onnx'), { recursive: true });
    writeFileSync(path.join(partial, 'export.json'), JSON.stringify({ format: 'recsys-export', complete: false }));
    await expect(openModel(partial, { log })).rejects.toThrow(/the export is incomplete/);
    await expect(openModel(path.join(root, 'nope'), { backend: 'cpu', log })).rejects.toThrow(
      /model directory not found/,
    );
  });
});
