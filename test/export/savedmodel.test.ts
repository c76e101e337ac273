import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { buildInferenceGraph } from '../../src/model/graph/inference-graph.js';
import { batchOf } from './batch-of.js';
import {
  crc32c,
  maskCrc,
  readBundle,
  readBundleIndex,
  readTable,
  unmaskCrc,
  writeBundle,
} from '../../src/export/tf/bundle.js';
import { emitGraphDef } from '../../src/model/graph/tf-emit.js';
import { asNodeDefs, readSavedModel, savedModelProto, writeSavedModel } from '../../src/export/tf/savedmodel.js';
import { checkGraphDef } from '../../src/export/tf/schema.js';
import { savedModelTfjsRunner } from '../../src/export/tf/tfjs-runner.js';
import { repoRoot } from '../helpers/cli.js';
import { py, reference, referencePython } from '../helpers/python.js';
import { CLS_FIXTURES, loadFixture, logitSpread, maxAbsDiff, referenceLogits } from './helpers.js';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

const tmp = () => mkdtempSync(path.join(tmpdir(), 'recsys-savedmodel-'));

describe('SavedModel writer (Node only)', () => {
  for (const name of CLS_FIXTURES) {
    it(
      `${name}: the written SavedModel (GraphDef + TensorBundle) runs in tfjs-converter and matches the tfjs ` +
        'forward pass',
      async () => {
        const { config, params, cases } = await loadFixture(name);
        const dir = path.join(tmp(), 'sm');
        await writeSavedModel(dir, buildInferenceGraph(config, params), params);
        const runner = await savedModelTfjsRunner(dir);
        for (const c of cases) {
          const ref = referenceLogits(params, config, c);
          expect(logitSpread(ref)).toBeGreaterThan(0.05);
          expect(maxAbsDiff(await runner.run(batchOf(c)), ref.flat()), c.name).toBeLessThanOrEqual(1e-5);
        }
        await runner.close();
      },
    );
  }

  it(
    'decodes to a TF1-style serve MetaGraph: signature, saver, every node with its required attrs and resolvable ' +
      'inputs',
    async () => {
      const { config, params } = await loadFixture('cls-l2-h64');
      const dir = path.join(tmp(), 'sm');
      await writeSavedModel(dir, buildInferenceGraph(config, params), params, {
        assetsExtra: { 'manifest.json': '{"x":1}\n' },
      });
      const { schemaVersion, metaGraph, count } = await readSavedModel(dir);
      expect(schemaVersion).toBe(1);
      expect(count).toBe(1);
      expect(metaGraph.metaInfoDef).toMatchObject({ tags: ['serve'], strippedDefaultAttrs: true });
      expect(metaGraph).not.toHaveProperty('objectGraphDef');
      const sig = metaGraph.signatureDef.serving_default;
      expect(sig.methodName).toBe('tensorflow/serving/predict');
      for (const n of ['input_ids', 'attention_mask', 'token_type_ids']) {
        expect(sig.inputs![n]).toEqual({
          name: `${n}:0`,
          dtype: 'DT_INT32',
          tensorShape: { dim: [{ size: -1 }, { size: -1 }] },
        });
      }
      expect(sig.outputs!.logits).toEqual({
        name: 'logits:0',
        dtype: 'DT_FLOAT',
        tensorShape: { dim: [{ size: -1 }, { size: 3 }] },
      });
      expect(metaGraph.saverDef).toMatchObject({
        filenameTensorName: 'save/Const:0',
        saveTensorName: 'save/control_dependency:0',
        restoreOpName: 'save/restore_all',
        version: 'V2',
      });
      const nodes = asNodeDefs(metaGraph.graphDef.node);
      expect(checkGraphDef(nodes, ['input_ids:0', 'logits:0', 'save/Const:0', 'save/control_dependency:0'])).toEqual(
        [],
      );
      const ops = new Set(nodes.map((n) => n.op));
      for (const op of [
        'VarHandleOp',
        'ReadVariableOp',
        'AssignVariableOp',
        'RestoreV2',
        'SaveV2',
        'BatchMatMulV2',
        'Erf',
        'Softmax',
      ])
        expect(ops.has(op), op).toBe(true);
      // ops tfjs-converter 4.22 cannot map are never emitted
      for (const op of ['BatchMatMulV3', 'FusedBatchMatMulV2', 'Gelu']) expect(ops.has(op)).toBe(false);
      // one variable per parameter, keyed by its HF name
      const vars = nodes
        .filter((n) => n.op === 'VarHandleOp')
        .map((n) => Buffer.from(n.attr.shared_name!.s!).toString());
      expect(vars.sort()).toEqual([...params.keys()].sort());
      expect(readFileSync(path.join(dir, 'assets.extra', 'manifest.json'), 'utf8')).toBe('{"x":1}\n');
    },
  );

  it(
    'the static check catches what tfjs-converter would not: a missing type attr, a dangling input, a duplicate ' +
      'name',
    async () => {
      const { config, params } = await loadFixture('cls-relu');
      const { proto } = savedModelProto(buildInferenceGraph(config, params));
      const nodes = structuredClone(
        (proto.metaGraphs as Array<{ graphDef: { node: ReturnType<typeof emitGraphDef>['nodes'] } }>)[0].graphDef.node,
      );
      expect(checkGraphDef(nodes)).toEqual([]);
      const add = nodes.find((n) => n.op === 'AddV2')!;
      delete add.attr.T;
      const gather = nodes.find((n) => n.op === 'GatherV2')!;
      gather.input[1] = 'no_such_node';
      nodes.push({ ...nodes[0] });
      const problems = checkGraphDef(nodes);
      expect(problems).toContain(`${add.name}: AddV2 is missing required attr 'T'`);
      expect(problems).toContain(`${gather.name}: input no_such_node names no node`);
      expect(problems).toContain(`${nodes[0].name}: node name used twice`);
    },
  );

  it('frozen and variable flavours lower to the same consumers', async () => {
    const { config, params } = await loadFixture('cls-relu');
    const graph = buildInferenceGraph(config, params);
    const values = new Map([...params].map(([k, t]) => [k, t.dataSync() as Float32Array]));
    const frozen = emitGraphDef(graph, { weights: 'const', weightValues: values });
    const vars = emitGraphDef(graph, { weights: 'variables' });
    const consumers = (g: typeof frozen) =>
      g.nodes
        .filter((n) => !['Const', 'VarHandleOp', 'ReadVariableOp'].includes(n.op))
        .map((n) => `${n.name}<${n.input.join(',')}`);
    expect(consumers(frozen)).toEqual(consumers(vars));
    expect(checkGraphDef(frozen.nodes)).toEqual([]);
  });
});

