import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NodeDef } from '../../lib/tf-graphdef.js';
import { DT, encodeMessage } from '../../lib/tf-proto.js';
import { type ForwardGraph, type ForwardOptions, headTask } from './forward-graph.js';
import { STEP_SCALARS } from './update-graph.js';

/**
 * The compiled step as a TF1-style SavedModel (tag "serve", a `train` signature, no variables/: the
 * variables are set through the graph's init/ feeds), so tfjs-node's own session path loads and runs
 * it. The GraphDef the addon returned is kept as TensorFlow wrote it: the update nodes are appended
 * as a second encoded GraphDef and the messages around it are framed by hand (protobuf merges
 * repeated fields across concatenated encodings), so nothing recsys's proto subset lacks is lost.
 */

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A length-delimited field (wire type 2): an embedded message. */
function embedded(field: number, bytes: Uint8Array): Uint8Array {
  return Buffer.concat([Uint8Array.from([...varint((field << 3) | 2), ...varint(bytes.length)]), bytes]);
}

const info = (name: string, dtype: number, dims: number[]) => ({
  name,
  dtype,
  tensorShape: { dim: dims.map((size) => ({ size })) },
});

export function trainSavedModelBytes(
  fwd: ForwardGraph,
  withGradients: Uint8Array,
  update: NodeDef[],
  opts: ForwardOptions,
): Uint8Array {
  const [B, S] = opts.shape ? [opts.shape.batch, opts.shape.seq] : [-1, -1];
  const signature = {
    methodName: 'tensorflow/serving/predict',
    inputs: {
      ...Object.fromEntries(
        ['input_ids', 'attention_mask', 'token_type_ids'].map((k) => [k, info(`${k}:0`, DT.DT_INT32, [B, S])]),
      ),
      ...(fwd.config.head === 'masked_lm'
        ? {
            mlm_positions: info('mlm_positions:0', DT.DT_INT32, [-1]),
            mlm_labels: info('mlm_labels:0', DT.DT_INT32, [-1]),
          }
        : {
            labels:
              headTask(fwd.config) === 'single_label_classification'
                ? info('labels:0', DT.DT_INT32, [B])
                : info('labels:0', DT.DT_FLOAT, [B, fwd.config.id2label.length]),
          }),
      seeds: info('seeds:0', DT.DT_INT32, [fwd.dropouts, 2]),
      ...Object.fromEntries(STEP_SCALARS.map((k) => [k, info(`${k}:0`, DT.DT_FLOAT, [])])),
      ...(opts.classWeights ? { class_weights: info('class_weights:0', DT.DT_FLOAT, [-1]) } : {}),
      ...(opts.posWeight ? { pos_weight: info('pos_weight:0', DT.DT_FLOAT, [-1]) } : {}),
    },
    outputs: {
      loss: info('loss:0', DT.DT_FLOAT, []),
      grad_norm: info('grad_norm:0', DT.DT_FLOAT, []),
      applied: info('applied:0', DT.DT_INT32, []),
    },
  };
  const graphDef = Buffer.concat([withGradients, encodeMessage('GraphDef', { node: update })]);
  const metaGraph = Buffer.concat([
    encodeMessage('MetaGraphDef', {
      metaInfoDef: { tags: ['serve'], strippedDefaultAttrs: true },
      signatureDef: { train: signature },
    }),
    embedded(2, graphDef),
  ]);
  return Buffer.concat([encodeMessage('SavedModel', { savedModelSchemaVersion: 1 }), embedded(2, metaGraph)]);
}

/**
 * Write `<root>/<sha256 of the bytes>/saved_model.pb` unless it is there already, through a
 * temporary directory renamed into place (a kill never leaves a half-written model that looks
 * valid; two processes writing the same model both end with it). Returns the directory.
 */
export async function writeTrainSavedModel(root: string, bytes: Uint8Array): Promise<string> {
  const dir = path.join(root, createHash('sha256').update(bytes).digest('hex').slice(0, 24));
  const exists = await stat(path.join(dir, 'saved_model.pb')).then(
    () => true,
    () => false,
  );
  if (exists) {
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined); // marks it used, for pruneCache
    return dir;
  }
  await mkdir(root, { recursive: true });
  const tmp = await mkdtemp(path.join(root, '.tmp-'));
  await writeFile(path.join(tmp, 'saved_model.pb'), bytes);
  try {
    await rename(tmp, dir);
  } catch {
    await rm(tmp, { recursive: true, force: true }); // another process put the same model there first
  }
  await pruneCache(root, dir);
  return dir;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Every model shape, head and setting writes its own step graph, so the cache would only grow: keep
 * the `keep` most recently used graphs and anything used within a day (a process that has just found
 * a graph may not have loaded it yet), and remove what a killed writer left behind (`.tmp-*`, after an
 * hour). Best effort: a graph another process removes is written again by the next run that needs it.
 */
export async function pruneCache(root: string, current: string, keep = 16, now = Date.now()): Promise<string[]> {
  const entries = await readdir(root).catch(() => [] as string[]);
  const dated = await Promise.all(
    entries.map(async (name) => {
      const full = path.join(root, name);
      const mtime = await stat(full).then(
        (st) => st.mtimeMs,
        () => now,
      );
      return { name, full, mtime };
    }),
  );
  const stale = dated.filter((e) => e.name.startsWith('.tmp-') && now - e.mtime > 3600 * 1000);
  const graphs = dated.filter((e) => !e.name.startsWith('.') && e.full !== current).sort((a, b) => b.mtime - a.mtime);
  const old = graphs.slice(Math.max(0, keep - 1)).filter((e) => now - e.mtime > DAY_MS);
  const removed = [...stale, ...old];
  await Promise.all(removed.map((e) => rm(e.full, { recursive: true, force: true }).catch(() => undefined)));
  return removed.map((e) => e.name);
}
