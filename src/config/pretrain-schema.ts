import { z } from 'zod';
import { bool, fraction, nonNegInt, nonNegNumber, oneOf, path, posInt, posNumber, str } from './fields.js';

/**
 * `recsys pretrain`: masked-LM pretraining on unlabelled text. The optimiser, schedule, batch size,
 * checkpointing and early-stopping patience come from `train:`; the keys here override the ones a
 * pretraining run usually wants different from fine-tuning (null = take train's).
 */
export const pretrainSchema = z
  .strictObject({
    input: path().optional().describe('Unlabelled text: .csv, .tsv, .jsonl/.ndjson or .arrow'),
    text_column: str().default('text').describe('Column with the text'),
    out: path().optional().describe('Run directory of the pretraining run (its model/ is what train --model reads)'),
    corpus_dir: path()
      .nullable()
      .default(null)
      .describe('Where the tokenized text goes (Arrow shards + manifest; null: RUN/corpus); a later run reuses it'),
    shard_rows: posInt().default(100_000).describe('Sequences per Arrow shard file of the tokenized text'),
    max_bad_rows: nonNegInt()
      .nullable()
      .default(null)
      .describe('Fail when more rows than this are rejected (empty or missing text); null: list them, no limit'),
    max_length: posInt().default(128).describe('Tokens per block (group_texts) or per text (one_per_row)'),
    packing: oneOf(['group_texts', 'one_per_row'])
      .default('group_texts')
      .describe('group_texts: concatenate texts and cut max_length blocks (HF run_mlm.py); one_per_row: one text each'),
    mask_probability: fraction().default(0.15).describe('Share of tokens selected for prediction'),
    mask_replace: fraction().default(0.8).describe('Of the selected tokens: share replaced by [MASK]'),
    random_replace: fraction().default(0.1).describe('Of the selected tokens: share replaced by a random token'),
    whole_word_masking: bool().default(false).describe('Select whole words (a token and its ## pieces) together'),
    validation_split: fraction().default(0.05).describe('Share of texts held out for masked-LM loss / perplexity'),
    epochs: posInt().nullable().default(null).describe('Passes over the text (null: train.epochs)'),
    max_steps: posInt().nullable().default(null).describe('Stop after this many steps (null: train.max_steps)'),
    lr: posNumber().nullable().default(null).describe('Peak learning rate (null: train.lr)'),
    batch_size: posInt().nullable().default(null).describe('Blocks per step (null: train.batch_size)'),
    min_delta: nonNegNumber().default(0).describe('Smallest drop in validation loss that counts as an improvement'),
  })
  .describe('Masked-language-model pretraining on unlabelled domain text (recsys pretrain)');
