import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../lib/atomic.js';
import { DataError } from '../lib/errors.js';
import { faultPoint } from '../lib/fault.js';
import { loadCheckpoint, saveCheckpoint, type BertConfig, type Params } from '../model/index.js';
import type { EarlyStopState } from './early-stop.js';
import { readJsonFile, readJsonObject } from '../lib/json-file.js';

/** Everything besides tensors that a resumed run needs to continue exactly where it stopped. */
export interface TrainState {
  /** Optimizer steps completed. */
  step: number;
  /** Epoch in progress and micro-batches of it already consumed (the data-order position). */
  epoch: number;
  batchInEpoch: number;
  adamT: number;
  early: EarlyStopState;
  lastEvalStep: number | null;
  samplesSeen: number;
  /** Byte length of metrics.jsonl at this point, so a resume drops lines logged after it. */
  metricsBytes: number;
  /** Training seconds before this checkpoint (wall time across resumes). */
  seconds: number;
}

const STATE = 'state.json';
const OPTIMIZER_BIN = 'optimizer.bin';
const OPTIMIZER_JSON = 'optimizer.json';

async function saveTensors(dir: string, tensors: Map<string, tf.Tensor>): Promise<void> {
  const named = [...tensors].map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  await writeFileAtomic(path.join(dir, OPTIMIZER_BIN), new Uint8Array(data as ArrayBuffer));
  await writeJsonAtomic(path.join(dir, OPTIMIZER_JSON), specs);
}

function loadTensors(dir: string): tf.NamedTensorMap {
  const specs = readJsonFile(path.join(dir, OPTIMIZER_JSON)) as tf.io.WeightsManifestEntry[];
  const buf = readFileSync(path.join(dir, OPTIMIZER_BIN));
  return tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), specs);
}

/**
 * Write a checkpoint dir atomically: everything goes into a temp dir that is renamed into place,
 * state.json last inside it, so a reader sees a complete checkpoint or none.
 */
export async function writeCheckpoint(
  target: string,
  config: BertConfig,
  params: Params,
  moments: Map<string, tf.Tensor> | null,
  state: TrainState,
): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await saveCheckpoint(tmp, config, params, { step: state.step });
  faultPoint('checkpoint');
  if (moments) await saveTensors(tmp, moments);
  await writeJsonAtomic(path.join(tmp, STATE), state);
  await rm(target, { recursive: true, force: true });
  await rename(tmp, target);
}

/** Point `link` (e.g. RUN/last) at a checkpoint dir; replaced atomically with a rename. */
export async function pointTo(link: string, target: string): Promise<void> {
  const tmp = `${link}.tmp-${process.pid}`;
  await rm(tmp, { force: true });
  await symlink(path.relative(path.dirname(link), target), tmp);
  await rename(tmp, link);
}

export interface LoadedTrainCheckpoint {
  dir: string;
  config: BertConfig;
  params: Params;
  moments: tf.NamedTensorMap | null;
  state: TrainState;
}

/** A checkpoint is complete when its state.json exists (written last). */
export function isCompleteCheckpoint(dir: string): boolean {
  return existsSync(path.join(dir, STATE)) && existsSync(path.join(dir, 'model.json'));
}

export async function readCheckpoint(dir: string, withMoments = true): Promise<LoadedTrainCheckpoint> {
  if (!isCompleteCheckpoint(dir))
    throw new DataError(`${dir}: incomplete checkpoint (no state.json); it was being written when the run stopped`);
  const ckpt = await loadCheckpoint(dir);
  const state = readJsonObject(path.join(dir, STATE)) as unknown as TrainState;
  const moments = withMoments && existsSync(path.join(dir, OPTIMIZER_JSON)) ? loadTensors(dir) : null;
  return { dir, config: ckpt.config, params: ckpt.params, moments, state };
}

/** Keep the newest `keep` step checkpoints plus any dir in `protect`; remove the rest and stale temps. */
export async function pruneCheckpoints(dir: string, keep: number, protect: Set<string>): Promise<void> {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir);
  for (const e of entries.filter((x) => x.includes('.tmp-')))
    await rm(path.join(dir, e), { recursive: true, force: true });
  const steps = entries.filter((e) => /^step-\d+$/.test(e)).sort((a, b) => Number(b.slice(5)) - Number(a.slice(5)));
  for (const e of steps.slice(keep)) {
    const full = path.join(dir, e);
    if (protect.has(full)) continue;
    // A recursive rm is not atomic: killed halfway, it would leave a `step-N` that is neither complete nor
    // a temp. Renamed to a temp name first (atomic), the dir is never seen half-removed under its own name.
    const doomed = `${full}.tmp-${process.pid}`;
    await rename(full, doomed);
    await rm(doomed, { recursive: true, force: true });
  }
}

export function resolveLink(link: string): string | null {
  try {
    return path.resolve(path.dirname(link), readlinkSync(link));
  } catch {
    return null;
  }
}
