import path from 'node:path';
import { cellText, requireColumns } from '../data/readers/columns.js';
import { openSource, type InputFormat } from '../data/readers/index.js';
import { RejectsWriter } from '../data/rejects.js';
import type { EncodedRow } from '../data/batch.js';
import { DataError, UsageError } from '../lib/errors.js';
import type { InferenceModel } from '../infer/model.js';
import {
  EMBED_REJECTS_FILE,
  EMBEDDINGS_FILE,
  modelIdentity,
  prepareOutDir,
  writeEmbedManifest,
  type EmbedManifest,
} from './output.js';
import { embedRows, type Pooling } from './pooling.js';
import { EmbeddingWriter } from './writer.js';

export interface EmbedOptions {
  /** The --model reference as given (recorded in the manifest). */
  ref: string;
  input: string;
  format: InputFormat | 'auto';
  textColumn: string;
  idColumn?: string;
  out: string;
  pooling: Pooling;
  normalize: boolean;
  batchSize: number;
  /** Rejected rows tolerated before the command fails; null: no limit. */
  maxBadRows: number | null;
  overwrite: boolean;
  onProgress?: (rows: number) => void;
}

export interface EmbedSummary {
  rows: number;
  embedded: number;
  rejected: number;
  dimension: number;
  embeddingsFile: string;
  rejectsFile: string;
  manifestFile: string;
  seconds: number;
}

/** What the model can give for this pooling, checked before any row is read. */
function checkCapability(model: InferenceModel, pooling: Pooling): void {
  if (!model.hidden)
    throw new UsageError(
      `${model.modelPath}: this ONNX file has logits only (no last_hidden_state output); ` +
        'embed with the run or the Hugging Face model dir it was exported from',
    );
  // The import gives a checkpoint without pooler weights a fresh random pooler (fine for fine-tuning, noise here).
  if (pooling === 'pooler' && model.messages.some((m) => /has no pooler/.test(m)))
    throw new UsageError(`${model.modelPath}: the checkpoint has no pooler weights; use --pooling mean or cls`);
}

function tooManyRejects(rejects: RejectsWriter, max: number, input: string): DataError {
  const lines = rejects.first.map((r) => `row ${r.row}${r.line ? ` (line ${r.line})` : ''}: ${r.reason}`);
  return new DataError(
    `${input}: more than embed.max_bad_rows=${max} bad row(s); those seen are listed in ${rejects.file}`,
    lines,
  );
}

/**
 * Raw text in, one vector per usable row out, streamed: DIR/embeddings.arrow (written in record
 * batches under a temp name), DIR/rejects.csv (rows without text), then DIR/manifest.json last.
 */
export async function runEmbed(model: InferenceModel, opts: EmbedOptions): Promise<EmbedSummary> {
  const t0 = performance.now();
  try {
    checkCapability(model, opts.pooling);
    const source = openSource(opts.input, opts.format);
    await requireColumns(source, opts.input, [opts.textColumn, opts.idColumn]);
    const identity = await modelIdentity(opts.ref, model);
    await prepareOutDir(opts.out, identity.weights_sha256, opts.overwrite);
    const file = path.join(opts.out, EMBEDDINGS_FILE);
    const rejects = new RejectsWriter(path.join(opts.out, EMBED_REJECTS_FILE));
    let writer: EmbeddingWriter | undefined;
    let pending: { key: string | number; enc: EncodedRow }[] = [];
    let rows = 0;
    let dimension = 0;

    const flush = async () => {
      if (!pending.length) return;
      const batch = await embedRows(
        model,
        pending.map((p) => p.enc),
        opts.pooling,
        opts.normalize,
      );
      const { vectors } = batch;
      dimension = batch.dimension;
      writer ??= new EmbeddingWriter(file, dimension, !!opts.idColumn);
      writer.add(
        pending.map((p) => p.key),
        vectors,
      );
      pending = [];
    };

    try {
      for await (const r of source.rows()) {
        rows++;
        let error = r.error;
        if (!error) {
          const text = cellText(r.values![opts.textColumn]);
          const id = opts.idColumn ? cellText(r.values![opts.idColumn]) : undefined;
          if (!text?.trim()) error = `empty or missing text (column "${opts.textColumn}")`;
          else if (opts.idColumn && !id?.trim()) error = `empty or missing id (column "${opts.idColumn}")`;
          else {
            const enc = model.tokenizer.encode(text, undefined, model.maxLength, model.truncation);
            if (enc) pending.push({ key: opts.idColumn ? id! : r.row, enc });
            else error = `text does not fit max_length ${model.maxLength}`;
          }
        }
        if (error) {
          rejects.add({ row: r.row, line: r.line, reason: error, raw: r.raw });
          if (opts.maxBadRows !== null && rejects.count > opts.maxBadRows) {
            await rejects.close();
            throw tooManyRejects(rejects, opts.maxBadRows, opts.input);
          }
        }
        if (pending.length >= opts.batchSize) await flush();
        if (rows % 1000 === 0) opts.onProgress?.(rows);
      }
      await flush();
      if (!writer) throw new DataError(`${opts.input}: no row with text to embed (${rows} rows read)`);
      await writer.commit();
      await rejects.close();
    } catch (err) {
      // Nothing half-written stays (a rejects file that explains a failure is already committed).
      await Promise.all([writer?.abort(), rejects.abort()]);
      throw err;
    }
    const manifest: EmbedManifest = {
      kind: 'embeddings',
      model: identity,
      pooling: opts.pooling,
      normalize: opts.normalize,
      dimension,
      count: writer.count,
      key: { column: opts.idColumn ? 'id' : 'row', source_column: opts.idColumn ?? null },
      text_column: opts.textColumn,
      max_length: model.maxLength,
      truncation: model.truncation,
      tokenizer_sha256: model.tokenizer.sha256,
      input: opts.input,
      rejected: rejects.count,
      created: new Date().toISOString(),
    };
    await writeEmbedManifest(opts.out, manifest);
    return {
      rows,
      embedded: writer.count,
      rejected: rejects.count,
      dimension,
      embeddingsFile: file,
      rejectsFile: rejects.file,
      manifestFile: path.join(opts.out, 'manifest.json'),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await model.close();
  }
}
