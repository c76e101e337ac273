import { existsSync, readdirSync, rmSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { readThresholds, THRESHOLDS_FILE } from '../infer/thresholds.js';
import { decisionFor } from './decisions.js';
import path from 'node:path';
import { removeStaleTemps, tempNameFor, writeJsonAtomic } from '../lib/atomic.js';
import { faultPoint } from '../lib/fault.js';
import { GateError, UsageError } from '../lib/errors.js';
import { fsErrorReason } from '../lib/fs-errors.js';
import { sha256File } from '../lib/hash.js';
import type { Logger } from '../lib/log.js';
import { toHfConfig } from '../model/index.js';
import {
  EXPORT_FILE,
  EXPORT_FORMAT,
  readCompleteExportRecord,
  type ExportFormat,
  type ExportRecord,
  type FormatRecord,
} from '../infer/export-record.js';
import { tfjsRunner } from '../infer/runners.js';
import { catchInterrupts } from '../lib/interrupt.js';
import { writeOnnx, writeSm } from './artifacts.js';
import { buildInferenceGraph, opHistogram } from '../model/graph/inference-graph.js';
import { embeddingHeadOf, embeddingReference, loadEmbeddingCheckRows } from './embedding-check.js';
import { checkMaxRelativeError, checkMinAgreement, gateQuantized, type Int8Report } from './int8-gate.js';
import { ONNX_OPSETS, type OnnxOpset } from './onnx.js';
import { checkParity, loadCheckRows, parityLine, type CheckRows, type ParityResult } from './parity.js';
import { EXPORT_ENTRIES, PENDING_RECORD } from './record.js';
import { readRun, resolveCheckData, type RunSource } from './run-source.js';

/**
 * `recsys export`: a run directory → an export directory, every artifact checked on real rows.
 *
 *   OUT/                       a Hugging Face-style model dir (transformers.js and optimum load it as-is)
 *     config.json              BertForSequenceClassification config with id2label/label2id
 *     tokenizer.json, tokenizer_config.json (model_max_length = the run's max_length), vocab.txt
 *     manifest.json            the run's dataset manifest (the preprocessing contract)
 *     onnx/model.onnx          [+ model.onnx_data above 1.8 GB]; the manifest is also in metadata_props
 *     savedmodel/              saved_model.pb, variables/, assets.extra/{manifest.json, tokenizer files, export.json}
 *     parity.json              per format: max/mean |Δlogit|, argmax agreement on the check rows
 *     export.json              written last: what was exported from which run, and each format's status
 *
 * Everything is written into a temporary sibling directory, checked there, and renamed into OUT
 * entry by entry with export.json removed first and rewritten last, so OUT never looks complete
 * while it is not. A complete export of another run is not replaced without --overwrite.
 */

export { EXPORT_FILE, EXPORT_FORMAT, type ExportFormat, type ExportRecord } from '../infer/export-record.js';
/** transformers.js loads it with dtype 'q8'. */
export { QUANTIZED_FILE } from './int8-gate.js';
export const FORMATS = ['onnx', 'savedmodel'] as const satisfies readonly ExportFormat[];

export interface ExportOptions {
  runDir: string;
  out: string;
  formats: ExportFormat[];
  opset?: OnnxOpset;
  checkData?: string;
  split?: string;
  checkRows?: number;
  atol?: number;
  overwrite?: boolean;
  log: Logger;
  /**
   * Also write onnx/model_quantized.onnx (8-bit dynamic quantization of the MatMul weights), gated on its
   * argmax agreement with the float model (int8-gate.ts).
   */
  quantize?: 'int8';
  /** Smallest argmax agreement of the int8 model with the float model (default 0.99). */
  int8MinAgreement?: number;
  /** Regression: largest int8 |Δoutput| relative to the float outputs' std (default 0.1). */
  int8MaxRelativeError?: number;
  /** Put ONNX weights in an external data file above this many bytes (default 1.8 GiB). */
  externalDataThreshold?: number;
  /** Test hook: runs after an artifact is written and before it is checked (e.g. to corrupt it). */
  afterWrite?: (format: ExportFormat, dir: string) => Promise<void>;
}

/** Refuse to replace what is not ours to replace; returns the previous record of the same run. */
function checkOutDir(out: string, run: RunSource, overwrite: boolean): ExportRecord | null {
  if (!existsSync(out)) return null;
  if (!readdirSync(out, { withFileTypes: true }).length) return null;
  const previous = readCompleteExportRecord(out);
  if (previous) {
    if (previous.run?.weights_sha256 === run.weightsSha256) return previous;
    if (!overwrite) {
      throw new UsageError(
        `${out}: holds a complete export of another run (${previous.run?.dir ?? 'unknown'}); pass ` +
          `--overwrite to replace it or choose another --out`,
      );
    }
    return null;
  }
  const foreign = readdirSync(out).filter((f) => !EXPORT_ENTRIES.has(f) && !f.includes('.tmp-'));
  if (foreign.length && !overwrite) {
    throw new UsageError(
      `${out}: not empty and not a recsys export ` +
        `(${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); pass --overwrite or ` +
        `choose another --out`,
    );
  }
  return null; // an incomplete export (interrupted): replaced without asking
}

async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(dir, p)));
    else out.push(p);
  }
  return out.sort();
}

