import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importHfModel } from '../../src/model/import.js';
import { disposeParams } from '../../src/model/params.js';
import { encodeSafetensors, MAX_HEADER_BYTES, parseSafetensors } from '../../src/model/safetensors.js';
import { FIXTURES } from './parity-suite.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tmp = mkdtempSync(path.join(os.tmpdir(), 'recsys-import-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
/** A copy of a fixture dir whose files the test may change. */
function copyFixture(name: string): string {
  const dir = path.join(tmp, `${name}-${n++}`);
  cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

interface RawEntry {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}
/** Assemble a safetensors file from raw entries (any dtype), independent of encodeSafetensors. */
function rawSafetensors(entries: RawEntry[], headerOverride?: (h: Record<string, unknown>) => void): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  headerOverride?.(header);
  const json = Buffer.from(JSON.stringify(header));
  const out = Buffer.alloc(8 + json.length + off);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let pos = 8 + json.length;
  for (const e of entries) {
    out.set(e.bytes, pos);
    pos += e.bytes.length;
  }
  return out;
}

function fixtureEntries(name: string): RawEntry[] {
  const file = readFileSync(path.join(FIXTURES, name, 'model.safetensors'));
  const st = parseSafetensors(file, name);
  return [...st.tensors.values()].map((e) => ({
    name: e.name,
    dtype: 'F32',
    shape: e.shape,
    bytes: new Uint8Array(Float32Array.from(e.values).buffer),
  }));
}

describe('safetensors decoding', () => {
  it('converts F16 and BF16 (normals, subnormals, infinities) and integers exactly', () => {
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x0000, 0x8000]);
    const bf16 = new Uint16Array([0x3f80, 0xc000, 0x3f00, 0x7f7f, 0x0001, 0x7f80, 0x4049]);
    const i64 = new BigInt64Array([0n, 5n, -3n, 2147483647n]);
    const st = parseSafetensors(
      rawSafetensors([
        { name: 'h', dtype: 'F16', shape: [9], bytes: new Uint8Array(f16.buffer) },
        { name: 'b', dtype: 'BF16', shape: [7], bytes: new Uint8Array(bf16.buffer) },
        { name: 'i', dtype: 'I64', shape: [2, 2], bytes: new Uint8Array(i64.buffer) },
        { name: 'd', dtype: 'F64', shape: [1], bytes: new Uint8Array(new Float64Array([0.1]).buffer) },
      ]),
      'mem',
    );
    expect(Array.from(st.tensors.get('h')!.values)).toEqual([1, -2, 0.5, 65504, 2 ** -24, Infinity, -Infinity, 0, -0]);
    const b = new Uint32Array(bf16.length);
    bf16.forEach((v, i) => {
      b[i] = v << 16;
    });
    expect(Array.from(st.tensors.get('b')!.values)).toEqual(Array.from(new Float32Array(b.buffer)));
    expect(Array.from(st.tensors.get('b')!.values).slice(0, 3)).toEqual([1, -2, 0.5]);
    expect(st.tensors.get('i')!.values).toBeInstanceOf(Int32Array);
    expect(Array.from(st.tensors.get('i')!.values)).toEqual([0, 5, -3, 2147483647]);
    expect(st.tensors.get('d')!.values[0]).toBe(Math.fround(0.1));
  });

  it('round-trips its own F32 writer, with the header padded to 8 bytes', () => {
    const values = Float32Array.from([1.5, -2.25, 3e-30, 7]);
    const bytes = encodeSafetensors([{ name: 'w', shape: [2, 2], values }], { format: 'pt' });
    const headerLen = Number(Buffer.from(bytes).readBigUInt64LE(0));
    expect((8 + headerLen) % 8).toBe(0);
    const st = parseSafetensors(bytes, 'mem');
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(Array.from(st.tensors.get('w')!.values)).toEqual(Array.from(values));
  });

  const f32 = (k: number) => new Uint8Array(new Float32Array(k).buffer);
  const corrupt: Array<[string, () => Uint8Array, string | RegExp]> = [
    [
      'a file shorter than 8 bytes',
      () => new Uint8Array(5),
      'bad.st: not a safetensors file: 5 bytes, shorter than the 8-byte header length',
    ],
    [
      'a header length larger than the file',
      () => {
        const b = Buffer.from(rawSafetensors([{ name: 'w', dtype: 'F32', shape: [4], bytes: f32(4) }]));
        b.writeBigUInt64LE(BigInt(b.length), 0);
        return b;
      },
      /bad\.st: safetensors header length \d+ is larger than the file \(\d+ bytes\): truncated or corrupt/,
    ],
    [
      'a header length over 100 MB',
      () => {
        const b = Buffer.alloc(64);
        b.writeBigUInt64LE(BigInt(MAX_HEADER_BYTES + 1), 0);
        return b;
      },
      `bad.st: safetensors header length ${MAX_HEADER_BYTES + 1} exceeds the 100 MB limit`,
    ],
    [
      'a truncated data section',
      () => rawSafetensors([{ name: 'w', dtype: 'F32', shape: [4], bytes: f32(4) }]).subarray(0, -6),
      'bad.st: tensor w: data_offsets [0, 16] run past the end of the data (10 bytes): truncated or corrupt',
    ],
    [
      'a header that is not JSON',
      () => {
        const b = Buffer.alloc(20);
        b.writeBigUInt64LE(12n, 0);
        b.write('{"w": [1, 2', 8);
        return b;
      },
      'bad.st: safetensors header is not valid JSON',
    ],
    [
      'a byte count that disagrees with the shape',
      () => rawSafetensors([{ name: 'w', dtype: 'F32', shape: [5], bytes: f32(4) }]),
      'bad.st: tensor w: 16 bytes for F32 shape [5], expected 20',
    ],
    [
      'an unknown dtype',
      () => rawSafetensors([{ name: 'w', dtype: 'F8_E4M3', shape: [4], bytes: new Uint8Array(4) }]),
      'bad.st: tensor w: unsupported dtype "F8_E4M3"',
    ],
    [
      'overlapping tensors',
      () =>
        rawSafetensors(
          [
            { name: 'a', dtype: 'F32', shape: [2], bytes: f32(2) },
            { name: 'b', dtype: 'F32', shape: [2], bytes: f32(2) },
          ],
          (h) => ((h.b as { data_offsets: number[] }).data_offsets = [4, 12]),
        ),
      'bad.st: tensors a and b overlap in the data buffer',
    ],
  ];
  for (const [what, make, message] of corrupt) {
    it(`rejects ${what}, naming the file`, () => {
      expect(() => parseSafetensors(make(), 'bad.st')).toThrow(message);
    });
  }
});

