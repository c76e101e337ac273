import { z } from 'zod';
import { pretrainSchema } from './pretrain-schema.js';
import { rankSchema, serveSchema } from './serve-schema.js';
import { bool, column, fraction, nonNegInt, nonNegNumber, oneOf, path, posInt, posNumber, str } from './fields.js';

/**
 * The one definition of every config key recsys reads: defaults, types, allowed values and
 * documentation. `config schema` renders it as JSON Schema; the loader validates against it.
 * Objects are strict, so an unknown key is an error (with a "did you mean" hint), never ignored.
 */

const splitFractions = z
  .array(nonNegNumber(), { error: 'expected three fractions [train, validation, test]' })
  .length(3, { error: 'expected three fractions [train, validation, test]' })
  .refine((f) => Math.abs(f[0] + f[1] + f[2] - 1) < 1e-6 && f[0] > 0, {
    error: 'expected three fractions [train, validation, test] that sum to 1, with train > 0',
  });

export const dataSchema = z
  .strictObject({
    input: path().optional().describe('Input file: .csv, .tsv, .jsonl/.ndjson or .arrow (Arrow IPC)'),
    format: oneOf(['auto', 'csv', 'tsv', 'jsonl', 'arrow'])
      .default('auto')
      .describe('Input format; auto picks from the extension'),
    delimiter: z
      .string({ error: 'expected a single character' })
      .length(1, { error: 'expected a single character' })
      .optional()
      .describe('CSV field delimiter (default "," or tab for .tsv)'),
    text_column: str().default('text').describe('Column with the (first) text'),
    pair_column: column()
      .default(null)
      .describe('Optional second text: segment B of a pair; task embedding: the positive text'),
    negative_column: column()
      .default(null)
      .describe('task embedding: optional hard-negative text (each text is tokenized on its own)'),
    positive_labels: z
      .array(str())
      .min(1)
      .nullable()
      .default(null)
      .describe('task embedding, relevance data: label values whose pair text is a positive of the query'),
    negative_labels: z
      .array(str())
      .min(1)
      .nullable()
      .default(null)
      .describe('task embedding, relevance data: label values whose pair text is a hard negative of the query'),
    label_column: str().default('label').describe('Column with the label (string or integer)'),
    label_columns: z
      .array(str())
      .min(1)
      .nullable()
      .default(null)
      .describe('regression: numeric target columns; multi_label_classification: one 0/1 column per label'),
    label_separator: z
      .string({ error: 'expected a non-empty string' })
      .min(1, { error: 'expected a non-empty string' })
      .default('|')
      .describe('multi_label_classification: separator of the labels in label_column (e.g. "a|b")'),
    id_column: column().default(null).describe('Optional id column carried into predictions'),
    split_column: column()
      .default(null)
      .describe('Existing split column (train/validation/test; aliases valid, val, dev)'),
    split: splitFractions.default([0.8, 0.1, 0.1]).describe('Seeded split fractions when there is no split column'),
    stratify: bool().default(false).describe('Keep the label distribution equal across splits'),
    group_column: column().default(null).describe('All rows sharing this key go to the same split (e.g. query_id)'),
    labels: z
      .array(str())
      .min(1)
      .nullable()
      .default(null)
      .describe('Explicit label order (ids follow it); default: sorted label values'),
    max_length: posInt().default(128).describe('Maximum tokens per example, [CLS] and [SEP] included'),
    truncation: oneOf(['longest_first', 'only_second']).default('longest_first').describe('How pairs are truncated'),
    max_bad_rows: nonNegInt().default(0).describe('Rejected rows tolerated before prepare fails (0 = none)'),
    workers: nonNegInt()
      .default(0)
      .describe('Threads that tokenize in prepare (0 = one per available core, 1 = the main thread only)'),
    out: path().optional().describe('Dataset directory written by prepare and read by train/eval'),
  })
  .describe('Input data and how prepare turns it into a dataset');

export const tokenizerSchema = z
  .strictObject({
    path: path().optional().describe('Directory with tokenizer.json, or a WordPiece vocab.txt file'),
    lowercase: bool()
      .default(true)
      .describe('Lower-case input (vocab.txt tokenizers only; tokenizer.json says it itself)'),
    strip_accents: bool()
      .nullable()
      .default(null)
      .describe('Strip accents (vocab.txt only); null follows lowercase, as BERT does'),
    mark_matches: bool()
      .default(false)
      .describe(
        'Pair classifiers: put [unused0] before each word of one text the other also has (exact-match ' +
          'marking); saved with the tokenizer, so predict, rank, eval, serve and exports mark alike',
      ),
  })
  .describe('Tokenizer used by prepare and travelling with every run and export');

