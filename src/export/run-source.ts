import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { MANIFEST_FORMAT, readManifest, type DatasetManifest } from '../data/manifest.js';
import { DataError, UsageError } from '../lib/errors.js';
import { sha256File } from '../lib/hash.js';
import type { BertConfig, Params } from '../model/index.js';
import { loadInferenceModel } from '../predict/model-source.js';
import { readJsonObject } from '../lib/json-file.js';

/** The run manifest: the dataset manifest the run was trained on, plus where that dataset was. */
export type RunManifest = DatasetManifest & { dataset_dir?: string };

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

function readJson(file: string, what: string): unknown {
  if (!existsSync(file)) throw new DataError(`${file}: missing (${what})`);
  return readJsonObject(file);
}

export async function readRun(runDir: string): Promise<RunSource> {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory())
    throw new UsageError(`${runDir}: run directory not found`);
  const summaryFile = path.join(runDir, 'train_summary.json');
  if (!existsSync(summaryFile)) {
    throw new DataError(
      `${runDir}: no train_summary.json; the run is incomplete (still training or interrupted); finish or resume it first`,
    );
  }
  const summary = readJson(summaryFile, 'the run summary') as Record<string, unknown>;
  const manifestFile = path.join(runDir, 'manifest.json');
  const manifest = readJson(manifestFile, 'the dataset manifest the run was trained on') as RunManifest;
  if (manifest?.format !== MANIFEST_FORMAT)
    throw new DataError(`${manifestFile}: format: not a recsys dataset manifest`);
  const modelDir = path.join(runDir, 'model');
  const weightsFile = path.join(modelDir, 'model.safetensors');
  if (!existsSync(weightsFile)) throw new DataError(`${weightsFile}: missing (the run's weights)`);
  const model = await loadInferenceModel(modelDir);
  const { config } = model;
  if (JSON.stringify(config.id2label) !== JSON.stringify(manifest.labels)) {
    throw new DataError(
      `${path.join(modelDir, 'config.json')}: id2label [${config.id2label.join(', ')}] disagrees with the labels in ${manifestFile} [${manifest.labels.join(', ')}]`,
    );
  }
  if (model.tokenizer.sha256 !== manifest.tokenizer.sha256) {
    throw new DataError(
      `${modelDir}: the tokenizer files (sha256 ${model.tokenizer.sha256.slice(0, 12)}) are not the tokenizer of ${manifestFile} (tokenizer.sha256 ${manifest.tokenizer.sha256.slice(0, 12)})`,
    );
  }
  if (manifest.max_length > config.maxPositionEmbeddings) {
    throw new DataError(
      `${manifestFile}: max_length ${manifest.max_length} exceeds the model's max_position_embeddings ${config.maxPositionEmbeddings}`,
    );
  }
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
    summary,
    tokenizerFiles,
    tokenizerSha256: model.tokenizer.sha256,
    weightsSha256: await sha256File(weightsFile),
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
    const candidates: Array<[string | undefined, string]> = [
      [run.manifest.dataset_dir, `${path.join(run.runDir, 'manifest.json')}: dataset_dir`],
    ];
    const cfgFile = path.join(run.runDir, 'config.yaml');
    if (existsSync(cfgFile)) {
      try {
        const out = (YAML.parse(readFileSync(cfgFile, 'utf8')) as { data?: { out?: string } } | null)?.data?.out;
        if (typeof out === 'string') candidates.push([path.resolve(run.runDir, out), `${cfgFile}: data.out`]);
      } catch {
        /* an unreadable config.yaml only loses a fallback */
      }
    }
    const found = candidates.find(([d]) => d && existsSync(d));
    if (!found) {
      const named = candidates.filter(([d]) => d).map(([d, where]) => `${where} = ${d}`);
      throw new UsageError(
        `${run.runDir}: the run's dataset ${named.length ? `is not there (${named.join('; ')})` : 'is not recorded'}; pass --check-data DATASET_DIR for the parity check`,
      );
    }
    [dir, source] = found as [string, string];
  }
  const manifest = readManifest(dir);
  const file = path.join(dir, 'manifest.json');
  if (manifest.tokenizer.sha256 !== run.manifest.tokenizer.sha256) {
    throw new DataError(
      `${file}: tokenizer.sha256 ${manifest.tokenizer.sha256.slice(0, 12)} is not the run's tokenizer (${run.manifest.tokenizer.sha256.slice(0, 12)}); the parity check needs data prepared with the run's tokenizer`,
    );
  }
  if (JSON.stringify(manifest.labels) !== JSON.stringify(run.manifest.labels)) {
    throw new DataError(
      `${file}: labels [${manifest.labels.join(', ')}] are not the run's labels [${run.manifest.labels.join(', ')}]`,
    );
  }
  return { dir, manifest, source };
}
