import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const config = (name: string) => loadConfig({ files: [path.join(ROOT, 'configs', `${name}.yaml`)], cwd: ROOT });

describe('configs/*.yaml', () => {
  it.each(['intent', 'esci', 'reviews'])('%s: validates and points at files that exist in the repository', (name) => {
    const c = config(name);
    for (const p of [c.data.input, c.tokenizer.path, c.model.path]) {
      expect(p && path.isAbsolute(p)).toBe(true);
      expect(existsSync(p!), p).toBe(true);
    }
    // Outputs go under out/ (git-ignored), one directory per task.
    for (const p of [c.data.out, c.train.out, c.export.out])
      expect(p).toBe(path.join(ROOT, 'out', name, path.basename(p!)));
    // From-scratch tiny models: tuned per task so the demo learns something (see each file's comments).
    const tuned: Record<string, { lr: number; epochs: number }> = {
      intent: { lr: 1e-3, epochs: 10 },
      esci: { lr: 3e-4, epochs: 3 },
      reviews: { lr: 1e-3, epochs: 6 },
    };
    expect(c.train).toMatchObject({ ...tuned[name], batch_size: 32, warmup: 0.1 });
    expect(c.train.early_stopping).toMatchObject({ metric: 'macro_f1', mode: 'max' });
    expect(c.data.stratify).toBe(true);
  });

  it('biencoder trains task embedding on the shop triplets, split by query, plus catalogue pseudo-queries', () => {
    const c = config('biencoder');
    for (const p of [c.tokenizer.path, c.model.path]) expect(existsSync(p!), p).toBe(true);
    // Written by scripts/catalogue-triplets.ts (scripts/demo-retrieval.sh) from data/triplets.csv + the catalogue.
    expect(c.data.input).toBe(path.join(ROOT, 'out', 'biencoder', 'triplets.csv'));
    for (const p of [c.data.out, c.train.out, c.export.out])
      expect(p).toBe(path.join(ROOT, 'out', 'biencoder', path.basename(p!)));
    expect(c.task).toBe('embedding');
    expect(c.data).toMatchObject({
      text_column: 'query',
      pair_column: 'positive',
      negative_column: 'negative',
      split_column: 'split',
    });
    expect(c.train.early_stopping.metric).toBe('ndcg@10');
    // The test split's retrieval metrics gate `recsys eval -c configs/biencoder.yaml`.
    expect(c.eval.min['ndcg@10']).toBeGreaterThan(0);
  });

  it('shop-pretrain pretrains on text written by scripts/shop-pretrain-text.ts, from the tiny-bert config', () => {
    const c = config('shop-pretrain');
    for (const p of [c.tokenizer.path, c.model.path]) expect(existsSync(p!), p).toBe(true);
    expect(c.pretrain.input).toBe(path.join(ROOT, 'out', 'shop', 'pretrain-text.csv'));
    expect(c.pretrain.out).toBe(path.join(ROOT, 'out', 'shop', 'mlm'));
    expect(c.pretrain).toMatchObject({ text_column: 'text', max_length: 64 });
  });

  it('esci pairs the query with the product title and splits by query', () => {
    expect(config('esci').data).toMatchObject({
      text_column: 'query',
      pair_column: 'product_title',
      label_column: 'esci_label',
      group_column: 'query_id',
    });
  });

  it('reviews reads the review text with max_length 128', () => {
    expect(config('reviews').data).toMatchObject({ text_column: 'review', label_column: 'sentiment', max_length: 128 });
  });

  it('movielens takes its input from the command line', () => {
    const c = loadConfig({
      files: [path.join(ROOT, 'configs', 'movielens.yaml')],
      overrides: [{ key: 'data.input', value: 'elsewhere/movielens_titles.csv', baseDir: '/somewhere' }],
    });
    expect(c.data.input).toBe(path.resolve('/somewhere', 'elsewhere/movielens_titles.csv'));
    expect(config('movielens').data.input).toBeUndefined();
    expect(readFileSync(path.join(ROOT, 'configs', 'movielens.yaml'), 'utf8')).toMatch(/--input/);
  });

  it('data/tiny-bert/config.json is BERT-tiny (L2 H128 A2) over the bundled vocabulary', () => {
    const cfg = JSON.parse(readFileSync(path.join(ROOT, 'data', 'tiny-bert', 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({
      model_type: 'bert',
      num_hidden_layers: 2,
      hidden_size: 128,
      num_attention_heads: 2,
      intermediate_size: 512,
      vocab_size: 30522,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      hidden_act: 'gelu',
    });
    const vocab = readFileSync(path.join(ROOT, 'data', 'vocab.txt'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(vocab).toHaveLength(cfg.vocab_size);
    expect(vocab.slice(0, 1)).toEqual(['[PAD]']);
    expect(vocab[100]).toBe('[UNK]');
    expect(vocab[101]).toBe('[CLS]');
    expect(vocab[102]).toBe('[SEP]');
  });
});
