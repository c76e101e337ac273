import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { buildInferenceGraph } from '../../src/model/graph/inference-graph.js';
import { buildOnnxModel, decodeOnnxModel, quantizeColumns, writeOnnxModel } from '../../src/export/onnx.js';
import { onnxRunner } from '../../src/infer/runners.js';
import { py, reference, referencePythonPath } from '../helpers/python.js';
import { batchOf } from './batch-of.js';
import { CLS_FIXTURES, loadFixture, logitSpread, maxAbsDiff, referenceLogits } from './helpers.js';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

const tmp = () => mkdtempSync(path.join(tmpdir(), 'recsys-onnx-'));

describe('ONNX emitter', () => {
  for (const name of CLS_FIXTURES) {
    for (const opset of [17, 14] as const) {
      it(
        `${name} opset ${opset}: onnxruntime-node matches the tfjs forward pass on padded batches, pairs and max ` +
          'length',
        async () => {
          const { config, params, cases } = await loadFixture(name);
          const dir = tmp();
          const file = path.join(dir, 'model.onnx');
          await writeOnnxModel(file, buildInferenceGraph(config, params), params, { opset });
          const runner = await onnxRunner(file);
          for (const c of cases) {
            const ref = referenceLogits(params, config, c);
            expect(logitSpread(ref)).toBeGreaterThan(0.05);
            const got = await runner.run(batchOf(c));
            expect(maxAbsDiff(got, ref.flat()), `${c.name}`).toBeLessThanOrEqual(1e-4);
          }
          await runner.close();
        },
      );
    }
  }

  it(
    'has the optimum BertOnnxConfig contract: int64 inputs with dynamic axes, float logits ' +
      '[batch_size, num_labels]',
    async () => {
      const { config, params } = await loadFixture('cls-l2-h64');
      const bytes = await buildOnnxModel(buildInferenceGraph(config, params), params, {
        metadata: { 'recsys.manifest': '{"a":1}' },
      });
      const session = await ort.InferenceSession.create(bytes);
      expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
      expect(session.outputNames).toEqual(['logits']);
      for (const m of session.inputMetadata) {
        expect(m).toMatchObject({ isTensor: true, type: 'int64', shape: ['batch_size', 'sequence_length'] });
      }
      expect(session.outputMetadata[0]).toMatchObject({
        name: 'logits',
        isTensor: true,
        type: 'float32',
        shape: ['batch_size', 3],
      });
      // int32 feeds are refused, as for any optimum export
      const i32 = new ort.Tensor('int32', new Int32Array(4), [1, 4]);
      await expect(session.run({ input_ids: i32, attention_mask: i32, token_type_ids: i32 })).rejects.toThrow(
        /int64|int32/,
      );
      // dynamic axes: two different [B, S]
      for (const [b, s] of [
        [1, 3],
        [5, 17],
      ]) {
        const ids = new ort.Tensor('int64', new BigInt64Array(b * s).fill(7n), [b, s]);
        const mask = new ort.Tensor('int64', new BigInt64Array(b * s).fill(1n), [b, s]);
        const types = new ort.Tensor('int64', new BigInt64Array(b * s), [b, s]);
        const out = await session.run({ input_ids: ids, attention_mask: mask, token_type_ids: types });
        expect(out.logits.dims).toEqual([b, 3]);
      }
      const model = decodeOnnxModel(bytes);
      expect(Number(model.irVersion)).toBe(8);
      expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
      expect(model.metadataProps).toEqual([expect.objectContaining({ key: 'recsys.manifest', value: '{"a":1}' })]);
      await session.release();
    },
  );

  it(
    'opset 17 uses LayerNormalization, opset 14 decomposes it; GELU is built from Erf and no op newer than the ' +
      'opset appears',
    async () => {
      const { config, params } = await loadFixture('cls-l2-h64');
      const graph = buildInferenceGraph(config, params);
      const ops = async (opset: 14 | 17) =>
        new Set(decodeOnnxModel(await buildOnnxModel(graph, params, { opset })).graph!.node!.map((n) => n.opType!));
      const o17 = await ops(17);
      const o14 = await ops(14);
      expect(o17.has('LayerNormalization')).toBe(true);
      expect(o14.has('LayerNormalization')).toBe(false);
      expect(o14.has('ReduceMean')).toBe(true);
      for (const s of [o17, o14]) {
        expect(s.has('Erf')).toBe(true);
        expect(s.has('Gelu')).toBe(false);
        expect(s.has('Softmax')).toBe(true);
      }
      expect(Number(decodeOnnxModel(await buildOnnxModel(graph, params, { opset: 14 })).irVersion)).toBe(7);
    },
  );

  it("onnxruntime's optimizer fuses each exported GELU with its dense bias into one BiasGelu kernel", async () => {
    const { config, params } = await loadFixture('cls-l2-h64');
    expect(config.hiddenAct).toBe('gelu');
    const dir = tmp();
    const file = path.join(dir, 'model.onnx');
    const optimized = path.join(dir, 'optimized.onnx');
    await writeOnnxModel(file, buildInferenceGraph(config, params), params, { opset: 17 });
    // 'extended' is the highest level whose output is portable (what onnxruntime serialises for us to read).
    const session = await ort.InferenceSession.create(file, {
      graphOptimizationLevel: 'extended',
      optimizedModelFilePath: optimized,
    });
    await session.release();
    const ops = decodeOnnxModel(readFileSync(optimized)).graph!.node!.map(
      (n) => `${n.domain ? `${n.domain}:` : ''}${n.opType}`,
    );
    expect(ops.filter((o) => o === 'com.microsoft:BiasGelu')).toHaveLength(config.numHiddenLayers);
    expect(ops).not.toContain('Erf');
  });

  /**
   * How far 8-bit dynamic quantization may move a logit, from the quantization steps: each dense layer
   * rounds its weights to half a step of 1/127 of the column's range and its input to half a step of
   * 1/255 of the batch's range, a relative error of at most 1/254 + 1/510; D dense layers in sequence
   * (Q/K/V side by side, attention output, two feed-forward, per layer; pooler; classifier) add up to
   * D times that, relative to the logits' size; the factor 3 covers LayerNorm and softmax amplifying it.
   * Measured on these cases: at most 0.073 of the case's largest |logit| (bound: 0.177 for 2 layers) on
   * AVX-512 VNNI and AVX2 alike; full-range int8 weights, whose products overflow onnxruntime's 16-bit
   * sums on AVX2 CPUs without VNNI, gave up to 0.49 there.
   */
  const int8Bound = (layers: number, ref: number[]) =>
    3 * (4 * layers + 2) * (1 / 254 + 1 / 510) * Math.max(...ref.map(Math.abs));

  it('int8 dynamic quantization: MatMulInteger on 8-bit per-column weights, close to the float model', async () => {
    for (const name of ['cls-l2-h64', 'cls-relu'] as const) {
      const { config, params, cases } = await loadFixture(name);
      const graph = buildInferenceGraph(config, params);
      const dir = tmp();
      const qfile = path.join(dir, 'model_quantized.onnx');
      await writeOnnxModel(qfile, graph, params, { quantize: 'int8' });
      const model = decodeOnnxModel(readFileSync(qfile));
      const ops = model.graph!.node!.map((n) => n.opType);
      const dense = 6 * config.numHiddenLayers + 2;
      expect(ops.filter((o) => o === 'MatMulInteger')).toHaveLength(dense);
      expect(ops.filter((o) => o === 'DynamicQuantizeLinear')).toHaveLength(dense);
      // Every dense weight is an 8-bit integer initializer (uint8, zero point 128), with no float copy.
      const inits = new Map(model.graph!.initializer!.map((t) => [t.name!, t]));
      const denseWeights = [...params.keys()].filter((k) => k.endsWith('.weight') && params.get(k)!.rank === 2);
      const quantized = denseWeights.filter((k) => !k.includes('embeddings'));
      expect(quantized).toHaveLength(dense);
      for (const w of quantized) {
        expect(inits.has(w), w).toBe(false);
        const q = inits.get(`${w}_quantized`)!;
        expect(q.dataType, w).toBe(2); // UINT8
        expect(q.rawData!.length, w).toBe(params.get(w)!.size);
        expect(Array.from(inits.get(`${w}_zero_point`)!.rawData!), w).toEqual(Array(Number(q.dims![1])).fill(128));
      }
      expect(inits.get('bert.embeddings.word_embeddings.weight')!.dataType).toBe(1); // embeddings stay float
      const runner = await onnxRunner(qfile);
      for (const c of cases) {
        const ref = referenceLogits(params, config, c).flat();
        const got = await runner.run(batchOf(c));
        const d = maxAbsDiff(got, ref);
        expect(d, `${name}/${c.name}: really quantized`).toBeGreaterThan(1e-3);
        expect(d, `${name}/${c.name}`).toBeLessThan(int8Bound(config.numHiddenLayers, ref));
      }
      await runner.close();
    }
  });

  it('quantizeColumns is symmetric per output column (uint8 around 128) and round-trips within half a step', () => {
    const w = Float32Array.from([0.5, -2, 0.01, -0.25, 1, 0.02, 0, 0.5, -0.03]);
    const { q, scale } = quantizeColumns(w, [3, 3]);
    expect(Array.from(scale)).toEqual(Array.from(Float32Array.from([0.5 / 127, 2 / 127, 0.03 / 127])));
    expect(Math.max(...Array.from(q, (v) => Math.abs(v - 128)))).toBe(127);
    expect(Math.min(...q)).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 9; i++)
      expect(Math.abs((q[i] - 128) * scale[i % 3] - w[i])).toBeLessThanOrEqual(scale[i % 3] / 2 + 1e-9);
  });

  it('writes external data above the threshold, and onnxruntime loads it from the path', async () => {
    const { config, params, cases } = await loadFixture('cls-l2-h64');
    const dir = tmp();
    const file = path.join(dir, 'model.onnx');
    const r = await writeOnnxModel(file, buildInferenceGraph(config, params), params, { externalDataThreshold: 0 });
    expect(r.externalData).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'model.onnx_data']);
    expect(statSync(file).size).toBeLessThan(50_000);
    const model = decodeOnnxModel(new Uint8Array(readFileSync(file)));
    const init = model.graph!.initializer!.find((t) => t.name === 'classifier.weight')!;
    expect(init.externalData!.map((e) => e.key)).toEqual(['location', 'offset', 'length']);
    expect(init.externalData![0].value).toBe('model.onnx_data');
    const runner = await onnxRunner(file);
    for (const c of cases)
      expect(maxAbsDiff(await runner.run(batchOf(c)), referenceLogits(params, config, c).flat())).toBeLessThanOrEqual(
        1e-4,
      );
    await runner.close();
  });

  // The venv's onnx is what CI installs (scripts/setup-python.sh): required. The script also holds every
  // file to IR ≤ 8 and opset ≤ 17, what older consumers (onnx 1.12, onnxruntime 1.14) accept.
  const checkers = [
    { name: 'onnx in the reference venv (1.2x)', python: referencePythonPath(), ref: reference(py('onnx')) },
  ];
  for (const { name: checker, python, ref } of checkers) {
    it.skipIf(ref.skip)(
      `passes onnx.checker full_check and strict shape inference with ${checker} (opset 17 and 14, inline and ` +
        'external data)',
      async () => {
        ref.require();
        const dir = tmp();
        const files: string[] = [];
        for (const name of ['cls-l2-h64', 'cls-gelu-new', 'cls-relu']) {
          const { config, params } = await loadFixture(name);
          const graph = buildInferenceGraph(config, params);
          for (const opset of [17, 14] as const) {
            const f = path.join(dir, `${name}-${opset}`, 'model.onnx');
            mkdirSync(path.dirname(f), { recursive: true });
            await writeOnnxModel(f, graph, params, {
              opset,
              externalDataThreshold: name === 'cls-relu' ? 0 : undefined,
            });
            files.push(f);
            const fq = path.join(dir, `${name}-${opset}`, 'model_quantized.onnx');
            await writeOnnxModel(fq, graph, params, { opset, quantize: 'int8' });
            files.push(fq);
          }
        }
        const script = path.join(dir, 'check.py');
        writeFileSync(
          script,
          [
            'import sys, onnx',
            'from onnx import shape_inference',
            'for f in sys.argv[1:]:',
            '    onnx.checker.check_model(f, full_check=True)',
            '    m = onnx.load(f)',
            '    shape_inference.infer_shapes(m, check_type=True, strict_mode=True)',
            '    assert m.ir_version <= 8 and max(o.version for o in m.opset_import) <= 17, (m.ir_version, ' +
              'm.opset_import)',
            '    print("ok", f)',
          ].join('\n'),
        );
        const r = spawnSync(python, [script, ...files], { encoding: 'utf8', timeout: 300_000 });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        expect(r.stdout.trim().split('\n')).toEqual(files.map((f) => `ok ${f}`));
      },
    );
  }
});
