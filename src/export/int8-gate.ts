import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { checkParity, type CheckRows, type ParityResult } from './parity.js';
import { onnxRunner, type LogitsRunner } from '../infer/runners.js';

/**
 * The int8 gate: the quantized ONNX model runs on the same check rows as the float artifacts. Its
 * logits are expected to move (quantization moves them by far more than --atol), so it is gated on
 * what a user of the classifier sees: the fraction of rows whose top label agrees with the float
 * model. Below `export.int8_min_agreement` the int8 artifact is marked failed and the export exits
 * 1, as the float parity gate does. Size, speed and accuracy change are reported beside it.
 */

export const QUANTIZED_FILE = 'model_quantized.onnx';
/** 0.99: on 256 check rows at most 2 rows may change their top label. */
export const DEFAULT_INT8_MIN_AGREEMENT = 0.99;
export const QUANTIZATION_DESCRIPTION =
  'int8 dynamic: MatMul weights uint8 per-column symmetric (zero point 128), activations uint8 per batch ' +
  '(DynamicQuantizeLinear + MatMulInteger)';

export interface Int8Report {
  status: 'passed' | 'failed';
  /** Why the gate failed (absent when it passed). */
  failure?: string;
  min_agreement: number;
  file: string;
  quantization: string;
  bytes: number;
  float_bytes: number;
  size_ratio: number;
  seconds: number;
  float_seconds: number;
  speedup: number | null;
  accuracy: { reference: number; float: number; int8: number; change: number };
  max_abs_diff: number;
  mean_abs_diff: number;
  argmax_agreement: number;
  rows: number;
  runtime: string;
}

export function checkMinAgreement(value: number | undefined): number {
  const v = value ?? DEFAULT_INT8_MIN_AGREEMENT;
  if (!(v >= 0 && v <= 1)) throw new UsageError(`export.int8_min_agreement: expected a number in [0, 1], got ${v}`);
  return v;
}

/** Run the int8 model in `stage`/onnx on the check rows and gate its argmax agreement with the float model. */
export async function gateQuantized(opts: {
  stage: string;
  rows: CheckRows;
  reference: LogitsRunner;
  labels: number;
  float: ParityResult;
  atol: number;
  minAgreement: number;
  log: Logger;
}): Promise<Int8Report> {
  const { stage, rows, reference, float, minAgreement } = opts;
  const file = path.join(stage, 'onnx', QUANTIZED_FILE);
  const runner = await onnxRunner(file);
  let q: ParityResult;
  try {
    q = await checkParity('onnx-int8', rows, reference, runner, opts.labels, opts.atol);
  } finally {
    await runner.close();
  }
  const floatBytes = (await stat(path.join(stage, 'onnx', 'model.onnx'))).size;
  const bytes = (await stat(file)).size;
  const passed = q.argmax_agreement >= minAgreement;
  const report: Int8Report = {
    status: passed ? 'passed' : 'failed',
    ...(passed
      ? {}
      : {
          failure:
            `argmax agreement ${pct(q.argmax_agreement)} with the float model on ${q.rows} rows ` +
            `(${q.argmax_disagreements} differ) is below export.int8_min_agreement ${pct(minAgreement)}`,
        }),
    min_agreement: minAgreement,
    file: path.join('onnx', QUANTIZED_FILE),
    quantization: QUANTIZATION_DESCRIPTION,
    bytes,
    float_bytes: floatBytes,
    size_ratio: bytes / floatBytes,
    seconds: q.seconds.export,
    float_seconds: float.seconds.export,
    speedup: q.seconds.export > 0 ? float.seconds.export / q.seconds.export : null,
    accuracy: {
      reference: q.accuracy.reference,
      float: float.accuracy.export,
      int8: q.accuracy.export,
      change: q.accuracy.export - float.accuracy.export,
    },
    max_abs_diff: q.max_abs_diff,
    mean_abs_diff: q.mean_abs_diff,
    argmax_agreement: q.argmax_agreement,
    rows: q.rows,
    runtime: q.runtime,
  };
  opts.log.info(int8Line(report));
  return report;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

function int8Line(r: Int8Report): string {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const change = 100 * r.accuracy.change;
  return (
    `quantized onnx (int8): ${mb(r.bytes)} vs ${mb(r.float_bytes)} (×${r.size_ratio.toFixed(2)}), ` +
    `${r.seconds.toFixed(2)} s vs ${r.float_seconds.toFixed(2)} s on ${r.rows} rows ` +
    `(×${r.speedup?.toFixed(2) ?? '-'} speed), ` +
    `accuracy ${pct(r.accuracy.int8)} vs ${pct(r.accuracy.float)} ` +
    `(${change >= 0 ? '+' : ''}${change.toFixed(2)} pts), ` +
    `argmax agreement ${pct(r.argmax_agreement)} (min ${pct(r.min_agreement)}), ` +
    `max |Δlogit| ${r.max_abs_diff.toExponential(2)} → ${r.status}`
  );
}
