import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { ProblemType } from '../model/index.js';
import { decisionFor } from './decisions.js';
import { checkParity, type CheckRows, type ParityResult } from './parity.js';
import { onnxRunner, type LogitsRunner } from '../infer/runners.js';

/**
 * The int8 gate: the quantized ONNX model runs on the same check rows as the float artifacts. Its
 * logits are expected to move (quantization moves them by far more than --atol), so it is gated on
 * what a user of the head sees: the share of rows whose top label (single-label) or label set at the
 * run's thresholds (multi-label) agrees with the float model, at least `export.int8_min_agreement`;
 * for regression, whose outputs are the answer, the largest |Δoutput| relative to the spread (std) of
 * the float model's outputs, at most `export.int8_max_relative_error`. A failed gate marks the int8
 * artifact failed and the export exits 1, as the float parity gate does. Size, speed and accuracy
 * change are reported beside it.
 */

export const QUANTIZED_FILE = 'model_quantized.onnx';
/** 0.99: on 256 check rows at most 2 rows may change their top label. */
export const DEFAULT_INT8_MIN_AGREEMENT = 0.99;
/** 0.1: no regression output moves by more than a tenth of the spread of the float model's outputs. */
export const DEFAULT_INT8_MAX_RELATIVE_ERROR = 0.1;
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
  /** What is compared: the top label, the label set at the thresholds, or the output values. */
  decision: Int8Decision;
  /** Share of rows with the same decision (top label or label set; 1 for regression). */
  argmax_agreement: number;
  /** Regression: std of the float model's outputs on the check rows, and max |Δoutput| relative to it. */
  output_std?: number;
  max_relative_error?: number;
  max_relative_error_allowed?: number;
  rows: number;
  runtime: string;
}

export type Int8Decision = 'argmax' | 'label_set' | 'values';

/** The head whose decision the gate holds the int8 model to. */
export interface Int8Head {
  problemType: ProblemType | null;
  /** Multi-label: the run's per-label thresholds (null: 0.5 each). */
  thresholds: number[] | null;
  maxRelativeError: number;
}

export function checkMinAgreement(value: number | undefined): number {
  const v = value ?? DEFAULT_INT8_MIN_AGREEMENT;
  if (!(v >= 0 && v <= 1)) throw new UsageError(`export.int8_min_agreement: expected a number in [0, 1], got ${v}`);
  return v;
}

export function checkMaxRelativeError(value: number | undefined): number {
  const v = value ?? DEFAULT_INT8_MAX_RELATIVE_ERROR;
  if (!(v > 0)) throw new UsageError(`export.int8_max_relative_error: expected a positive number, got ${v}`);
  return v;
}

interface GateOptions {
  rows: CheckRows;
  reference: LogitsRunner;
  labels: number;
  float: ParityResult;
  atol: number;
  minAgreement: number;
  /** Default: single-label (argmax), as before heads had their own gate. */
  head?: Int8Head;
  log: Logger;
}

/** Run the int8 model in `stage`/onnx on the check rows and gate it against the float model. */
export async function gateQuantized(opts: GateOptions & { stage: string }): Promise<Int8Report> {
  const file = path.join(opts.stage, 'onnx', QUANTIZED_FILE);
  const runner = await onnxRunner(file);
  let report: Int8Report;
  try {
    const floatBytes = (await stat(path.join(opts.stage, 'onnx', 'model.onnx'))).size;
    const bytes = (await stat(file)).size;
    report = await compareQuantized(runner, { file: path.join('onnx', QUANTIZED_FILE), bytes, floatBytes }, opts);
  } finally {
    await runner.close();
  }
  opts.log.info(int8Line(report));
  return report;
}

/** The float model's output spread: the std of each output over the check rows, averaged over outputs. */
async function outputStd(rows: CheckRows, reference: LogitsRunner, width: number): Promise<number> {
  const sum = new Float64Array(width);
  const sq = new Float64Array(width);
  for (const { batch } of rows.batches) {
    const out = await reference.run(batch);
    for (let i = 0; i < out.length; i++) {
      sum[i % width] += out[i];
      sq[i % width] += out[i] * out[i];
    }
  }
  let std = 0;
  for (let j = 0; j < width; j++) std += Math.sqrt(Math.max(0, sq[j] / rows.rows - (sum[j] / rows.rows) ** 2));
  return std / width;
}

/** The int8 runner against the float reference on the check rows, by the head's decision. */
export async function compareQuantized(
  runner: LogitsRunner,
  files: { file: string; bytes: number; floatBytes: number },
  opts: GateOptions,
): Promise<Int8Report> {
  const { rows, reference, float, minAgreement } = opts;
  const head = opts.head ?? { problemType: null, thresholds: null, maxRelativeError: DEFAULT_INT8_MAX_RELATIVE_ERROR };
  const decision: Int8Decision =
    head.problemType === 'regression'
      ? 'values'
      : head.problemType === 'multi_label_classification'
        ? 'label_set'
        : 'argmax';
  const decide = decision === 'argmax' ? undefined : decisionFor(head.problemType, head.thresholds);
  const q = await checkParity('onnx-int8', rows, reference, runner, opts.labels, opts.atol, decide);
  let failure: string | undefined;
  let values: Pick<Int8Report, 'output_std' | 'max_relative_error' | 'max_relative_error_allowed'> = {};
  if (decision === 'values') {
    const std = await outputStd(rows, reference, opts.labels);
    const relative = std > 0 ? q.max_abs_diff / std : q.max_abs_diff > 0 ? Infinity : 0;
    values = { output_std: std, max_relative_error: relative, max_relative_error_allowed: head.maxRelativeError };
    if (!(relative <= head.maxRelativeError))
      failure =
        `max |Δoutput| ${q.max_abs_diff.toExponential(2)} is ${relative.toFixed(3)} of the float outputs' std ` +
        `${std.toExponential(2)} on ${q.rows} rows, above export.int8_max_relative_error ${head.maxRelativeError}`;
  } else if (q.argmax_agreement < minAgreement) {
    const what = decision === 'label_set' ? 'label-set agreement (at the run thresholds)' : 'argmax agreement';
    failure =
      `${what} ${pct(q.argmax_agreement)} with the float model on ${q.rows} rows ` +
      `(${q.argmax_disagreements} differ) is below export.int8_min_agreement ${pct(minAgreement)}`;
  }
  const { bytes, floatBytes } = files;
  return {
    status: failure ? 'failed' : 'passed',
    ...(failure ? { failure } : {}),
    min_agreement: minAgreement,
    file: files.file,
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
    decision,
    argmax_agreement: q.argmax_agreement,
    ...values,
    rows: q.rows,
    runtime: q.runtime,
  };
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
    (r.decision === 'values'
      ? `max |Δoutput| ${r.max_relative_error?.toFixed(3)} of the outputs' std (max ${r.max_relative_error_allowed}), `
      : `${r.decision === 'label_set' ? 'label-set' : 'argmax'} agreement ${pct(r.argmax_agreement)} ` +
        `(min ${pct(r.min_agreement)}), `) +
    `max |Δlogit| ${r.max_abs_diff.toExponential(2)} → ${r.status}`
  );
}
