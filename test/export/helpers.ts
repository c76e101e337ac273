import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { repoRoot } from '../helpers/cli.js';
import { bertLogits, importHfModel, type BertConfig, type Params } from '../../src/model/index.js';

export const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'reference');
/** Sequence-classification fixtures (HF save_pretrained, init range 0.2, perturbed biases/LN: logits vary). */
export const CLS_FIXTURES = ['cls-l2-h64', 'cls-gelu-new', 'cls-relu', 'cls-l4-h128'] as const;

export interface Case {
  name: string;
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
  logits?: number[][];
}

export async function loadFixture(
  name: string,
): Promise<{ dir: string; config: BertConfig; params: Params; cases: Case[] }> {
  const dir = path.join(FIXTURES, name);
  const { config, params } = await importHfModel(dir);
  const vectors = JSON.parse(readFileSync(path.join(dir, 'vectors.json'), 'utf8')) as { cases: Case[] };
  return { dir, config, params, cases: vectors.cases };
}

export function tensorsOf(c: Case) {
  return {
    inputIds: tf.tensor2d(c.input_ids, undefined, 'int32'),
    attentionMask: tf.tensor2d(c.attention_mask, undefined, 'int32'),
    tokenTypeIds: tf.tensor2d(c.token_type_ids, undefined, 'int32'),
  };
}

/** Logits of the training runtime (bertLogits) for a case, as nested arrays. */
export function referenceLogits(params: Params, config: BertConfig, c: Case): number[][] {
  const t = tensorsOf(c);
  const out = bertLogits(params, config, t);
  const v = out.arraySync();
  tf.dispose([out, t.inputIds, t.attentionMask, t.tokenTypeIds]);
  return v;
}

export function maxAbsDiff(a: ArrayLike<number> | number[][], b: ArrayLike<number> | number[][]): number {
  const fa = Array.isArray(a) && Array.isArray(a[0]) ? (a as number[][]).flat() : Array.from(a as ArrayLike<number>);
  const fb = Array.isArray(b) && Array.isArray(b[0]) ? (b as number[][]).flat() : Array.from(b as ArrayLike<number>);
  if (fa.length !== fb.length) throw new Error(`length ${fa.length} vs ${fb.length}`);
  let m = 0;
  for (let i = 0; i < fa.length; i++) m = Math.max(m, Math.abs(fa[i] - fb[i]));
  return m;
}

/** Spread of logits across rows: a checkpoint whose logits do not vary would make parity tests meaningless. */
export function logitSpread(rows: number[][]): number {
  const flat = rows.flat();
  return Math.max(...flat) - Math.min(...flat);
}