export const modelSchema = z
  .strictObject({
    path: path()
      .optional()
      .describe('Pretrained Hugging Face model dir, a config.json (from scratch), or a hub id org/name'),
  })
  .describe('The pretrained model to fine-tune');

const earlyStoppingSchema = z.strictObject({
  metric: str().default('macro_f1').describe('Validation metric watched (loss, accuracy, macro_f1, …)'),
  mode: oneOf(['min', 'max'])
    .nullable()
    .default(null)
    .describe('Whether lower or higher is better; null: min for loss, max for the others'),
  patience: posInt().default(3).describe('Evaluations without improvement before stopping'),
  min_delta: nonNegNumber().default(0).describe('Smallest change that counts as an improvement'),
});

export const trainSchema = z
  .strictObject({
    out: path().optional().describe('Run directory'),
    epochs: posInt().default(3).describe('Passes over the training split'),
    max_steps: posInt().nullable().default(null).describe('Stop after this many optimizer steps'),
    batch_size: posInt().default(32).describe('Examples per forward/backward pass'),
    grad_accum: posInt().default(1).describe('Gradient accumulation steps (effective batch = batch_size × grad_accum)'),
    lr: posNumber().default(5e-5).describe('Peak learning rate (after warmup)'),
    weight_decay: nonNegNumber().default(0.01).describe('Decoupled weight decay, matrices only'),
    decay_embeddings: bool().default(false).describe('Apply weight decay to embedding matrices too'),
    adam_beta1: fraction().default(0.9).describe('AdamW β1'),
    adam_beta2: fraction().default(0.999).describe('AdamW β2'),
    adam_eps: posNumber().default(1e-8).describe('AdamW ε'),
    schedule: oneOf(['linear', 'cosine', 'constant', 'constant_with_warmup'])
      .default('linear')
      .describe('Learning-rate decay after warmup'),
    warmup: nonNegNumber().default(0.1).describe('Warmup: a ratio of total steps if < 1, else a step count'),
    clip_norm: nonNegNumber().default(1.0).describe('Global gradient-norm clip (0 = off)'),
    class_weights: z
      .union([z.literal('balanced'), z.record(z.string(), posNumber())], {
        error: 'expected "balanced" or a map {label: weight}',
      })
      .nullable()
      .default(null)
      .describe('Class weights in the loss: balanced, or a map label → weight'),
    pos_weight: z
      .union([z.literal('balanced'), z.record(z.string(), posNumber())], {
        error: 'expected "balanced" or a map {label: weight}',
      })
      .nullable()
      .default(null)
      .describe('multi_label_classification: BCE pos_weight per label; balanced = negatives / positives'),
    eval_every: posInt().nullable().default(null).describe('Evaluate every N steps (also at each epoch end)'),
    checkpoint_every: posInt().nullable().default(null).describe('Checkpoint every N steps (also at each evaluation)'),
    checkpoint_every_minutes: posNumber()
      .nullable()
      .default(10)
      .describe('Also checkpoint when this many minutes passed since the last one (null = off)'),
    keep_checkpoints: posInt().default(2).describe('Checkpoints kept besides the best'),
    early_stopping: earlyStoppingSchema.default({ metric: 'macro_f1', mode: null, patience: 3, min_delta: 0 }),
    dropout: bool().default(true).describe('Dropout during training, at the rates in the model config'),
    pooling: oneOf(['mean', 'cls']).default('mean').describe('task embedding: sentence vector of the encoder states'),
    mnrl_scale: posNumber().default(20).describe('task embedding: scale of the cosine scores (1 / temperature)'),
    mnrl_symmetric: bool()
      .default(false)
      .describe('task embedding: also a positive → anchors term (symmetric in-batch negatives loss)'),
    compiled: oneOf(['auto', 'on', 'off'])
      .default('auto')
      .describe('One TensorFlow graph per training step; auto = when native TensorFlow and its addon are built'),
  })
  .describe('Fine-tuning');

