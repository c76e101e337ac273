import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleTemps, writeJsonAtomic } from '../lib/atomic.js';
import { sha256File } from '../lib/hash.js';
import { UsageError } from '../lib/errors.js';
import type { InferenceModel } from '../infer/model.js';
import type { Pooling } from './pooling.js';

export const EMBEDDINGS_FILE = 'embeddings.arrow';
export const EMBED_MANIFEST_FILE = 'manifest.json';
export const EMBED_REJECTS_FILE = 'rejects.csv';
const OWN_FILES = new Set([EMBEDDINGS_FILE, EMBED_MANIFEST_FILE, EMBED_REJECTS_FILE]);

/** manifest.json of an embeddings dir: written last, so its presence means the dir is complete. */
export interface EmbedManifest {
  kind: 'embeddings';
  model: { ref: string; kind: InferenceModel['kind']; weights_file: string; weights_sha256: string };
  pooling: Pooling;
  normalize: boolean;
  dimension: number;
  count: number;
  /** `id` (the input's id column) or `row` (1-based source row). */
  key: { column: 'id' | 'row'; source_column: string | null };
  text_column: string;
  max_length: number;
  truncation: string;
  tokenizer_sha256: string;
  input: string;
  rejected: number;
  created: string;
}

/** The file whose bytes are the model: the ONNX file of an export, else the dir's safetensors (or its index). */
export function weightsFileOf(model: InferenceModel): string {
  if (model.kind === 'export' || !statSync(model.modelPath).isDirectory()) return model.modelPath;
  const single = path.join(model.modelPath, 'model.safetensors');
  return existsSync(single) ? single : path.join(model.modelPath, 'model.safetensors.index.json');
}

export async function modelIdentity(ref: string, model: InferenceModel): Promise<EmbedManifest['model']> {
  const file = weightsFileOf(model);
  return { ref, kind: model.kind, weights_file: file, weights_sha256: model.modelSha256 ?? (await sha256File(file)) };
}

function readPrevious(file: string): Partial<EmbedManifest> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Make `out` ready for new embeddings. A complete embeddings dir of another model (other weights)
 * is refused without `overwrite`, as is a dir holding files recsys did not write; a complete dir of
 * the same model and an incomplete one (no manifest: an interrupted run) are replaced. The old
 * manifest goes first, so an interrupted rerun leaves an incomplete dir, never a stale manifest.
 */
export async function prepareOutDir(out: string, weightsSha: string, overwrite: boolean): Promise<void> {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new UsageError(`${out}: exists and is not a directory; choose another --out`);
  const manifestFile = path.join(out, EMBED_MANIFEST_FILE);
  if (existsSync(manifestFile)) {
    const prev = readPrevious(manifestFile);
    if (prev?.kind !== 'embeddings' && !overwrite)
      throw new UsageError(
        `${manifestFile}: not a recsys embeddings manifest; pass --overwrite or choose another --out`,
      );
    if (prev?.kind === 'embeddings' && prev.model?.weights_sha256 !== weightsSha && !overwrite)
      throw new UsageError(
        `${out}: holds embeddings of another model (${prev.model?.ref ?? '?'}); pass --overwrite to replace them`,
      );
  } else {
    const foreign = readdirSync(out).filter((f) => !OWN_FILES.has(f) && !f.includes('.tmp-'));
    if (foreign.length && !overwrite)
      throw new UsageError(
        `${out}: not empty and not a recsys embeddings dir (${foreign.slice(0, 3).join(', ')}); ` +
          'pass --overwrite or choose another --out',
      );
  }
  await rm(manifestFile, { force: true });
  await removeStaleTemps(out);
}

export async function writeEmbedManifest(out: string, manifest: EmbedManifest): Promise<void> {
  await writeJsonAtomic(path.join(out, EMBED_MANIFEST_FILE), manifest);
}
