import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  readManifest,
  refusePretrainingRun,
  type DatasetManifest,
} from '../data/manifest.js';
import { DataError, UsageError } from '../lib/errors.js';
import { readJsonObject } from '../lib/json-file.js';
import { runPaths, type RunPaths } from './layout.js';

/** The run manifest: the dataset manifest the run was trained on, plus where that dataset was. */
export type RunManifest = DatasetManifest & { dataset_dir?: string };

function checkIsDir(runDir: string): void {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory())
    throw new UsageError(`${runDir}: run directory not found`);
}

/**
 * The manifest of a run that has saved a model (finished or not): what eval checks a dataset
 * against. A directory without model/config.json or manifest.json is refused (usage error).
 */
export function readRunManifest(runDir: string): RunManifest {
  checkIsDir(runDir);
  for (const f of [path.join('model', 'config.json'), MANIFEST_FILE]) {
    if (!existsSync(path.join(runDir, f))) {
      throw new UsageError(
        `${runDir}: no ${f}; not a recsys run directory (see docs/run-dir.md), or a run that has not saved a model yet`,
      );
    }
  }
  return readManifest(runDir);
}

/** A finished run: what an export reads besides the model (train_summary.json, manifest.json). */
export interface FinishedRun {
  paths: RunPaths;
  manifest: RunManifest;
  summary: Record<string, unknown>;
  /** model/model.safetensors: the weights being exported. */
  weightsFile: string;
}

function readJson(file: string, what: string): Record<string, unknown> {
  if (!existsSync(file)) throw new DataError(`${file}: missing (${what})`);
  return readJsonObject(file);
}

/** A run that finished (train_summary.json written), with its manifest and weights file. */
export function readFinishedRun(runDir: string): FinishedRun {
  checkIsDir(runDir);
  const paths = runPaths(runDir);
  if (!existsSync(paths.summary)) {
    throw new DataError(
      `${runDir}: no train_summary.json; the run is incomplete (still training or interrupted); ` +
        `finish or resume it first`,
    );
  }
  const summary = readJson(paths.summary, 'the run summary');
  const manifest = readJson(paths.manifest, 'the dataset manifest the run was trained on') as unknown as RunManifest;
  refusePretrainingRun(runDir, manifest);
  if (manifest?.format !== MANIFEST_FORMAT)
    throw new DataError(`${paths.manifest}: format: not a recsys dataset manifest`);
  const weightsFile = path.join(paths.model, 'model.safetensors');
  if (!existsSync(weightsFile)) throw new DataError(`${weightsFile}: missing (the run's weights)`);
  return { paths, manifest, summary, weightsFile };
}

/** Whether the run finished (train_summary.json is written last). */
export const isFinishedRun = (runDir: string): boolean => existsSync(runPaths(runDir).summary);

/** Where a run records the dataset it was trained on: the file, the key, and the directory if set. */
export interface RecordedDataset {
  dir: string | undefined;
  file: string;
  key: string;
}

/** The dataset the run's resolved config.yaml names (data.out), relative to the run dir. */
function datasetFromRunConfig(file: string, runDir: string): string | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const out = (YAML.parse(readFileSync(file, 'utf8')) as { data?: { out?: unknown } } | null)?.data?.out;
    return typeof out === 'string' && out ? path.resolve(runDir, out) : undefined;
  } catch {
    return undefined; // an unreadable config.yaml only loses a fallback
  }
}

/**
 * The run's dataset, in order of preference: manifest.json dataset_dir (written by train), then
 * config.yaml data.out. Entries whose dir is undefined are not recorded there.
 */
export function recordedDatasets(runDir: string, manifest: RunManifest): RecordedDataset[] {
  const paths = runPaths(runDir);
  const recorded = manifest.dataset_dir;
  return [
    {
      dir: typeof recorded === 'string' && recorded ? path.resolve(runDir, recorded) : undefined,
      file: paths.manifest,
      key: 'dataset_dir',
    },
    { dir: datasetFromRunConfig(paths.config, runDir), file: paths.config, key: 'data.out' },
  ];
}