export const evalSchema = z
  .strictObject({
    split: oneOf(['train', 'validation', 'test']).default('test').describe('Dataset split evaluated'),
    batch_size: posInt().default(64).describe('Examples per inference batch'),
    min: z.record(z.string(), z.number()).default({}).describe('Quality gates: metric → minimum value'),
    max: z
      .record(z.string(), z.number())
      .default({})
      .describe('Quality gates: metric → maximum value (lower-is-better metrics such as loss)'),
    baseline: path().nullable().default(null).describe('A previous eval JSON report to compare with'),
    max_drop: nonNegNumber().nullable().default(null).describe('Largest allowed drop below the baseline'),
    baseline_metrics: z
      .array(str())
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Metrics compared with the baseline; null: accuracy, macro_f1, weighted_f1 ' +
          '(+ roc_auc, pr_auc when binary) and every gated metric',
      ),
    top_k: z
      .array(posInt())
      .min(1)
      .nullable()
      .default(null)
      .describe('k values for top-k accuracy (1 < k < classes); null: 2, 3, 5 below the class count'),
    digits: nonNegInt().default(4).describe('Decimals in the text and markdown reports'),
    threads: posInt()
      .nullable()
      .default(null)
      .describe('onnxruntime intra-op threads when evaluating an export; null: one per core'),
    compiled: oneOf(['auto', 'on', 'off'])
      .default('auto')
      .describe('--run: the forward pass as one TensorFlow graph; auto = on the tensorflow backend'),
  })
  .describe('Evaluation and CI gates');

export const exportSchema = z
  .strictObject({
    out: path().optional().describe('Export directory'),
    formats: z
      .array(oneOf(['onnx', 'savedmodel']))
      .min(1)
      .default(['onnx'])
      .describe('Formats written'),
    opset: z
      .union([z.literal(14), z.literal(17)], { error: 'expected 14 or 17' })
      .default(17)
      .describe('ONNX opset'),
    atol: posNumber().default(1e-4).describe('Largest logit difference the parity check accepts'),
    split: oneOf(['train', 'validation', 'test']).default('test').describe('Split of the parity check'),
    check_rows: posInt().default(256).describe('Rows of the parity check'),
    quantize: oneOf(['int8'])
      .nullable()
      .default(null)
      .describe(
        'int8: also write onnx/model_quantized.onnx (dynamic int8 MatMul weights), reported next to the float model',
      ),
    int8_min_agreement: z
      .number({ error: 'expected a number in [0, 1]' })
      .min(0, { error: 'expected a number in [0, 1]' })
      .max(1, { error: 'expected a number in [0, 1]' })
      .default(0.99)
      .describe('--quantize int8: smallest share of check rows whose top label (label set) matches the float model'),
    int8_max_relative_error: posNumber()
      .default(0.1)
      .describe("--quantize int8, regression: largest |Δoutput| relative to the float outputs' std"),
  })
  .describe('Export to ONNX and TensorFlow SavedModel');

export const predictSchema = z
  .strictObject({
    batch_size: posInt().default(32).describe('Rows per forward pass'),
    top_k: posInt().default(1).describe('Include the k best labels with scores (1: the best label only)'),
    max_length: posInt()
      .nullable()
      .default(null)
      .describe("Max tokens per row; null: the run's max_length, else the tokenizer's/model's limit"),
    compiled: oneOf(['auto', 'on', 'off'])
      .default('auto')
      .describe('Run and model dirs: the forward pass as one TensorFlow graph; auto = on the tensorflow backend'),
  })
  .describe('Batch inference on raw text (recsys predict)');

export const embedSchema = z
  .strictObject({
    pooling: oneOf(['mean', 'cls', 'pooler'])
      .nullable()
      .default(null)
      .describe(
        'mean: average over the attention mask; cls: the [CLS] state; pooler: BERT pooler, tanh(dense([CLS])); ' +
          "null: a bi-encoder run's own (its train.pooling), else mean",
      ),
    normalize: bool().default(true).describe('L2-normalise each vector (sentence-transformers Normalize)'),
    batch_size: posInt().default(32).describe('Rows per forward pass'),
    max_length: posInt()
      .nullable()
      .default(null)
      .describe("Max tokens per row; null: the run's max_length, else the tokenizer's/model's limit"),
    max_bad_rows: nonNegInt()
      .nullable()
      .default(null)
      .describe('Rejected rows (empty text, bad lines) tolerated before embed fails; null: no limit'),
  })
  .describe('Sentence embeddings of raw text (recsys embed)');

