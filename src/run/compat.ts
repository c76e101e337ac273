import path from 'node:path';
import type { DatasetManifest } from '../data/manifest.js';
import { DataError } from '../lib/errors.js';
import type { BertConfig } from '../model/index.js';

const short = (sha: string) => `${sha.slice(0, 12)}…`;

function listDiff(a: string[], b: string[]): string {
  const onlyA = a.filter((x) => !b.includes(x));
  const onlyB = b.filter((x) => !a.includes(x));
  const parts: string[] = [];
  if (onlyB.length) parts.push(`the dataset has ${onlyB.map((l) => `"${l}"`).join(', ')} that the run does not`);
  if (onlyA.length) parts.push(`the run has ${onlyA.map((l) => `"${l}"`).join(', ')} that the dataset does not`);
  return parts.join('; ');
}

/**
 * What differs between the preprocessing a run was trained with (RUN/manifest.json) and a dataset
 * it is asked to evaluate: tokenizer (sha256), label set and order, max_length, truncation, task,
 * single text vs pairs. Empty when they match.
 */
export function manifestDifferences(run: DatasetManifest, data: DatasetManifest): string[] {
  const out: string[] = [];
  if (run.task !== data.task) out.push(`task: the run is ${run.task}, the dataset ${data.task}`);
  if (run.tokenizer?.sha256 !== data.tokenizer?.sha256) {
    out.push(
      `tokenizer: the run was trained with tokenizer sha256 ${short(run.tokenizer.sha256)} ` +
        `(${run.tokenizer.kind}, ${run.tokenizer.vocab_size} tokens), ` +
        `the dataset was prepared with ${short(data.tokenizer.sha256)} (${data.tokenizer.kind}, ` +
        `${data.tokenizer.vocab_size} tokens)`,
    );
  }
  const rl = run.labels ?? [];
  const dl = data.labels ?? [];
  if (rl.length !== dl.length || rl.some((l, i) => l !== dl[i])) {
    const sameSet = rl.length === dl.length && rl.every((l) => dl.includes(l));
    out.push(
      sameSet
        ? `labels: same labels in another order (run ${JSON.stringify(rl)}, dataset ` +
            `${JSON.stringify(dl)}), so label ids differ`
        : `labels: ${listDiff(rl, dl)} (run: ${rl.length} labels, dataset: ${dl.length})`,
    );
  }
  if (run.max_length !== data.max_length)
    out.push(`max_length: the run was trained at ${run.max_length}, the dataset was prepared at ${data.max_length}`);
  if (run.truncation !== data.truncation)
    out.push(`truncation: the run used ${run.truncation}, the dataset ${data.truncation}`);
  const runPair = run.columns?.pair ?? null;
  const dataPair = data.columns?.pair ?? null;
  if ((runPair === null) !== (dataPair === null)) {
    out.push(
      `inputs: the run was trained on ` +
        `${runPair === null ? 'single texts' : `text pairs (pair column "${runPair}")`}, the ` +
        `dataset has ${dataPair === null ? 'single texts' : `text pairs (pair column "${dataPair}")`}`,
    );
  }
  return out;
}

/** Refuse a dataset prepared differently from the run's training data (DataError, exit code 3). */
export function checkDatasetMatchesRun(
  runDir: string,
  run: DatasetManifest,
  datasetDir: string,
  data: DatasetManifest,
): void {
  const diffs = manifestDifferences(run, data);
  if (diffs.length === 0) return;
  const what = diffs.map((d) => d.slice(0, d.indexOf(':'))).join(', ');
  throw new DataError(
    `${datasetDir} was prepared differently from the data ${runDir} was trained on (${what} ` +
      `differ${diffs.length === 1 ? 's' : ''}); ` +
      `re-run recsys prepare with the run's settings (its manifest.json)`,
    diffs,
  );
}

/** The run's model must carry the run manifest's labels and fit its max_length. */
export function checkModelMatchesManifest(modelDir: string, config: BertConfig, run: DatasetManifest): void {
  const ml = config.id2label;
  // A bi-encoder's head is unused: its dataset has no labels to agree with (as checkRunModel).
  if (run.task !== 'embedding' && (ml.length !== run.labels.length || ml.some((l, i) => l !== run.labels[i]))) {
    throw new DataError(
      `${modelDir}/config.json: id2label ${JSON.stringify(ml)} differs from the run manifest's ` +
        `labels ${JSON.stringify(run.labels)}`,
    );
  }
  if (config.maxPositionEmbeddings < run.max_length) {
    throw new DataError(
      `${modelDir}/config.json: max_position_embeddings ${config.maxPositionEmbeddings} is below ` +
        `the data's max_length ${run.max_length}`,
    );
  }
}

/**
 * A finished run's model dir must agree with its manifest before it is exported: the labels, the
 * tokenizer files (sha256) and max_length within max_position_embeddings.
 */
export function checkRunModel(
  modelDir: string,
  config: BertConfig,
  tokenizerSha256: string,
  manifestFile: string,
  manifest: DatasetManifest,
): void {
  // A bi-encoder's head is unused: its dataset has no labels to agree with.
  if (manifest.task !== 'embedding' && JSON.stringify(config.id2label) !== JSON.stringify(manifest.labels)) {
    throw new DataError(
      `${path.join(modelDir, 'config.json')}: id2label [${config.id2label.join(', ')}] disagrees ` +
        `with the labels in ${manifestFile} [${manifest.labels.join(', ')}]`,
    );
  }
  if (tokenizerSha256 !== manifest.tokenizer.sha256) {
    throw new DataError(
      `${modelDir}: the tokenizer files (sha256 ${tokenizerSha256.slice(0, 12)}) are not the ` +
        `tokenizer of ${manifestFile} (tokenizer.sha256 ${manifest.tokenizer.sha256.slice(0, 12)})`,
    );
  }
  if (manifest.max_length > config.maxPositionEmbeddings) {
    throw new DataError(
      `${manifestFile}: max_length ${manifest.max_length} exceeds the model's ` +
        `max_position_embeddings ${config.maxPositionEmbeddings}`,
    );
  }
}

/** A dataset used to check an export must be prepared with the run's tokenizer and labels. */
export function checkDatasetTokenizerAndLabels(file: string, data: DatasetManifest, run: DatasetManifest): void {
  if (data.tokenizer.sha256 !== run.tokenizer.sha256) {
    throw new DataError(
      `${file}: tokenizer.sha256 ${data.tokenizer.sha256.slice(0, 12)} is not the run's tokenizer ` +
        `(${run.tokenizer.sha256.slice(0, 12)}); the parity check needs data prepared with the run's tokenizer`,
    );
  }
  if (JSON.stringify(data.labels) !== JSON.stringify(run.labels)) {
    throw new DataError(
      `${file}: labels [${data.labels.join(', ')}] are not the run's labels [${run.labels.join(', ')}]`,
    );
  }
}
