import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRun, type RunFixture } from '../export/run-fixture.js';
import { runCli, tempDir } from '../helpers/cli.js';

/**
 * `recsys eval --run` and `recsys predict --model RUN` on the tensorflow backend take the compiled
 * forward pass (one TensorFlow graph per batch, src/infer/graph-runner.ts) by default: they say so, and
 * give the logits the eager forward pass (`eval.compiled: off`) gives, row by row. Fails, not skips,
 * without the tensorflow backend.
 */

const root = tempDir('recsys-eval-compiled-');
let run: RunFixture;

beforeAll(async () => {
  run = await makeRun(root, { sample: 'intent', datasetDir: path.join(root, 'intent-dataset') });
}, 240_000);

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

function maxLogitDiff(a: Array<{ logits: number[] }>, b: Array<{ logits: number[] }>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (const [i, r] of a.entries()) {
    for (const [j, v] of r.logits.entries()) m = Math.max(m, Math.abs(v - b[i].logits[j]));
  }
  return m;
}

describe('the compiled forward pass on the default path', () => {
  it('eval --run: the graph by default, the eager pass with eval.compiled=off, same logits and metrics', () => {
    const evalRun = (out: string, ...extra: string[]) => {
      const r = runCli([
        'eval',
        '--run',
        run.runDir,
        '--backend',
        'tensorflow',
        '--batch-size',
        '7',
        '--json',
        '--verbose',
        '--predictions',
        out,
        ...extra,
      ]);
      expect(r.code, r.stderr).toBe(0);
      return { report: JSON.parse(r.stdout), stderr: r.stderr };
    };
    const graph = evalRun(path.join(root, 'graph.jsonl'));
    expect(graph.stderr).toMatch(/forward pass: TensorFlow \S+ graph \(one session call per batch/);
    const eager = evalRun(path.join(root, 'eager.jsonl'), '--set', 'eval.compiled=off');
    expect(eager.stderr).not.toMatch(/forward pass: TensorFlow/);
    const [g, e] = [lines(path.join(root, 'graph.jsonl')), lines(path.join(root, 'eager.jsonl'))];
    expect(g.length).toBeGreaterThan(20);
    expect(maxLogitDiff(g, e)).toBeLessThanOrEqual(1e-5);
    expect(graph.report.accuracy).toBeCloseTo(eager.report.accuracy, 9);
    expect(graph.report.loss).toBeCloseTo(eager.report.loss, 5);
  }, 120_000);

  it('predict --model RUN takes it too, --compiled off the eager pass; on refuses another backend', () => {
    const input = path.join(root, 'rows.csv');
    const rows = ['usb c charger for a laptop', 'yoga mat', 'socks', 'a long cable '.repeat(20)];
    writeFileSync(input, `text\n${rows.map((t) => JSON.stringify(t)).join('\n')}\n`);
    const predict = (out: string, ...extra: string[]) =>
      runCli(['predict', '--model', run.runDir, '--input', input, '--output', out, '--logits', ...extra]);
    const graph = predict(path.join(root, 'graph-pred.jsonl'), '--backend', 'tensorflow');
    expect(graph.code, graph.stderr).toBe(0);
    expect(graph.stderr).toMatch(/forward pass: TensorFlow \S+ graph/);
    const eager = predict(path.join(root, 'eager-pred.jsonl'), '--backend', 'tensorflow', '--compiled', 'off');
    expect(eager.code, eager.stderr).toBe(0);
    expect(eager.stderr).not.toMatch(/forward pass: TensorFlow/);
    expect(
      maxLogitDiff(lines(path.join(root, 'graph-pred.jsonl')), lines(path.join(root, 'eager-pred.jsonl'))),
    ).toBeLessThan(1e-5);
    const refused = predict(path.join(root, 'x.jsonl'), '--backend', 'cpu', '--compiled', 'on');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/predict\.compiled: on, but the backend is cpu, not tensorflow/);
  }, 120_000);
});
