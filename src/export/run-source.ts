import { existsSync } from 'node:fs';
import path from 'node:path';
import { readManifest, type DatasetManifest } from '../data/manifest.js';
import { loadModelDir } from '../infer/model-dir.js';
import { UsageError } from '../lib/errors.js';
import { sha256File } from '../lib/hash.js';
import type { BertConfig, Params } from '../model/index.js';
import { checkDatasetTokenizerAndLabels, checkRunModel } from '../run/compat.js';
import { readFinishedRun, recordedDatasets, type RunManifest } from '../run/read.js';

/** What an export reads from a run directory (docs/run-dir.md). */
export interface RunSource {
  runDir: string;
  modelDir: string;
  config: BertConfig;
  params: Params;
  manifest: RunManifest;
  summary: Record<string, unknown>;
  /** Tokenizer files that travel with the export (name → content); tokenizer_config carries max_length. */
  tokenizerFiles: Record<string, string>;
  tokenizerSha256: string;
  /** sha256 of model/model.safetensors: identifies the weights being exported. */
  weightsSha256: string;
  padId: number;
  messages: string[];
}

/** A finished run's weights and tokenizer, checked against its manifest. */
export async function readRun(runDir: string): Promise<RunSource> {
  const run = readFinishedRun(runDir);
  const { manifest } = run;
  const modelDir = run.paths.model;
  const model = await loadModelDir(modelDir);
  const { config } = model;
  checkRunModel(modelDir, config, model.tokenizer.sha256, run.paths.manifest, manifest);
  const tokenizerFiles = { ...model.tokenizer.files() };
  const tc = JSON.parse(tokenizerFiles['tokenizer_config.json'] ?? '{}') as Record<string, unknown>;
  // The preprocessing contract: consumers (transformers.js, HF) truncate to the length the model was trained with.
  tc.model_max_length = manifest.max_length;
  tokenizerFiles['tokenizer_config.json'] = `${JSON.stringify(tc, null, 2)}\n`;
  return {
    runDir,
    modelDir,
    config,
    params: model.params,
    manifest,
    summary: run.summary,
    tokenizerFiles,
    tokenizerSha256: model.tokenizer.sha256,
    weightsSha256: await sha256File(run.weightsFile),
    padId: manifest.tokenizer.special_ids?.pad ?? model.tokenizer.specialIds.pad,
    messages: model.messages,
  };
}

/**
 * The dataset the parity check reads: --check-data, else the run manifest's dataset_dir, else
 * data.out of the run's config.yaml. It must have been prepared with the run's tokenizer.
 */
export function resolveCheckData(
  run: RunSource,
  checkData: string | undefined,
): { dir: string; manifest: DatasetManifest; source: string } {
  let dir = checkData;
  let source = '--check-data';
  if (!dir) {
    const candidates = recordedDatasets(run.runDir, run.manifest);
    const found = candidates.find((c) => c.dir && existsSync(c.dir));
    if (!found) {
      const named = candidates.filter((c) => c.dir).map((c) => `${c.file}: ${c.key} = ${c.dir}`);
      throw new UsageError(
        `${run.runDir}: the run's dataset ` +
          `${named.length ? `is not there (${named.join('; ')})` : 'is not recorded'}; pass ` +
          `--check-data DATASET_DIR for the parity check`,
      );
    }
    dir = found.dir!;
    source = `${found.file}: ${found.key}`;
  }
  const manifest = readManifest(dir);
  checkDatasetTokenizerAndLabels(path.join(dir, 'manifest.json'), manifest, run.manifest);
  return { dir, manifest, source };
}
