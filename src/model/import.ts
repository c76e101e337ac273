import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../lib/errors.js';
import { readBertConfig, withLabels, type BertConfig } from './config.js';
import { initParam } from './init.js';
import { paramSpecs, torchShape, type Params } from './params.js';
import { readSafetensors, type StEntry } from './safetensors.js';

/**
 * Load a Hugging Face model directory (`config.json` + `model.safetensors`, or a sharded
 * `model.safetensors.index.json`) into recsys's parameter map. Accepts
 *  - BertForSequenceClassification (`bert.*` + `classifier.*`),
 *  - checkpoints with the `bert.` prefix but no classifier (BertForPreTraining, BertForMaskedLM…),
 *  - bare BertModel checkpoints without the prefix (sentence-transformers / MiniLM layout).
 * A missing classifier (or pooler) gets a fresh seeded initialisation and a message; any other
 * missing tensor is an error that lists them. Known-unused tensors are ignored and listed.
 */

export interface ImportOptions {
  /**
   * The label set to use (e.g. the dataset's). A checkpoint head of the same size is reused, another size is
   * replaced.
   */
  id2label?: string[];
  /** Seed for freshly initialised parts. Default 0. */
  seed?: number;
  /** Treat unexpected tensors as an error instead of listing them. Default false. */
  strict?: boolean;
  /**
   * 'masked_lm': load BertForMaskedLM's table (body + `cls.predictions.*`, no pooler) for continued
   * pretraining; a checkpoint without that head gets a fresh one. Default: the sequence classifier.
   */
  head?: 'masked_lm';
}

export interface ImportReport {
  source: string;
  /** What the checkpoint looked like. */
  layout: 'sequence-classification' | 'bert-prefixed-without-classifier' | 'bare-bert-model' | 'masked-lm';
  /** dtypes found in the file(s), e.g. ["F16"] */
  dtypes: string[];
  /** Known-unused tensors that were skipped (position_ids, cls.predictions.*, …). */
  ignored: string[];
  /** Tensors that recsys does not know and did not use. */
  unexpected: string[];
  /** Parameters that were not in the checkpoint and were initialised fresh. */
  initialized: string[];
  /** Human-readable lines worth printing (fresh head, relabelled head, ignored tensors, …). */
  messages: string[];
}

export interface LoadedModel {
  config: BertConfig;
  params: Params;
  report: ImportReport;
}

const IGNORED: RegExp[] = [
  /(^|\.)position_ids$/,
  /(^|\.)embeddings\.token_type_ids$/,
  /^cls\.predictions\./,
  /^cls\.seq_relationship\./,
  /^cls\./,
  /^lm_head\./,
];

/** The masked-LM head's tensors: the decoder matrix is tied to the word embeddings, never read from a file. */
const MLM_HEAD = /^cls\.predictions\.(transform\.|bias$|decoder\.bias$)/;

/** Map a checkpoint name to recsys's name, or null if it is not a BERT parameter. */
function canonicalName(name: string, masked: boolean): string | null {
  const n = name.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
  // Older checkpoints carry the decoder bias only as cls.predictions.decoder.bias (HF ties the two).
  if (masked && MLM_HEAD.test(n)) return n === 'cls.predictions.decoder.bias' ? 'cls.predictions.bias' : n;
  if (n.startsWith('bert.') || n.startsWith('classifier.')) return n;
  if (/^(embeddings|encoder|pooler)\./.test(n)) return `bert.${n}`;
  return null;
}

