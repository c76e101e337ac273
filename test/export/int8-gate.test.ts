import { describe, expect, it } from 'vitest';
import type { IdBatch } from '../../src/data/batch.js';
import type { LogitsRunner } from '../../src/infer/runners.js';
import { compareQuantized, type Int8Head } from '../../src/export/int8-gate.js';
import type { CheckRows, ParityResult } from '../../src/export/parity.js';

/**
 * The int8 gate by head, on stand-in runners (the quantized ONNX itself is covered by the export
 * tests): single-label rows agree on their top label, multi-label rows on their label set at the
 * run's thresholds, regression outputs within a share of the float outputs' spread.
 */
const ROWS = 100;
const WIDTH = 3;

function checkRows(): CheckRows {
  const batches = [];
  for (let start = 0; start < ROWS; start += 25) {
    const inputIds = Int32Array.from({ length: 25 }, (_, r) => start + r);
    const batch: IdBatch = {
      batch: 25,
      seq: 1,
      inputIds,
      attentionMask: new Int32Array(25).fill(1),
      tokenTypeIds: new Int32Array(25),
    };
    batches.push({ batch, labels: new Int32Array(25) });
  }
  return { split: 'test', datasetDir: 'd', file: 'test.arrow', batches, rows: ROWS, maxSeq: 1, pairs: false };
}

/** Outputs of row r (its input id) as `f` gives them. */
function runner(name: string, f: (row: number, j: number) => number): LogitsRunner {
  return {
    name,
    async run(b) {
      return Float32Array.from({ length: b.batch * WIDTH }, (_, i) => f(b.inputIds[Math.floor(i / WIDTH)], i % WIDTH));
    },
    async close() {},
  };
}

const float = { seconds: { export: 1 }, accuracy: { export: 0 } } as unknown as ParityResult;
const floatLogits = (row: number, j: number) => Math.sin(row * 1.7 + j * 2.3) * 3;

async function gate(candidate: LogitsRunner, head?: Int8Head, minAgreement = 0.99) {
  const opts = { rows: checkRows(), reference: runner('float', floatLogits), labels: WIDTH, float, atol: 1e-4 };
  return compareQuantized(
    candidate,
    { file: 'q.onnx', bytes: 1, floatBytes: 4 },
    { ...opts, minAgreement, head, log: console },
  );
}

describe('the int8 gate by head', () => {
  it('single-label: argmax agreement, as before', async () => {
    const same = await gate(runner('int8', (r, j) => floatLogits(r, j) + 0.01));
    expect(same).toMatchObject({ status: 'passed', decision: 'argmax', argmax_agreement: 1 });
    // rows 0..9 get another top label
    const moved = await gate(runner('int8', (r, j) => (r < 10 && j === r % WIDTH ? 100 : floatLogits(r, j))));
    expect(moved.status).toBe('failed');
    expect(moved.failure).toMatch(/^argmax agreement \d+\.\d\d% with the float model on 100 rows \(\d+ differ\)/);
  });

  const multi: Int8Head = {
    problemType: 'multi_label_classification',
    thresholds: [0.5, 0.9, 0.2],
    maxRelativeError: 0.1,
  };
  const labelSet = (f: (r: number, j: number) => number, r: number) =>
    [0, 1, 2].map((j) => 1 / (1 + Math.exp(-f(r, j))) >= multi.thresholds![j]).join();

  it('multi-label: the label set at the run thresholds, not the top label', async () => {
    // Swapping the two largest logits of a row changes its argmax, and may keep its label set: the
    // gate counts label sets. Shift every logit a little: same sets on (almost) every row.
    const shifted = (r: number, j: number) => floatLogits(r, j) + 0.001;
    const ok = await gate(runner('int8', shifted), multi);
    const expected = Array.from({ length: ROWS }, (_, r) => labelSet(shifted, r) === labelSet(floatLogits, r));
    expect(ok.decision).toBe('label_set');
    expect(ok.argmax_agreement).toBe(expected.filter(Boolean).length / ROWS);
    // label 1 (threshold 0.9) switched on for every row: label sets differ where it was off
    const on = (r: number, j: number) => (j === 1 ? 5 : floatLogits(r, j));
    const bad = await gate(runner('int8', on), multi);
    const agree = Array.from({ length: ROWS }, (_, r) => labelSet(on, r) === labelSet(floatLogits, r));
    expect(bad.argmax_agreement).toBe(agree.filter(Boolean).length / ROWS);
    expect(bad.argmax_agreement).toBeLessThan(0.9);
    expect(bad.status).toBe('failed');
    expect(bad.failure).toContain('label-set agreement (at the run thresholds)');
    expect(bad.failure).toContain('is below export.int8_min_agreement 99.00%');
  });

  it('regression: max |Δoutput| relative to the std of the float outputs, with its bound', async () => {
    const head: Int8Head = { problemType: 'regression', thresholds: null, maxRelativeError: 0.1 };
    const near = await gate(
      runner('int8', (r, j) => floatLogits(r, j) + (r === 7 ? 0.1 : 0.01)),
      head,
    );
    expect(near.decision).toBe('values');
    // sin(...)·3 over 100 rows: a std near 3/√2, so 0.1 is about 0.047 of it
    expect(near.output_std).toBeGreaterThan(1.9);
    expect(near.output_std).toBeLessThan(2.3);
    expect(near.max_relative_error).toBeCloseTo(0.1 / near.output_std!, 4);
    expect(near.status).toBe('passed');
    const far = await gate(
      runner('int8', (r, j) => floatLogits(r, j) + (r === 7 ? 0.5 : 0)),
      head,
    );
    expect(far.status).toBe('failed');
    expect(far.failure).toMatch(
      new RegExp(
        "^max \\|Δoutput\\| 5\\.00e-1 is 0\\.2\\d\\d of the float outputs' std 2\\.\\d\\de\\+0 on 100 rows, " +
          'above export\\.int8_max_relative_error 0\\.1$',
      ),
    );
    // a looser bound lets the same drift through; argmax never counts for a regression head
    expect(
      (
        await gate(
          runner('int8', (r, j) => floatLogits(r, j) + (r === 7 ? 0.5 : 0)),
          { ...head, maxRelativeError: 0.3 },
        )
      ).status,
    ).toBe('passed');
  });
});
