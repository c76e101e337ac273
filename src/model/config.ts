import { promises as fsp } from 'node:fs';
import { ConfigError } from '../lib/errors.js';

/**
 * The BERT hyper-parameters recsys reads from a Hugging Face `config.json`, in camelCase.
 * `toHfConfig` writes them back under the Hugging Face keys.
 */
export const HIDDEN_ACTS = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'] as const;
export type HiddenAct = (typeof HIDDEN_ACTS)[number];
export const PROBLEM_TYPES = ['single_label_classification', 'multi_label_classification', 'regression'] as const;
export type ProblemType = (typeof PROBLEM_TYPES)[number];

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: HiddenAct;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  /** Dropout before the classifier; null means hiddenDropoutProb (as Hugging Face). */
  classifierDropout: number | null;
  initializerRange: number;
  padTokenId: number;
  /** Label names by id; its length is num_labels. */
  id2label: string[];
  problemType: ProblemType | null;
  /**
   * Which head the parameter table carries: absent = the sequence classifier (+ pooler); 'masked_lm' =
   * BertForMaskedLM's `cls.predictions.*` (no pooler). Set by the caller, never read from a config.json
   * (a pretrained BERT names BertForMaskedLM in `architectures` and is still fine-tuned as a classifier).
   */
  head?: 'masked_lm';
}

type Kind = 'posInt' | 'nonNegInt' | 'posNumber' | 'prob' | 'act';
/** HF key → [our key, kind, default (undefined = required)]. */
const FIELDS: ReadonlyArray<readonly [string, keyof BertConfig, Kind, unknown]> = [
  ['vocab_size', 'vocabSize', 'posInt', undefined],
  ['hidden_size', 'hiddenSize', 'posInt', undefined],
  ['num_hidden_layers', 'numHiddenLayers', 'posInt', undefined],
  ['num_attention_heads', 'numAttentionHeads', 'posInt', undefined],
  ['intermediate_size', 'intermediateSize', 'posInt', undefined],
  ['hidden_act', 'hiddenAct', 'act', 'gelu'],
  ['max_position_embeddings', 'maxPositionEmbeddings', 'posInt', 512],
  ['type_vocab_size', 'typeVocabSize', 'posInt', 2],
  ['layer_norm_eps', 'layerNormEps', 'posNumber', 1e-12],
  ['hidden_dropout_prob', 'hiddenDropoutProb', 'prob', 0.1],
  ['attention_probs_dropout_prob', 'attentionProbsDropoutProb', 'prob', 0.1],
  ['initializer_range', 'initializerRange', 'posNumber', 0.02],
  ['pad_token_id', 'padTokenId', 'nonNegInt', 0],
];

const EXPECT: Record<Kind, string> = {
  posInt: 'expected a positive integer',
  nonNegInt: 'expected an integer ≥ 0',
  posNumber: 'expected a positive number',
  prob: 'expected a number in [0, 1)',
  act: `expected one of ${HIDDEN_ACTS.join(' | ')}`,
};

function valid(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'posInt':
      return Number.isInteger(v) && (v as number) > 0;
    case 'nonNegInt':
      return Number.isInteger(v) && (v as number) >= 0;
    case 'posNumber':
      return typeof v === 'number' && Number.isFinite(v) && v > 0;
    case 'prob':
      return typeof v === 'number' && v >= 0 && v < 1;
    case 'act':
      return typeof v === 'string' && (HIDDEN_ACTS as readonly string[]).includes(v);
  }
}

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? v));

/**
 * Validate a parsed `config.json`. Every problem is reported as `<source>: <key>: <what> (got <value>)`;
 * one problem gives a one-line error.
 */
