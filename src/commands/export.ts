import path from 'node:path';
import { initBackend } from '../backend/index.js';
import { flagOverrides, type CommonOptions } from '../cli.js';
import { loadConfig } from '../config/load.js';
import { exportRun, FORMATS, type ExportFormat } from '../export/export.js';
import type { OnnxOpset } from '../export/onnx.js';
import { UsageError } from '../lib/errors.js';
import { ensureWritableFile } from '../lib/fs-errors.js';
import { makeLogger } from '../lib/log.js';

const FLAGS = {
  out: 'export.out',
  format: 'export.formats',
  opset: 'export.opset',
  atol: 'export.atol',
  backend: 'backend',
};

interface ExportFlags extends CommonOptions {
  run?: string;
  checkData?: string;
  split?: string;
  checkRows?: unknown;
  quantize?: string;
  [k: string]: unknown;
}

export async function exportCommand(opts: ExportFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts, FLAGS) });
  const runDir = opts.run ?? config.train.out;
  if (!runDir) throw new UsageError('recsys export: --run RUN_DIR is required (or train.out in a --config file)');
  const out = config.export.out;
  if (!out) throw new UsageError('recsys export: --out DIR is required (or export.out in a --config file)');
  const split = opts.split ?? 'test';
  if (!['train', 'validation', 'test'].includes(split))
    throw new UsageError(`recsys export: --split expects train | validation | test, got "${split}"`);
  let checkRows: number | undefined;
  if (opts.checkRows !== undefined) {
    checkRows = Number(opts.checkRows);
    if (!Number.isInteger(checkRows) || checkRows < 1)
      throw new UsageError(`recsys export: --check-rows expects a positive integer, got "${String(opts.checkRows)}"`);
  }
  const formats = config.export.formats as ExportFormat[];
  for (const f of formats)
    if (!(FORMATS as readonly string[]).includes(f)) throw new UsageError(`recsys export: unknown format "${f}"`);
  // The export is staged beside OUT: that directory must take it (checked before any work).
  ensureWritableFile(path.resolve(out), 'export');
  await initBackend(config.backend, { log: log.info, verbose: opts.verbose });
  const result = await exportRun({
    runDir,
    out,
    formats,
    opset: config.export.opset as OnnxOpset,
    checkData: opts.checkData,
    split,
    checkRows,
    atol: config.export.atol,
    overwrite: !!opts.overwrite,
    log,
    quantize: opts.quantize as 'int8' | undefined,
    int8MinAgreement: config.export.int8_min_agreement,
  });
  if (opts.json) process.stdout.write(`${JSON.stringify(result.record, null, 2)}\n`);
}
