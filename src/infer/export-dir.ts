import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE, readManifest, type DatasetManifest } from '../data/manifest.js';
import { DataError, UsageError } from '../lib/errors.js';
import { sha256File } from '../lib/hash.js';
import { readJsonObject } from '../lib/json-file.js';
import type { Logger } from '../lib/log.js';
import { readBertConfig, type BertConfig } from '../model/config.js';
import { checkModelMatchesManifest } from '../run/compat.js';
import { looksLikeRunDir } from '../run/layout.js';
import {
  EXPORT_FILE,
  EXPORT_FORMAT,
  exportStateOf,
  incompleteExportMessage,
  type ExportRecord,
} from './export-record.js';

/** The ONNX file of an export directory, unless a file inside one is named. */
export const DEFAULT_ONNX = path.join('onnx', 'model.onnx');

export interface ExportDir {
  /** The export directory (holds manifest.json, config.json, export.json). */
  dir: string;
  /** The ONNX file evaluated: DIR/onnx/model.onnx, or the file given (e.g. onnx/model_quantized.onnx). */
  onnxFile: string;
  manifest: DatasetManifest & { dataset_dir?: string };
  config: BertConfig;
  record: ExportRecord;
}

/**
 * `--model` names an export directory (recsys export), or one ONNX file inside one
 * (EXPORT/onnx/model_quantized.onnx). The directory must carry the preprocessing contract
 * (manifest.json), the model config (labels) and a complete export.json.
 */
export async function readExportDir(target: string): Promise<ExportDir> {
  if (!existsSync(target))
    throw new UsageError(`${target}: not found (--model expects an export directory written by recsys export)`);
  let dir = target;
  let onnxFile = path.join(target, DEFAULT_ONNX);
  if (statSync(target).isFile()) {
    if (!target.endsWith('.onnx'))
      throw new UsageError(
        `${target}: --model expects an export directory (recsys export) or an .onnx file inside one`,
      );
    onnxFile = target;
    dir = path.basename(path.dirname(target)) === 'onnx' ? path.dirname(path.dirname(target)) : path.dirname(target);
  } else if (looksLikeRunDir(target, existsSync)) {
    throw new UsageError(
      `${target} is a run directory; evaluate it with --run ${target}, or export it first (recsys ` +
        `export --run ${target} --format onnx --out DIR) and pass --model DIR`,
    );
  }
  if (exportStateOf(dir) === 'incomplete') throw new UsageError(incompleteExportMessage(dir));
  if (!existsSync(path.join(dir, MANIFEST_FILE))) {
    throw new UsageError(
      `${dir}: no ${MANIFEST_FILE}; not a recsys export directory (recsys export --format onnx ` +
        `writes one), so the data it was trained on cannot be checked`,
    );
  }
  if (!existsSync(onnxFile)) {
    throw new UsageError(
      `${dir}: no ${path.relative(dir, onnxFile)}; export the run to ONNX first (recsys export --format onnx)`,
    );
  }
  const recordFile = path.join(dir, EXPORT_FILE);
  if (!existsSync(recordFile)) throw new UsageError(incompleteExportMessage(dir));
  const record = readJsonObject(recordFile) as unknown as ExportRecord;
  if (record.format !== EXPORT_FORMAT)
    throw new DataError(`${recordFile}: not a recsys export record (expected "format": "${EXPORT_FORMAT}")`);
  if (!record.formats?.onnx)
    throw new UsageError(
      `${dir}: the export has no ONNX model (formats: ` +
        `${Object.keys(record.formats ?? {}).join(', ') || 'none'}); re-export with --format onnx`,
    );
  const manifest = readManifest(dir) as ExportDir['manifest'];
  const configFile = path.join(dir, 'config.json');
  if (!existsSync(configFile)) throw new UsageError(`${dir}: no config.json; not a recsys export directory`);
  const config = await readBertConfig(configFile);
  checkModelMatchesManifest(dir, config, manifest);
  return { dir, onnxFile, manifest, config, record };
}

/**
 * The files of the evaluated ONNX model must be the ones export.json recorded (sha256): CI
 * evaluates the artifact that was exported and checked, not a file swapped in afterwards.
 * Returns the model file's sha256.
 */
export async function checkExportFiles(exp: ExportDir, log: Logger): Promise<string> {
  const onnx = exp.record.formats.onnx!;
  const rel = path.relative(exp.dir, exp.onnxFile);
  const recorded = onnx.sha256 ?? {};
  const quantized = onnx.quantized as { file?: string } | undefined;
  if (rel === DEFAULT_ONNX && onnx.status === 'failed') {
    log.warn(
      `${path.join(exp.dir, EXPORT_FILE)}: this ONNX model failed the export's parity check (see ` +
        `parity.json); evaluating it anyway`,
    );
  }
  if (!(rel in recorded)) {
    const known = quantized?.file === rel;
    if (!known)
      log.warn(`${exp.onnxFile} is not listed in ${path.join(exp.dir, EXPORT_FILE)}; its sha256 cannot be checked`);
  }
  let modelSha = '';
  for (const file of [rel, `${rel}_data`]) {
    if (!(file in recorded) && file !== rel) continue;
    const abs = path.join(exp.dir, file);
    if (!existsSync(abs)) throw new DataError(`${abs}: missing, but ${EXPORT_FILE} lists it; re-run recsys export`);
    const sha = await sha256File(abs);
    if (file === rel) modelSha = sha;
    if (file in recorded && recorded[file] !== sha) {
      throw new DataError(
        `${abs}: sha256 ${sha.slice(0, 12)}… differs from ${EXPORT_FILE}'s ` +
          `${recorded[file].slice(0, 12)}…; the file changed after recsys export (re-export the run)`,
      );
    }
  }
  return modelSha;
}