const listNames = (names: string[], max = 8) =>
  names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} … (${names.length - max} more)`;

/** Turn decoded safetensors entries into a parameter map for `config`. `source` names the file in errors. */
export function paramsFromTensors(
  configIn: BertConfig,
  tensors: Map<string, StEntry>,
  source: string,
  opts: ImportOptions = {},
): LoadedModel {
  let config = configIn;
  const seed = opts.seed ?? 0;
  const report: ImportReport = {
    source,
    layout: 'sequence-classification',
    dtypes: [],
    ignored: [],
    unexpected: [],
    initialized: [],
    messages: [],
  };
  const byName = new Map<string, StEntry>();
  const dtypes = new Set<string>();
  let bare = false;
  const masked = opts.head === 'masked_lm';
  if (masked) config = { ...config, head: 'masked_lm' };
  // cls.predictions.bias and its alias decoder.bias: the first one wins, the other is a tied copy.
  const sorted = [...tensors].sort(([a], [b]) => Number(a.includes('decoder')) - Number(b.includes('decoder')));
  for (const [name, entry] of sorted) {
    const canonMlm = masked ? canonicalName(name, true) : null;
    if (canonMlm?.startsWith('cls.')) {
      if (!byName.has(canonMlm)) byName.set(canonMlm, entry);
      else report.ignored.push(name);
      dtypes.add(entry.dtype);
      continue;
    }
    if (IGNORED.some((re) => re.test(name))) {
      report.ignored.push(name);
      continue;
    }
    const canon = canonicalName(name, false);
    if (canon === null) {
      report.unexpected.push(name);
      continue;
    }
    if (!name.startsWith('bert.') && !name.startsWith('classifier.')) bare = true;
    if (byName.has(canon))
      throw new DataError(`${source}: tensor ${name} appears twice (also as ${byName.get(canon)!.name})`);
    byName.set(canon, entry);
    dtypes.add(entry.dtype);
  }
  report.dtypes = [...dtypes].sort();
  const hasHead = masked
    ? byName.has('cls.predictions.transform.dense.weight')
    : byName.has('classifier.weight') || byName.has('classifier.bias');
  report.layout = bare
    ? 'bare-bert-model'
    : hasHead
      ? masked
        ? 'masked-lm'
        : 'sequence-classification'
      : 'bert-prefixed-without-classifier';

  // Labels: the caller's label set wins; a checkpoint head of the same size is kept.
  let freshHead = !hasHead;
  if (opts.id2label) {
    const ckptHead = byName.get('classifier.weight');
    const ckptLabels = ckptHead ? ckptHead.shape[0] : null;
    config = withLabels(config, opts.id2label);
    if (ckptLabels !== null && ckptLabels !== opts.id2label.length) {
      freshHead = true;
      report.messages.push(
        `the checkpoint's classifier has ${ckptLabels} outputs but there are ` +
          `${opts.id2label.length} labels: it is replaced by a freshly initialised head`,
      );
    } else if (ckptLabels !== null && configIn.id2label.join('\u0000') !== opts.id2label.join('\u0000')) {
      report.messages.push(
        `reusing the checkpoint's classifier head; its label names ` +
          `[${listNames(configIn.id2label, 5)}] differ from [${listNames(opts.id2label, 5)}]`,
      );
    }
  }
  if (report.unexpected.length > 0) {
    const msg = `${report.unexpected.length} unexpected tensor(s) not used: ${listNames(report.unexpected)}`;
    if (opts.strict) throw new DataError(`${source}: ${msg}`);
    report.messages.push(msg);
  }

  const specs = paramSpecs(config);
  const hasPoolerSpec = specs.some((s) => s.part === 'pooler');
  const poolerMissing = hasPoolerSpec && !specs.some((s) => s.part === 'pooler' && byName.has(s.name));
  // Required: the body always; the pooler and head when the checkpoint has part of them.
  const required = (part: string) =>
    part === 'body' || (part === 'pooler' && !poolerMissing) || (part === 'head' && !freshHead);
  const missing = specs.filter((s) => required(s.part) && !byName.has(s.name)).map((s) => s.name);
  if (missing.length > 0) {
    throw new DataError(`${source}: ${missing.length} tensor(s) missing from the checkpoint: ${listNames(missing)}`);
  }
  // Shapes first, so no tensor is allocated for a checkpoint that will be rejected.
  for (const spec of specs) {
    const entry = byName.get(spec.name);
    if (!entry || (spec.part === 'head' && freshHead)) continue;
    const want = torchShape(spec);
    if (want.length !== entry.shape.length || want.some((d, i) => d !== entry.shape[i])) {
      throw new DataError(
        `${source}: tensor ${entry.name} has shape [${entry.shape.join(', ')}] but config.json ` +
          `implies [${want.join(', ')}]`,
      );
    }
    if (entry.values instanceof Int32Array) {
      throw new DataError(
        `${source}: tensor ${entry.name} has integer dtype ${entry.dtype}, expected a floating-point weight`,
      );
    }
  }

  const params: Params = new Map();
  for (const spec of specs) {
    const entry = byName.get(spec.name);
    if (!entry || (spec.part === 'head' && freshHead)) {
      params.set(spec.name, initParam(config, spec, seed));
      report.initialized.push(spec.name);
      continue;
    }
    params.set(
      spec.name,
      tf.tidy(() => {
        const t = tf.tensor(entry.values as Float32Array, entry.shape, 'float32');
        return spec.kind === 'linear' ? tf.transpose(t) : t;
      }),
    );
  }
  if (!hasHead)
    report.messages.push(
      masked
        ? `the checkpoint has no masked-LM head: initialised a fresh cls.predictions (seed ${seed})`
        : `the checkpoint has no classifier: initialised a fresh head for ${config.id2label.length} labels ` +
            `(seed ${seed})`,
    );
  const known = new Set(specs.map((s) => s.name));
  const dropped = [...byName.keys()].filter((n) => !known.has(n));
  if (dropped.length > 0)
    report.messages.push(`dropped ${dropped.length} tensor(s) this head does not use: ${listNames(dropped)}`);
  const mlmHead = report.ignored.filter((n) => n.startsWith('cls.predictions.'));
  if (!masked && mlmHead.length > 0)
    report.messages.push(
      `the checkpoint's masked-LM head (${mlmHead.length} cls.predictions.* tensors) is dropped: fine-tuning uses ` +
        `the encoder only`,
    );
  if (poolerMissing)
    report.messages.push(`the checkpoint has no pooler: initialised a fresh bert.pooler.dense (seed ${seed})`);
  if (report.ignored.length > 0)
    report.messages.push(`ignored ${report.ignored.length} unused tensor(s): ${listNames(report.ignored)}`);
  return { config, params, report };
}

