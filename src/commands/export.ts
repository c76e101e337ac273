import path from 'node:path';
import { initBackend } from '../backend/index.js';
import { flagOverrides, type CommonOptions } from './options.js';
import { loadConfig } from '../config/load.js';
import { exportRun } from '../export/export.js';
import type { OnnxOpset } from '../export/onnx.js';
import { UsageError } from '../lib/errors.js';
import { ensureWritableFile } from '../lib/fs-errors.js';
import { makeLogger } from '../lib/log.js';

const FLAGS = {
  out: 'export.out',
  format: 'export.formats',
  opset: 'export.opset',
  atol: 'export.atol',
  split: 'export.split',
  checkRows: 'export.check_rows',
  quantize: 'export.quantize',
  backend: 'backend',
};

interface ExportFlags extends CommonOptions {
  run?: string;
  checkData?: string;
  split?: string;
  [k: string]: unknown;
}

export async function exportCommand(opts: ExportFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts, FLAGS) });
  const runDir = opts.run ?? config.train.out;
  if (!runDir) throw new UsageError('recsys export: --run RUN_DIR is required (or train.out in a --config file)');
  const out = config.export.out;
  if (!out) throw new UsageError('recsys export: --out DIR is required (or export.out in a --config file)');
  // The export is staged beside OUT: that directory must take it (checked before any work).
  ensureWritableFile(path.resolve(out), 'export');
  await initBackend(config.backend, { log: log.info, verbose: opts.verbose });
  const result = await exportRun({
    runDir,
    out,
    formats: config.export.formats,
    opset: config.export.opset as OnnxOpset,
    checkData: opts.checkData,
    split: config.export.split,
    checkRows: config.export.check_rows,
    atol: config.export.atol,
    overwrite: !!opts.overwrite,
    log,
    quantize: config.export.quantize ?? undefined,
    int8MinAgreement: config.export.int8_min_agreement,
    int8MaxRelativeError: config.export.int8_max_relative_error,
  });
  if (opts.json) process.stdout.write(`${JSON.stringify(result.record, null, 2)}\n`);
}