export function parseBertConfig(raw: unknown, source: string): BertConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError([`${source}: expected a JSON object`]);
  }
  const obj = raw as Record<string, unknown>;
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  const modelType = obj.model_type;
  if (modelType !== undefined && modelType !== 'bert') {
    problems.push(`${source}: model_type: only "bert" models are supported (got ${show(modelType)})`);
  }
  const posEmb = obj.position_embedding_type;
  if (posEmb !== undefined && posEmb !== null && posEmb !== 'absolute') {
    problems.push(`${source}: position_embedding_type: only "absolute" is supported (got ${show(posEmb)})`);
  }
  for (const [hfKey, key, kind, dflt] of FIELDS) {
    const v = obj[hfKey];
    if (v === undefined || v === null) {
      if (dflt === undefined) problems.push(`${source}: ${hfKey}: missing (${EXPECT[kind]})`);
      else out[key] = dflt;
    } else if (!valid(kind, v)) {
      problems.push(`${source}: ${hfKey}: ${EXPECT[kind]} (got ${show(v)})`);
    } else out[key] = v;
  }
  const cd = obj.classifier_dropout;
  if (cd === undefined || cd === null) out.classifierDropout = null;
  else if (!valid('prob', cd)) problems.push(`${source}: classifier_dropout: ${EXPECT.prob} or null (got ${show(cd)})`);
  else out.classifierDropout = cd;

  const pt = obj.problem_type;
  if (pt === undefined || pt === null) out.problemType = null;
  else if (typeof pt !== 'string' || !(PROBLEM_TYPES as readonly string[]).includes(pt)) {
    problems.push(`${source}: problem_type: expected one of ${PROBLEM_TYPES.join(' | ')} or null (got ${show(pt)})`);
  } else out.problemType = pt;

  const labels = parseLabels(obj, source, problems);
  out.id2label = labels;

  if (problems.length === 0) {
    const h = out.hiddenSize as number;
    const a = out.numAttentionHeads as number;
    if (h % a !== 0) {
      problems.push(`${source}: num_attention_heads: hidden_size ${h} is not a multiple of num_attention_heads ${a}`);
    }
    if ((out.padTokenId as number) >= (out.vocabSize as number)) {
      problems.push(
        `${source}: pad_token_id: ${out.padTokenId as number} is not below vocab_size ${out.vocabSize as number}`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as unknown as BertConfig;
}

/** id2label (object "0".."n-1" → name), label2id and num_labels must agree; default LABEL_i for num_labels (2). */
function parseLabels(obj: Record<string, unknown>, source: string, problems: string[]): string[] {
  const numLabels = obj.num_labels;
  if (numLabels !== undefined && !valid('posInt', numLabels)) {
    problems.push(`${source}: num_labels: ${EXPECT.posInt} (got ${show(numLabels)})`);
    return [];
  }
  const raw = obj.id2label;
  let labels: string[];
  if (raw === undefined || raw === null) {
    const n = (numLabels as number | undefined) ?? 2;
    labels = Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  } else {
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${source}: id2label: expected an object {"0": name, ...} (got ${show(raw)})`);
      return [];
    }
    const entries = Object.entries(raw as Record<string, unknown>);
    labels = new Array<string>(entries.length);
    for (const [k, v] of entries) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || i >= entries.length || String(i) !== k) {
        problems.push(`${source}: id2label: keys must be the ids 0..${entries.length - 1} (got ${show(k)})`);
        return [];
      }
      if (typeof v !== 'string' || v === '') {
        problems.push(`${source}: id2label.${k}: expected a non-empty string (got ${show(v)})`);
        return [];
      }
      labels[i] = v;
    }
    if (numLabels !== undefined && numLabels !== labels.length) {
      problems.push(
        `${source}: num_labels: ${numLabels as number} disagrees with id2label, which has ${labels.length} labels`,
      );
    }
  }
  if (new Set(labels).size !== labels.length) {
    problems.push(`${source}: id2label: label names must be unique`);
  }
  const l2i = obj.label2id;
  if (l2i !== undefined && l2i !== null && raw !== undefined && raw !== null) {
    if (typeof l2i !== 'object' || Array.isArray(l2i)) {
      problems.push(`${source}: label2id: expected an object {name: id, ...}`);
    } else {
      for (const [name, id] of Object.entries(l2i as Record<string, unknown>)) {
        if (labels[id as number] !== name) {
          problems.push(`${source}: label2id.${name}: ${show(id)} disagrees with id2label`);
          break;
        }
      }
    }
  }
  return labels;
}

export async function readBertConfig(file: string): Promise<BertConfig> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`${file}: not valid JSON (${(e as Error).message})`]);
  }
  return parseBertConfig(raw, file);
}

export function numLabels(config: BertConfig): number {
  return config.id2label.length;
}

/** The Hugging Face `config.json` object for a BertForSequenceClassification with this config. */
export function toHfConfig(config: BertConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    architectures: [config.head === 'masked_lm' ? 'BertForMaskedLM' : 'BertForSequenceClassification'],
    model_type: 'bert',
  };
  for (const [hfKey, key] of FIELDS) out[hfKey] = config[key];
  out.classifier_dropout = config.classifierDropout;
  out.position_embedding_type = 'absolute';
  out.problem_type = config.problemType;
  out.id2label = Object.fromEntries(config.id2label.map((name, i) => [String(i), name]));
  out.label2id = Object.fromEntries(config.id2label.map((name, i) => [name, i]));
  out.dtype = 'float32';
  return out;
}

/** The classifier head a config trains and predicts with: its problem_type, single-label when absent (as HF). */
export function headTask(config: BertConfig): ProblemType {
  return config.problemType ?? 'single_label_classification';
}

/** Same config with another label set (e.g. the dataset's): a classifier, whatever head it had. */
export function withLabels(config: BertConfig, id2label: string[], problemType?: ProblemType | null): BertConfig {
  const { head: _head, ...classifier } = config;
  return Object.freeze({
    ...classifier,
    id2label: [...id2label],
    problemType: problemType === undefined ? config.problemType : problemType,
  });
}
