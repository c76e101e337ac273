import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBertConfig, readBertConfig, toHfConfig } from '../../src/model/config.js';
import { FIXTURES } from './parity-suite.js';

const base = {
  vocab_size: 100,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 64,
};

describe('BERT config.json', () => {
  it('reads a transformers-written config with labels and defaults', async () => {
    const c = await readBertConfig(path.join(FIXTURES, 'cls-l2-h64', 'config.json'));
    expect(c).toMatchObject({
      vocabSize: 1000,
      hiddenSize: 64,
      numHiddenLayers: 2,
      numAttentionHeads: 2,
      intermediateSize: 256,
      hiddenAct: 'gelu',
      maxPositionEmbeddings: 64,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      initializerRange: 0.2,
      padTokenId: 0,
      id2label: ['apparel', 'electronics', 'home'],
      problemType: 'single_label_classification',
      classifierDropout: null,
    });
    const d = parseBertConfig(base, 'x.json');
    expect(d.id2label).toEqual(['LABEL_0', 'LABEL_1']);
    expect(d.hiddenAct).toBe('gelu');
    expect(parseBertConfig({ ...base, num_labels: 4 }, 'x').id2label).toHaveLength(4);
  });

  it('round-trips through toHfConfig', () => {
    const c = parseBertConfig(
      {
        ...base,
        hidden_act: 'gelu_new',
        id2label: { 0: 'a', 1: 'b', 2: 'c' },
        problem_type: 'multi_label_classification',
      },
      'x',
    );
    const hf = toHfConfig(c);
    expect(hf.label2id).toEqual({ a: 0, b: 1, c: 2 });
    expect(hf.architectures).toEqual(['BertForSequenceClassification']);
    expect(parseBertConfig(hf, 'y')).toEqual(c);
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    [
      'missing key',
      { ...base, hidden_size: undefined },
      'cfg.json: hidden_size: missing (expected a positive integer)',
    ],
    [
      'wrong type',
      { ...base, num_hidden_layers: '2' },
      'cfg.json: num_hidden_layers: expected a positive integer (got "2")',
    ],
    [
      'unknown activation',
      { ...base, hidden_act: 'swish' },
      'cfg.json: hidden_act: expected one of gelu | gelu_new | gelu_pytorch_tanh | relu (got "swish")',
    ],
    [
      'heads do not divide',
      { ...base, num_attention_heads: 5 },
      'cfg.json: num_attention_heads: hidden_size 32 is not a multiple of num_attention_heads 5',
    ],
    [
      'dropout ≥ 1',
      { ...base, hidden_dropout_prob: 1 },
      'cfg.json: hidden_dropout_prob: expected a number in [0, 1) (got 1)',
    ],
    [
      'another model type',
      { ...base, model_type: 'roberta' },
      'cfg.json: model_type: only "bert" models are supported (got "roberta")',
    ],
    [
      'labels disagree',
      { ...base, num_labels: 3, id2label: { 0: 'a', 1: 'b' } },
      'cfg.json: num_labels: 3 disagrees with id2label, which has 2 labels',
    ],
    [
      'label ids with a gap',
      { ...base, id2label: { 0: 'a', 2: 'b' } },
      'cfg.json: id2label: keys must be the ids 0..1 (got "2")',
    ],
    [
      'label2id disagrees',
      { ...base, id2label: { 0: 'a', 1: 'b' }, label2id: { a: 1, b: 0 } },
      'cfg.json: label2id.a: 1 disagrees with id2label',
    ],
    [
      'bad problem_type',
      { ...base, problem_type: 'ranking' },
      'cfg.json: problem_type: expected one of single_label_classification | ' +
        'multi_label_classification | regression or null (got "ranking")',
    ],
    ['pad id out of vocab', { ...base, pad_token_id: 100 }, 'cfg.json: pad_token_id: 100 is not below vocab_size 100'],
    [
      'relative positions',
      { ...base, position_embedding_type: 'relative_key' },
      'cfg.json: position_embedding_type: only "absolute" is supported (got "relative_key")',
    ],
  ];
  for (const [what, raw, message] of bad) {
    it(`rejects ${what} with a one-line error naming the file and key`, () => {
      expect(() => parseBertConfig(raw, 'cfg.json')).toThrow(message);
      try {
        parseBertConfig(raw, 'cfg.json');
      } catch (e) {
        expect((e as Error).message).not.toContain('\n');
        expect((e as { exitCode: number }).exitCode).toBe(2);
      }
    });
  }

  it('lists every problem when there are several', () => {
    expect(() => parseBertConfig({ ...base, vocab_size: 0, hidden_act: 'tanh' }, 'c.json')).toThrow(
      /2 problems.*\n.*c\.json: vocab_size.*\n.*c\.json: hidden_act/,
    );
  });

  it('names the file when it is not JSON or not there', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'recsys-cfg-'));
    const f = path.join(dir, 'config.json');
    writeFileSync(f, '{"hidden_size": 3,');
    await expect(readBertConfig(f)).rejects.toThrow(`${f}: not valid JSON`);
    await expect(readBertConfig(path.join(dir, 'nope.json'))).rejects.toThrow(
      `${path.join(dir, 'nope.json')}: cannot read (ENOENT)`,
    );
  });
});
