import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { batchTensors, padRows } from '../data/batch.js';
import type { DatasetManifest } from '../data/manifest.js';
import { splitFile } from '../data/split-reader.js';
import { loadTripletSplit, tokensOf } from '../data/triplet-shards.js';
import type { LogitsRunner } from '../infer/runners.js';
import { DataError } from '../lib/errors.js';
import { bertForward, type BertConfig, type Params } from '../model/index.js';
import type { EmbeddingHead } from '../model/graph/inference-graph.js';
import { CHECK_BATCH_ROWS, type CheckRows } from './parity.js';

/**
 * The parity gate of a bi-encoder export (task embedding): its `sentence_embedding` output against the
 * training forward pass pooled (and normalised) the same way, on the texts of a prepared split.
 */

/** The run's sentence-vector settings, written by `recsys train` into the run manifest; null for a classifier. */
export function embeddingHeadOf(manifest: { task?: string; embedding_head?: EmbeddingHead }): EmbeddingHead | null {
  if (manifest.task !== 'embedding') return null;
  return manifest.embedding_head ?? { pooling: 'mean', normalize: true };
}

/** Up to `maxRows` texts of the split (anchor, positive, anchor, …, in file order), each on its own. */
export async function loadEmbeddingCheckRows(
  datasetDir: string,
  manifest: DatasetManifest,
  split: string,
  maxRows: number,
  padId: number,
): Promise<CheckRows> {
  const file = splitFile(datasetDir, manifest, split);
  const s = await loadTripletSplit(file);
  const texts: Int32Array[] = [];
  for (let i = 0; i < s.size && texts.length < maxRows; i++) {
    texts.push(tokensOf(s.anchor, i));
    if (texts.length < maxRows) texts.push(tokensOf(s.positive, i));
  }
  if (texts.length === 0)
    throw new DataError(
      `${file}: the "${split}" split has no rows to check the export on; pass --split or --check-data`,
    );
  const batches: CheckRows['batches'] = [];
  for (let i = 0; i < texts.length; i += CHECK_BATCH_ROWS) {
    const chunk = texts.slice(i, i + CHECK_BATCH_ROWS).map((ids) => ({ ids, typeIds: new Int8Array(ids.length) }));
    batches.push({ batch: padRows(chunk, padId), labels: new Int32Array(chunk.length) });
  }
  return {
    split,
    datasetDir,
    file: path.relative(datasetDir, file),
    batches,
    rows: texts.length,
    maxSeq: Math.max(...texts.map((t) => t.length)),
    pairs: false,
  };
}

/** The training forward pass as sentence vectors [batch, hidden]: the reference of the parity gate. */
export function embeddingReference(params: Params, config: BertConfig, head: EmbeddingHead): LogitsRunner {
  return {
    name: `tfjs ${tf.version.tfjs} (${tf.getBackend()} backend, training forward pass, ${head.pooling} pooling)`,
    async run(b) {
      const inputs = batchTensors(b);
      const v = tf.tidy(() => {
        const h = bertForward(params, config, inputs, { inference: true, headless: true, returnHidden: true })
          .lastHidden!;
        const mask = tf.expandDims(tf.cast(inputs.attentionMask, 'float32'), 2);
        const pooled =
          head.pooling === 'cls'
            ? tf.squeeze(tf.slice(h, [0, 0, 0], [-1, 1, -1]), [1])
            : tf.div(tf.sum(tf.mul(h, mask), 1), tf.maximum(tf.sum(mask, 1), 1e-9));
        return head.normalize ? tf.div(pooled, tf.maximum(tf.norm(pooled, 'euclidean', 1, true), 1e-12)) : pooled;
      });
      tf.dispose([inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds]);
      const out = Float32Array.from(await v.data());
      v.dispose();
      return out;
    },
    async close() {},
  };
}