describe('TensorBundle', () => {
  it('crc32c and its mask match the LevelDB/TF definitions', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    for (const c of [0, 1, 0xe3069283, 0xffffffff]) expect(unmaskCrc(maskCrc(c))).toBe(c);
    expect(crc32c(Buffer.from('56789'), crc32c(Buffer.from('1234')))).toBe(0xe3069283);
  });

  it('round-trips tensors through index + data, keys sorted bytewise, and detects corruption', async () => {
    const dir = tmp();
    const prefix = path.join(dir, 'variables');
    const tensors = [
      {
        name: 'b/second',
        dtype: 'float32' as const,
        shape: [2, 3],
        values: async () => Float32Array.from([1, 2, 3, 4, 5, 6.5]),
      },
      {
        name: 'a.first',
        dtype: 'float32' as const,
        shape: [4],
        values: async () => Float32Array.from([-1, 0.25, 1e-30, 3e38]),
      },
      { name: 'B/upper', dtype: 'int32' as const, shape: [], values: async () => Int32Array.from([-7]) },
    ];
    await writeBundle(prefix, tensors);
    const index = await readBundleIndex(prefix);
    expect(index.map((e) => e.name)).toEqual(['B/upper', 'a.first', 'b/second']);
    const back = await readBundle(prefix);
    expect(Array.from(back.get('b/second')!.values)).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(back.get('b/second')!.shape).toEqual([2, 3]);
    expect(Array.from(back.get('a.first')!.values)).toEqual(Array.from(Float32Array.from([-1, 0.25, 1e-30, 3e38])));
    expect(back.get('B/upper')).toMatchObject({ dtype: 'DT_INT32', shape: [] });
    const table = readTable(readFileSync(`${prefix}.index`));
    expect(table[0][0].length).toBe(0); // the header sits under the empty key
    const data = readFileSync(`${prefix}.data-00000-of-00001`);
    data[5] ^= 0xff;
    writeFileSync(`${prefix}.data-00000-of-00001`, data);
    await expect(readBundle(prefix)).rejects.toThrow(/crc32c/);
    const idx = readFileSync(`${prefix}.index`);
    idx[3] ^= 0x01;
    writeFileSync(`${prefix}.index`, idx);
    await expect(readBundleIndex(prefix)).rejects.toThrow(/checksum/);
  });
});

const tensorflow = reference(py('tensorflow'));
describe.skipIf(tensorflow.skip)('SavedModel conformance with TensorFlow 2.21 (TF2 loader, TF1 loader, C API)', () => {
  it("every activation: loads with its variables and matches the training runtime's logits", async () => {
    tensorflow.require();
    const root = tmp();
    const args: string[] = [];
    const expected: Record<string, { labels: number; params: string[]; cases: number }> = {};
    for (const name of ['cls-l2-h64', 'cls-gelu-new', 'cls-relu']) {
      const { config, params, cases } = await loadFixture(name);
      const dir = path.join(root, name);
      await writeSavedModel(dir, buildInferenceGraph(config, params), params);
      const casesFile = path.join(root, `${name}.cases.json`);
      writeFileSync(
        casesFile,
        JSON.stringify(cases.map((c) => ({ ...c, logits: referenceLogits(params, config, c) }))),
      );
      args.push(dir, casesFile);
      expected[dir] = { labels: config.id2label.length, params: [...params.keys()].sort(), cases: cases.length };
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
      .map(
        (l) =>
          JSON.parse(l) as {
            dir: string;
            tensorflow: string;
            signature: { inputs: Record<string, unknown>; outputs: Record<string, unknown> };
            variables: Array<[string, number[]]>;
            results: Array<{ loader: string; case: string; max_abs_diff: number }>;
          },
      );
    expect(reports).toHaveLength(3);
    for (const report of reports) {
      const want = expected[report.dir];
      expect(report.tensorflow).toBe('2.21.0');
      expect(report.signature.inputs.input_ids).toEqual(['int32', [null, null]]);
      expect(report.signature.outputs.logits).toEqual(['float32', [null, want.labels]]);
      expect(report.variables.map(([n]) => n).sort()).toEqual(want.params);
      expect(new Set(report.results.map((x) => x.loader))).toEqual(new Set(['tf2', 'tf1', 'capi']));
      expect(report.results).toHaveLength(3 * want.cases);
      for (const x of report.results)
        expect(x.max_abs_diff, `${report.dir} ${x.loader}/${x.case}`).toBeLessThanOrEqual(1e-4);
    }
  });
});