/** Read every tensor of the dir's safetensors file(s). */
async function readModelTensors(dir: string): Promise<{ tensors: Map<string, StEntry>; source: string }> {
  const single = path.join(dir, 'model.safetensors');
  if (existsSync(single)) return { tensors: (await readSafetensors(single)).tensors, source: single };
  const index = path.join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    let weightMap: Record<string, string>;
    try {
      weightMap = JSON.parse(await fsp.readFile(index, 'utf8')).weight_map;
    } catch (e) {
      throw new DataError(`${index}: cannot read the shard index (${(e as Error).message})`);
    }
    if (typeof weightMap !== 'object' || weightMap === null) throw new DataError(`${index}: weight_map missing`);
    const tensors = new Map<string, StEntry>();
    for (const shard of [...new Set(Object.values(weightMap))].sort()) {
      for (const [name, entry] of (await readSafetensors(path.join(dir, shard))).tensors) tensors.set(name, entry);
    }
    return { tensors, source: index };
  }
  const hint = existsSync(path.join(dir, 'pytorch_model.bin'))
    ? ' (pytorch_model.bin is not supported: re-save the model with save_pretrained(..., safe_serialization=True))'
    : '';
  throw new DataError(`${dir}: no model.safetensors or model.safetensors.index.json${hint}`);
}

export async function importHfModel(dir: string, opts: ImportOptions = {}): Promise<LoadedModel> {
  const config = await readBertConfig(path.join(dir, 'config.json'));
  const { tensors, source } = await readModelTensors(dir);
  return paramsFromTensors(config, tensors, source, opts);
}