async function describeFiles(
  root: string,
  sub: string,
): Promise<{ files: string[]; bytes: number; sha256: Record<string, string> }> {
  const files = (await filesUnder(path.join(root, sub))).map((f) => path.join(sub, f));
  let bytes = 0;
  const sha256: Record<string, string> = {};
  for (const f of files) {
    bytes += (await stat(path.join(root, f))).size;
    sha256[f] = await sha256File(path.join(root, f));
  }
  return { files, bytes, sha256 };
}

export interface ExportResult {
  out: string;
  record: ExportRecord;
  parity: ParityResult[];
  passed: boolean;
}

export async function exportRun(opts: ExportOptions): Promise<ExportResult> {
  const { log } = opts;
  const formats = [...new Set(opts.formats)];
  if (formats.length === 0) throw new UsageError('export.formats: nothing to export (use --format onnx,savedmodel)');
  for (const f of formats)
    if (!(FORMATS as readonly string[]).includes(f))
      throw new UsageError(`export.formats: unknown format "${f}" (expected ${FORMATS.join(' | ')})`);
  const opset = opts.opset ?? 17;
  if (!ONNX_OPSETS.includes(opset))
    throw new UsageError(`export.opset: ${String(opset)} is not supported (expected 14 or 17)`);
  const atol = opts.atol ?? 1e-4;
  if (!(atol > 0)) throw new UsageError(`--atol: expected a positive number (got ${atol})`);
  const checkRows = opts.checkRows ?? 256;
  if (!Number.isInteger(checkRows) || checkRows < 1)
    throw new UsageError(`--check-rows: expected a positive integer (got ${checkRows})`);
  const split = opts.split ?? 'test';
  if (opts.quantize !== undefined && opts.quantize !== 'int8')
    throw new UsageError(`--quantize: expected int8 (got ${String(opts.quantize)})`);
  if (opts.quantize && !formats.includes('onnx'))
    throw new UsageError('--quantize int8 applies to ONNX only; add onnx to --format');
  const int8MinAgreement = checkMinAgreement(opts.int8MinAgreement);
  const int8MaxRelativeError = checkMaxRelativeError(opts.int8MaxRelativeError);
  const out = path.resolve(opts.out);

  const run = await readRun(path.resolve(opts.runDir));
  for (const m of run.messages) log.debug(m);
  const previous = checkOutDir(out, run, !!opts.overwrite);
  const data = resolveCheckData(run, opts.checkData && path.resolve(opts.checkData));
  // task embedding: outputs sentence_embedding and last_hidden_state, checked on single texts.
  const head = embeddingHeadOf(run.manifest);
  if (head && opts.quantize) throw new UsageError('--quantize int8: not available for task embedding exports yet');
  const rows: CheckRows = head
    ? await loadEmbeddingCheckRows(data.dir, data.manifest, split, checkRows, run.padId)
    : await loadCheckRows(data.dir, data.manifest, split, checkRows, run.padId);
  log.info(
    `export: ${run.runDir} → ${out} (${formats.join(', ')}); parity check on ${rows.rows} rows of ` +
      `${path.join(data.dir, rows.file)} (${data.source})`,
  );

  const graph = buildInferenceGraph(run.config, run.params, head);
  log.debug(`inference graph: ${JSON.stringify(opHistogram(graph))}`);

  // What an interrupted export left: its stage beside OUT, and replaced entries inside OUT.
  await removeStaleTemps(path.dirname(out), { of: path.basename(out) });
  await removeStaleTemps(out);
  await mkdir(path.dirname(out), { recursive: true });
  const stage = tempNameFor(out);
  const cleanup = () => rmSync(stage, { recursive: true, force: true });
  // Ctrl-C / SIGTERM: the stage goes at once and the export stops there (exit 130 / 143); OUT is
  // untouched, or marked incomplete by export.json if publishing had begun.
  const interrupts = catchInterrupts({ cleanup });
  const reference = head ? embeddingReference(run.params, run.config, head) : tfjsRunner(run.params, run.config);
  const thresholds =
    run.config.problemType === 'multi_label_classification' ? readThresholds(run.modelDir, run.config.id2label) : null;
  // An embedding export is held to its vectors (and their argmax, as before); a head to its decision.
  const decide = head ? undefined : decisionFor(run.config.problemType, thresholds);
  const results: ParityResult[] = [];
  const records: Partial<Record<ExportFormat, FormatRecord>> = {};
  let quantizedDoc: Int8Report | undefined;
  const work = async (): Promise<ExportResult> => {
    await mkdir(stage, { recursive: true });
    // The Hugging Face-style top level, shared by the formats.
    await writeFile(path.join(stage, 'config.json'), `${JSON.stringify(toHfConfig(run.config), null, 2)}\n`);
    for (const [name, content] of Object.entries(run.tokenizerFiles)) await writeFile(path.join(stage, name), content);
    await writeFile(path.join(stage, 'manifest.json'), `${JSON.stringify(run.manifest, null, 2)}\n`);
    // A multi-label run's decision thresholds travel with the model.
    if (thresholds) await copyFile(path.join(run.modelDir, THRESHOLDS_FILE), path.join(stage, THRESHOLDS_FILE));

    for (const format of formats) {
      const t0 = performance.now();
      const artifact = format === 'onnx' ? await writeOnnx(stage, run, graph, opts) : await writeSm(stage, run, graph);
      const writeSeconds = (performance.now() - t0) / 1000;
      await opts.afterWrite?.(format, path.join(stage, artifact.path));
      faultPoint('export-stage');
      const runner = await artifact.runner(stage);
      let parity: ParityResult;
      try {
        const width = head ? run.config.hiddenSize : run.config.id2label.length;
        parity = await checkParity(format, rows, reference, runner, width, atol, decide);
      } finally {
        await runner.close();
      }
      results.push(parity);
      log.info(parityLine(parity, rows));
      const { format: _f, ...parityRest } = parity;
      const files = await describeFiles(stage, artifact.path);
      records[format] = {
        status: parity.passed ? 'passed' : 'failed',
        path: artifact.path,
        ...files,
        runtime: parity.runtime,
        write_seconds: writeSeconds,
        ...artifact.extra,
        parity: parityRest,
      };
      if (format === 'onnx' && opts.quantize) {
        quantizedDoc = await gateQuantized({
          stage,
          rows,
          reference,
          labels: run.config.id2label.length,
          float: parity,
          atol,
          log,
          minAgreement: int8MinAgreement,
          head: { problemType: run.config.problemType, thresholds, maxRelativeError: int8MaxRelativeError },
        });
        records.onnx!.quantized = quantizedDoc;
      }
    }
    if (records.savedmodel) {
      // The SavedModel may travel alone (TF Serving): it carries its own status.
      await writeFile(
        path.join(stage, 'savedmodel', 'assets.extra', EXPORT_FILE),
        `${JSON.stringify(
          { format: EXPORT_FORMAT, run: run.runDir, weights_sha256: run.weightsSha256, savedmodel: records.savedmodel },
          null,
          2,
        )}\n`,
      );
    }

    const keep = previous
      ? Object.fromEntries(
          Object.entries(previous.formats ?? {}).filter(
            ([f]) =>
              !formats.includes(f as ExportFormat) &&
              existsSync(path.join(out, previous.formats[f as ExportFormat]!.path)),
          ),
        )
      : {};
    const record: ExportRecord = {
      format: EXPORT_FORMAT,
      version: 1,
      created: new Date().toISOString(),
      complete: true,
      run: {
        dir: run.runDir,
        weights_sha256: run.weightsSha256,
        tokenizer_sha256: run.tokenizerSha256,
        dataset_sha256: run.manifest.dataset_sha256,
        best: run.summary.best_value ?? null,
      },
      model: {
        architecture: 'BertForSequenceClassification',
        labels: run.config.id2label,
        max_length: run.manifest.max_length,
        hidden_act: run.config.hiddenAct,
        parameters: [...run.params.values()].reduce((n, t) => n + t.size, 0),
      },
      check: { dataset_dir: data.dir, split, file: rows.file, rows: rows.rows, atol, reference: reference.name },
      formats: { ...keep, ...records },
    };
    const parityDoc = {
      dataset_dir: data.dir,
      split,
      file: rows.file,
      rows: rows.rows,
      atol,
      reference: reference.name,
      formats: Object.fromEntries(
        Object.entries(record.formats).map(([f, r]) => [f, { status: r!.status, ...r!.parity }]),
      ),
      ...(quantizedDoc ? { onnx_int8: quantizedDoc } : {}),
    };
    await writeFile(path.join(stage, 'parity.json'), `${JSON.stringify(parityDoc, null, 2)}\n`);
    faultPoint('export-stage');

    // Move into place: export.json turns into the pending marker first (OUT is incomplete from
    // here) and becomes the full record last.
    await mkdir(out, { recursive: true });
    await writeJsonAtomic(path.join(out, EXPORT_FILE), PENDING_RECORD);
    if (!previous) {
      // Not a complete export of this run (empty, interrupted, or replaced with --overwrite): nothing of it is kept.
      for (const e of readdirSync(out))
        if (EXPORT_ENTRIES.has(e) && e !== EXPORT_FILE) await rm(path.join(out, e), { recursive: true, force: true });
    }
    for (const entry of await readdir(stage)) {
      const target = path.join(out, entry);
      if (existsSync(target)) {
        const trash = tempNameFor(target);
        await rename(target, trash);
        faultPoint('export-publish');
        await rename(path.join(stage, entry), target);
        await rm(trash, { recursive: true, force: true });
      } else await rename(path.join(stage, entry), target);
      faultPoint('export-publish');
    }
    await writeJsonAtomic(path.join(out, EXPORT_FILE), record);
    const failed = results.filter((r) => !r.passed).map((r) => `${r.format} (${r.failure})`);
    if (quantizedDoc?.status === 'failed') failed.push(`onnx int8 (${quantizedDoc.failure})`);
    const passed = failed.length === 0;
    for (const [f, r] of Object.entries(records))
      log.info(`  ${f}: ${path.join(out, r!.path)} (${(r!.bytes / 1e6).toFixed(1)} MB, ${r!.status})`);
    if (!passed) {
      throw new GateError(
        `parity check failed for ${failed.join(', ')}; the export is kept in ${out}, ` +
          `marked failed in ${EXPORT_FILE} and parity.json`,
      );
    }
    return { out, record, parity: results, passed };
  };
  try {
    return await interrupts.race(work());
  } catch (err) {
    // A full disk or a file system gone read-only names the export, not a temp file inside it.
    const reason = fsErrorReason(err);
    if (reason) throw new UsageError(`${out}: writing the export failed: ${reason}`);
    throw err;
  } finally {
    interrupts.release();
    cleanup();
  }
}