describe('importHfModel', () => {
  it('loads BertForSequenceClassification with nothing ignored, missing or fresh', async () => {
    const m = await importHfModel(path.join(FIXTURES, 'cls-l2-h64'));
    expect(m.report).toMatchObject({
      layout: 'sequence-classification',
      dtypes: ['F32'],
      ignored: [],
      unexpected: [],
      initialized: [],
      messages: [],
    });
    expect(m.config.id2label).toEqual(['apparel', 'electronics', 'home']);
    expect(m.params.get('bert.encoder.layer.0.intermediate.dense.weight')!.shape).toEqual([64, 256]); // [in, out]
    expect(m.params.get('classifier.weight')!.shape).toEqual([64, 3]);
    disposeParams(m.params);
  });

  it('a BertForPreTraining checkpoint: cls.* ignored and listed, fresh head announced', async () => {
    const m = await importHfModel(path.join(FIXTURES, 'pretraining-l2-h32'), { seed: 9 });
    expect(m.report.layout).toBe('bert-prefixed-without-classifier');
    expect(m.report.ignored).toContain('cls.predictions.transform.dense.weight');
    expect(m.report.ignored).toContain('cls.seq_relationship.weight');
    expect(m.report.initialized).toEqual(['classifier.weight', 'classifier.bias']);
    expect(m.report.messages).toContain(
      'the checkpoint has no classifier: initialised a fresh head for 2 labels (seed 9)',
    );
    expect(m.report.messages.some((l) => l.startsWith('ignored 7 unused tensor(s): cls.'))).toBe(true);
    disposeParams(m.params);
  });

  it('a bare BertModel (MiniLM layout, no bert. prefix) maps to bert.* names', async () => {
    const m = await importHfModel(path.join(FIXTURES, 'minilm-l2-h64'), { id2label: ['x', 'y', 'z'] });
    expect(m.report.layout).toBe('bare-bert-model');
    expect(m.params.has('bert.embeddings.word_embeddings.weight')).toBe(true);
    expect(m.params.get('classifier.weight')!.shape).toEqual([64, 3]);
    expect(m.config.id2label).toEqual(['x', 'y', 'z']);
    expect(m.report.messages[0]).toBe(
      'the checkpoint has no classifier: initialised a fresh head for 3 labels (seed 0)',
    );
    disposeParams(m.params);
  });

  it('position_ids, legacy LayerNorm gamma/beta and unexpected tensors', async () => {
    const dir = copyFixture('cls-relu');
    const entries = fixtureEntries('cls-relu').map((e) => ({
      ...e,
      name: e.name
        .replace('embeddings.LayerNorm.weight', 'embeddings.LayerNorm.gamma')
        .replace('embeddings.LayerNorm.bias', 'embeddings.LayerNorm.beta'),
    }));
    entries.push({
      name: 'bert.embeddings.position_ids',
      dtype: 'I64',
      shape: [1, 32],
      bytes: new Uint8Array(new BigInt64Array(32).buffer),
    });
    entries.push({ name: 'adapter.scale', dtype: 'F32', shape: [1], bytes: new Uint8Array(4) });
    writeFileSync(path.join(dir, 'model.safetensors'), rawSafetensors(entries));
    const m = await importHfModel(dir);
    expect(m.report.ignored).toEqual(['bert.embeddings.position_ids']);
    expect(m.report.unexpected).toEqual(['adapter.scale']);
    expect(m.report.messages).toContain('1 unexpected tensor(s) not used: adapter.scale');
    expect(m.params.has('bert.embeddings.LayerNorm.weight')).toBe(true);
    disposeParams(m.params);
    await expect(importHfModel(dir, { strict: true })).rejects.toThrow(
      'model.safetensors: 1 unexpected tensor(s) not used: adapter.scale',
    );
  });

  it('missing tensors are an error that lists them', async () => {
    const dir = copyFixture('cls-relu');
    const drop = ['bert.encoder.layer.0.attention.self.key.bias', 'bert.embeddings.token_type_embeddings.weight'];
    writeFileSync(
      path.join(dir, 'model.safetensors'),
      rawSafetensors(fixtureEntries('cls-relu').filter((e) => !drop.includes(e.name))),
    );
    await expect(importHfModel(dir)).rejects.toThrow(
      `${path.join(dir, 'model.safetensors')}: 2 tensor(s) missing from the checkpoint: ` +
        'bert.embeddings.token_type_embeddings.weight, bert.encoder.layer.0.attention.self.key.bias',
    );
    const before = tf.memory().numTensors;
    await importHfModel(dir).catch(() => {});
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a shape mismatch names the tensor and both shapes', async () => {
    const dir = copyFixture('cls-l2-h64');
    const cfgFile = path.join(dir, 'config.json');
    writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(readFileSync(cfgFile, 'utf8')), intermediate_size: 128 }));
    await expect(importHfModel(dir)).rejects.toThrow(
      'tensor bert.encoder.layer.0.intermediate.dense.weight has shape [256, 64] but config.json implies [128, 64]',
    );
  });

  it(
    'a head whose size disagrees with config.json is an error; with a label set it is replaced or ' + 'reused',
    async () => {
      const dir = copyFixture('cls-l2-h64');
      const cfgFile = path.join(dir, 'config.json');
      const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
      writeFileSync(cfgFile, JSON.stringify({ ...cfg, id2label: { 0: 'a', 1: 'b' }, label2id: { a: 0, b: 1 } }));
      await expect(importHfModel(dir)).rejects.toThrow(
        'tensor classifier.weight has shape [3, 64] but config.json implies [2, 64]',
      );

      const fixture = path.join(FIXTURES, 'cls-l2-h64');
      const replaced = await importHfModel(fixture, { id2label: ['p', 'q', 'r', 's'] });
      expect(replaced.report.initialized).toEqual(['classifier.weight', 'classifier.bias']);
      expect(replaced.report.messages[0]).toBe(
        "the checkpoint's classifier has 3 outputs but there are 4 labels: " +
          'it is replaced by a freshly initialised head',
      );
      const reused = await importHfModel(fixture, { id2label: ['shoes', 'phones', 'sofas'] });
      expect(reused.report.initialized).toEqual([]);
      expect(reused.config.id2label).toEqual(['shoes', 'phones', 'sofas']);
      expect(reused.report.messages[0]).toBe(
        "reusing the checkpoint's classifier head; its label names [apparel, electronics, home] differ from [shoes, " +
          'phones, sofas]',
      );
      disposeParams(replaced.params);
      disposeParams(reused.params);
    },
  );

  it('a truncated model.safetensors is refused with the file named', async () => {
    const dir = copyFixture('cls-bf16');
    const file = path.join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    await expect(importHfModel(dir)).rejects.toThrow(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tensor .* run past the end of the data`),
    );
  });

  it('reads sharded checkpoints through model.safetensors.index.json', async () => {
    const dir = copyFixture('cls-relu');
    const entries = fixtureEntries('cls-relu');
    const half = Math.floor(entries.length / 2);
    const shards = [entries.slice(0, half), entries.slice(half)];
    const weightMap: Record<string, string> = {};
    shards.forEach((s, i) => {
      const f = `model-0000${i + 1}-of-00002.safetensors`;
      writeFileSync(path.join(dir, f), rawSafetensors(s));
      for (const e of s) weightMap[e.name] = f;
    });
    rmSync(path.join(dir, 'model.safetensors'));
    writeFileSync(
      path.join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    const m = await importHfModel(dir);
    expect(m.report.initialized).toEqual([]);
    // Every tensor, from either shard, holds what the unsharded checkpoint holds.
    const whole = await importHfModel(path.join(FIXTURES, 'cls-relu'));
    expect([...m.params.keys()].sort()).toEqual([...whole.params.keys()].sort());
    expect(m.config).toEqual(whole.config);
    for (const [name, t] of whole.params) {
      const got = m.params.get(name)!;
      expect(got.shape, name).toEqual(t.shape);
      expect(got.dtype, name).toBe(t.dtype);
      expect(Buffer.from((await got.data()).buffer).equals(Buffer.from((await t.data()).buffer)), name).toBe(true);
    }
    disposeParams(m.params);
    disposeParams(whole.params);
  });

  it('says what to do when there is only pytorch_model.bin', async () => {
    const dir = copyFixture('cls-relu');
    rmSync(path.join(dir, 'model.safetensors'));
    writeFileSync(path.join(dir, 'pytorch_model.bin'), 'x');
    await expect(importHfModel(dir)).rejects.toThrow(
      `${dir}: no model.safetensors or model.safetensors.index.json (pytorch_model.bin is not supported`,
    );
  });
});