export const indexSchema = z
  .strictObject({
    ann: oneOf(['auto', 'none', 'ivf_pq', 'hnsw'])
      .default('auto')
      .describe('ANN index: auto (none below index.ann_min_rows vectors, else hnsw), none (exact only), ivf_pq, hnsw'),
    ann_min_rows: posInt()
      .default(50_000)
      .describe('With ann auto: catalogues smaller than this get exact search only'),
    partitions: posInt()
      .nullable()
      .default(null)
      .describe('ivf_pq partitions; null: about the square root of the count'),
    sub_vectors: posInt()
      .nullable()
      .default(null)
      .describe('ivf_pq sub-vectors (must divide the dimension); null: dimension / 8'),
    hnsw_m: posInt().default(20).describe('hnsw: neighbours per node'),
    ef_construction: posInt().default(150).describe('hnsw: candidate list size while building'),
  })
  .describe('Vector index over embeddings (recsys index)');

export const searchSchema = z
  .strictObject({
    k: posInt().default(10).describe('Hits per query'),
    exact: bool().default(false).describe('Scan every vector (the reference) even when the index has an ANN index'),
    nprobes: posInt().default(20).describe('ivf_pq: partitions probed per query'),
    ef: posInt().nullable().default(null).describe('hnsw: candidate list size; null: max(100, k × refine_factor)'),
    refine_factor: nonNegInt().default(10).describe('ANN: re-rank k × this many candidates by exact distance (0: off)'),
    batch_size: posInt().default(32).describe('Queries per forward pass'),
    pooling: oneOf(['mean', 'cls', 'pooler'])
      .nullable()
      .default(null)
      .describe("Query pooling; null: the index's (another value is refused)"),
    normalize: bool().nullable().default(null).describe("L2-normalise queries; null: the index's (another is refused)"),
    min: z.record(z.string(), z.number()).default({}).describe('Quality gates with --qrels: metric → minimum value'),
  })
  .describe('Nearest-neighbour search over an index (recsys search)');

export { rankSchema, serveSchema };

export const configSchema = z
  .strictObject({
    task: oneOf(['single_label_classification', 'regression', 'multi_label_classification', 'embedding'])
      .default('single_label_classification')
      .describe('Head type (Hugging Face problem_type); embedding: a bi-encoder trained with in-batch negatives'),
    seed: nonNegInt().default(42).describe('Seed for splits, initialisation, dropout and shuffling'),
    backend: oneOf(['auto', 'tensorflow', 'wasm', 'cpu'])
      .default('auto')
      .describe('Compute backend; auto = native TensorFlow if built, else wasm'),
    data: dataSchema.default(() => dataSchema.parse({})),
    tokenizer: tokenizerSchema.default(() => tokenizerSchema.parse({})),
    model: modelSchema.default(() => modelSchema.parse({})),
    train: trainSchema.default(() => trainSchema.parse({})),
    eval: evalSchema.default(() => evalSchema.parse({})),
    export: exportSchema.default(() => exportSchema.parse({})),
    predict: predictSchema.default(() => predictSchema.parse({})),
    embed: embedSchema.default(() => embedSchema.parse({})),
    index: indexSchema.default(() => indexSchema.parse({})),
    search: searchSchema.default(() => searchSchema.parse({})),
    serve: serveSchema.default(() => serveSchema.parse({})),
    rank: rankSchema.default(() => rankSchema.parse({})),
    pretrain: pretrainSchema.default(() => pretrainSchema.parse({})),
  })
  .describe('recsys configuration');

export type RecsysConfig = z.infer<typeof configSchema>;
export type DataConfig = RecsysConfig['data'];
export type TokenizerConfig = RecsysConfig['tokenizer'];

/** Keys holding file paths: resolved against the YAML file that set them, or the cwd for flags. */
export const PATH_KEYS = [
  'data.input',
  'data.out',
  'tokenizer.path',
  'model.path',
  'train.out',
  'eval.baseline',
  'export.out',
  'serve.index',
  'pretrain.input',
  'pretrain.out',
  'pretrain.corpus_dir',
] as const;

/** Keys that may hold a hub id (org/name) instead of a path: kept verbatim when nothing exists there. */
export const HUB_ID_KEYS = new Set<string>(['model.path', 'tokenizer.path']);
