import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, vocabPath } from '../helpers/cli.js';
import {
  expectNoPartialDataset,
  expectOneLineError,
  expectRowsAccounted,
  fx,
  readManifestJson,
  readRejects,
  runCliAsync,
  STACK_FRAME,
  type AsyncCliResult,
} from './harness.js';

/**
 * The bad-input corpus: every case is a fixture in test/fixtures/bad/ (or a small generator for
 * what is too big or too binary to commit) plus one row of the table below — the command line,
 * the exit code (2 usage/config, 3 data, 1 gate; 0 for inputs that must succeed), the exact
 * fragment of the one-line error naming the file and row/key, the detail lines printed on purpose,
 * and for row-level problems the rows that must land in the rejects file.
 * Every case also checks: no stack trace (except the one --verbose case, which must show it),
 * no "run with --verbose" hint (reserved for unexpected errors), and after a failed prepare
 * nothing that looks complete (no manifest, no temp files).
 */

interface Ctx {
  /** Scratch dir for generated inputs. */
  work: string;
  /** A fresh output path for this case (dataset dir, run dir or prediction file). */
  out: string;
  /** good.csv prepared with the bert-base vocab (3 labels). */
  ds: string;
  /** good.csv prepared with another (smaller) vocab. */
  dsOtherTokenizer: string;
  /** A 2-label dataset with the same tokenizer as `model`. */
  ds2: string;
  /** A Hugging Face model dir (config.json, model.safetensors, tokenizer files) with 3 labels. */
  model: string;
  /** The run dir `model` comes from (manifest.json, train_summary.json). */
  run: string;
  /** A from-scratch tiny BERT config.json. */
  tiny: string;
}

type Cmd = 'prepare' | 'config' | 'train' | 'predict' | 'eval';

interface BadCase {
  name: string;
  cmd: Cmd;
  setup?: (c: Ctx) => void;
  args: (c: Ctx) => string[];
  env?: (c: Ctx) => Record<string, string>;
  code: 0 | 1 | 2 | 3;
  /** Exact fragment of the `recsys: error:` line (required when code ≠ 0). */
  error?: string | RegExp;
  /** Detail lines printed on purpose after the error (the first rejected rows, each config problem). */
  details?: number;
  /** Rows that must be in DATASET/rejects.csv, as [row, reason], in order. */
  rejects?: [number, string][];
  /** --verbose: the stack trace must be shown. */
  verbose?: boolean;
  check?: (c: Ctx, r: AsyncCliResult) => void;
}

const prep = (input: string, c: Ctx, ...extra: string[]) => [
  'prepare',
  '--input',
  input,
  '--tokenizer',
  vocabPath,
  '--out',
  c.out,
  '--split',
  '1,0,0',
  '--no-progress',
  ...extra,
];
const train = (c: Ctx, model: string, ...extra: string[]) => [
  'train',
  '--data',
  c.ds,
  '--model',
  model,
  '--out',
  c.out,
  '--backend',
  'tensorflow',
  '--max-steps',
  '2',
  '--no-progress',
  ...extra,
];
const predict = (c: Ctx, model: string, input: string, ...extra: string[]) => [
  'predict',
  '--model',
  model,
  '--input',
  input,
  '--output',
  `${c.out}.jsonl`,
  '--backend',
  'tensorflow',
  ...extra,
];
const render = (file: string, ...extra: string[]) => ['config', 'render', '-c', fx(file), ...extra];

/** A copy of the base model dir in the scratch dir, changed by `mutate`. */
function modelCopy(c: Ctx, name: string, mutate: (dir: string) => void): string {
  const dir = path.join(c.work, name);
  cpSync(c.model, dir, { recursive: true });
  mutate(dir);
  return dir;
}
const st = (dir: string) => path.join(dir, 'model.safetensors');
const rewrite = (file: string, f: (b: Buffer) => Buffer) => writeFileSync(file, f(readFileSync(file)));
/** The buffer with its first 8 bytes (a safetensors header length) set to n. */
function withU64(b: Buffer, n: bigint): Buffer {
  b.writeBigUInt64LE(n, 0);
  return b;
}
// biome-ignore lint/suspicious/noExplicitAny: the cases rewrite arbitrary header entries
function stHeader(b: Buffer): { header: Record<string, any>; data: Buffer } {
  const n = Number(b.readBigUInt64LE(0));
  return { header: JSON.parse(b.subarray(8, 8 + n).toString('utf8')), data: b.subarray(8 + n) };
}
function stEncode(header: Record<string, unknown>, data: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}
function runCopy(c: Ctx, name: string, mutate: (dir: string) => void): string {
  const dir = path.join(c.work, name);
  cpSync(c.run, dir, { recursive: true, verbatimSymlinks: true });
  mutate(dir);
  return dir;
}
function datasetCopy(c: Ctx, name: string, mutate: (dir: string) => void): string {
  const dir = path.join(c.work, name);
  cpSync(c.ds, dir, { recursive: true });
  mutate(dir);
  return dir;
}
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

const cases: BadCase[] = [
  // ---------------------------------------------------------------- prepare: CSV
  {
    name: 'CSV with an unbalanced quote',
    cmd: 'prepare',
    args: (c) => prep(fx('unbalanced-quote.csv'), c),
    code: 3,
    error:
      'unbalanced-quote.csv:4: CSV does not parse: row 3 has an opening quote that is never closed (the field ' +
      'runs to the end of the file at line 5)',
  },
  {
    name: 'CSV with an unbalanced quote, --verbose shows the stack',
    cmd: 'prepare',
    verbose: true,
    args: (c) => [...prep(fx('unbalanced-quote.csv'), c), '--verbose'],
    code: 3,
    error: 'unbalanced-quote.csv:4: CSV does not parse',
  },
  {
    name: 'CSV rows with the wrong column count are rejected (tolerated)',
    cmd: 'prepare',
    args: (c) => prep(fx('wrong-column-count.csv'), c, '--max-bad-rows', '2'),
    code: 0,
    rejects: [
      [2, 'expected 2 columns, found 3'],
      [4, 'expected 2 columns, found 1'],
    ],
  },
  {
    name: 'CSV rows with the wrong column count fail the run past --max-bad-rows, listing them',
    cmd: 'prepare',
    args: (c) => prep(fx('wrong-column-count.csv'), c),
    code: 3,
    error: 'wrong-column-count.csv: 2 bad row(s), more than data.max_bad_rows=0; all are listed in',
    details: 2,
    rejects: [
      [2, 'expected 2 columns, found 3'],
      [4, 'expected 2 columns, found 1'],
    ],
    check: (_c, r) =>
      expect(r.stderr).toContain(
        '  row 2 (line 3): expected 2 columns, found 3\n  row 4 (line 5): expected 2 columns, found 1',
      ),
  },
  {
    name: 'CSV with a BOM and CRLF line ends is fine',
    cmd: 'prepare',
    args: (c) => prep(fx('bom-crlf.csv'), c),
    code: 0,
    rejects: [],
    check: (c) => {
      const m = readManifestJson(c.out);
      expect(m.labels).toEqual(['food', 'phone', 'shoes']); // no "\r" on labels, no BOM on the header
      expect(m.rows).toEqual({ read: 3, written: 3, rejected: 0 });
    },
  },
  {
    name: 'CSV with quoted fields spanning lines is fine',
    cmd: 'prepare',
    args: (c) => prep(fx('embedded-newlines.csv'), c),
    code: 0,
    rejects: [],
    check: (c) => expect(readManifestJson(c.out).rows).toEqual({ read: 3, written: 3, rejected: 0 }),
  },
  {
    name: 'CSV with a stray quote inside a field keeps it literally',
    cmd: 'prepare',
    args: (c) => prep(fx('stray-quote.csv'), c),
    code: 0,
    rejects: [],
    check: (c) => expect(readManifestJson(c.out).rows.written).toBe(3),
  },
  {
    name: 'a NUL byte in a text rejects that row',
    cmd: 'prepare',
    args: (c) => prep(fx('nul-byte.csv'), c, '--max-bad-rows', '1'),
    code: 0,
    rejects: [[2, 'NUL character in column "text"']],
    check: (c) => expect(readRejects(path.join(c.out, 'rejects.csv'))[0].raw).toBe('phone\\0case,phone'),
  },
  {
    name: 'invalid UTF-8 in a text rejects that row',
    cmd: 'prepare',
    args: (c) => prep(fx('invalid-utf8.csv'), c, '--max-bad-rows', '1'),
    code: 0,
    rejects: [[2, 'invalid UTF-8 in column "text"']],
  },
  {
    name: 'invalid UTF-8 in the header',
    cmd: 'prepare',
    args: (c) => prep(fx('invalid-utf8-header.csv'), c),
    code: 3,
    error: 'invalid-utf8-header.csv:1: header is not valid UTF-8',
  },
  {
    name: 'an empty file',
    cmd: 'prepare',
    args: (c) => prep(fx('empty.csv'), c),
    code: 3,
    error: 'empty.csv: empty file',
  },
  {
    name: 'a header-only file',
    cmd: 'prepare',
    args: (c) => prep(fx('header-only.csv'), c),
    code: 3,
    error: 'header-only.csv: no data rows (only a header?)',
  },
  {
    name: 'a file of blank lines',
    cmd: 'prepare',
    args: (c) => prep(fx('blank-lines-only.csv'), c),
    code: 3,
    error: 'blank-lines-only.csv: empty file (no header row)',
  },
  {
    name: 'a missing text column',
    cmd: 'prepare',
    args: (c) => prep(fx('missing-text-column.csv'), c),
    code: 2,
    error: 'missing-text-column.csv: column "text" not found; columns are query, label',
  },
  {
    name: 'a missing label column',
    cmd: 'prepare',
    args: (c) => prep(fx('good.csv'), c, '--label-column', 'category'),
    code: 2,
    error: 'good.csv: column "category" not found; columns are text, label',
  },
  {
    name: 'a duplicate column in the header',
    cmd: 'prepare',
    args: (c) => prep(fx('duplicate-header.csv'), c),
    code: 3,
    error: 'duplicate-header.csv:1: duplicate column "text" in the header',
  },
  {
    name: 'empty text, blank text and a missing label are rejected',
    cmd: 'prepare',
    args: (c) => prep(fx('empty-text.csv'), c, '--max-bad-rows', '3'),
    code: 0,
    rejects: [
      [2, 'empty text (column "text")'],
      [3, 'empty text (column "text")'],
      [4, 'missing label (column "label")'],
    ],
  },
  {
    name: 'labels in validation/test but not in train',
    cmd: 'prepare',
    args: (c) => [...prep(fx('unseen-labels.csv'), c, '--max-bad-rows', '1'), '--split-column', 'split'],
    code: 3,
    error:
      'unseen-labels.csv: labels present in validation/test but not in train: "food" (validation), "drinks" (test)',
    rejects: [[5, 'empty text (column "text")']],
  },
  {
    name: 'thousands of labels unseen in train still make one short line',
    cmd: 'prepare',
    setup: (c) =>
      writeFileSync(
        path.join(c.work, 'unique-labels.csv'),
        `text,label\n${Array.from({ length: 3000 }, (_, i) => `item ${i},L${i}\n`).join('')}`,
      ),
    args: (c) => [...prep(path.join(c.work, 'unique-labels.csv'), c), '--split', '0.8,0.1,0.1'],
    code: 3,
    error: new RegExp(
      String.raw`unique-labels\.csv: labels present in validation\/test but not ` +
        String.raw`in train: ("L\d+" \((validation|test)\), ){9}"L\d+" \((validation|test)\) ` +
        String.raw`… and \d+ more$`,
    ),
  },
  {
    name: 'a newline inside a header name stays inside the one error line',
    cmd: 'prepare',
    args: (c) => prep(fx('newline-in-header.csv'), c),
    code: 2,
    error: 'newline-in-header.csv: column "text" not found; columns are te\\nxt, label',
  },
  {
    name: 'a newline inside a label stays inside its detail line',
    cmd: 'prepare',
    args: (c) => [...prep(fx('newline-in-label.csv'), c), '--set', 'data.labels=[phone]'],
    code: 3,
    error: 'newline-in-label.csv: 1 bad row(s), more than data.max_bad_rows=0',
    details: 1,
    rejects: [[1, 'label "shoes\nboots" is not in data.labels']],
    check: (_c, r) => expect(r.stderr).toContain('  row 1 (line 3): label "shoes\\nboots" is not in data.labels\n'),
  },
  {
    name: 'a single label',
    cmd: 'prepare',
    args: (c) => prep(fx('single-label.csv'), c),
    code: 3,
    error:
      'single-label.csv: every usable row has the label "shoes" (column "label"); a classifier needs at least ' +
      'two labels',
  },
  {
    name: 'an unknown split value is rejected',
    cmd: 'prepare',
    args: (c) => [...prep(fx('unknown-split.csv'), c, '--max-bad-rows', '1'), '--split-column', 'split'],
    code: 0,
    rejects: [[2, 'unknown split "holdout" (column "split"; expected train, validation or test)']],
  },
  {
    name: 'a label not in data.labels is rejected',
    cmd: 'prepare',
    args: (c) => [...prep(fx('labels-not-listed.csv'), c, '--max-bad-rows', '1'), '--set', 'data.labels=[shoes,phone]'],
    code: 0,
    rejects: [[3, 'label "food" is not in data.labels']],
  },
  {
    name: 'a pair whose first text alone exceeds max_length under only_second is rejected (second pass)',
    cmd: 'prepare',
    args: (c) => [
      ...prep(fx('pairs-too-long.csv'), c, '--max-bad-rows', '1'),
      '--text-column',
      'query',
      '--pair-column',
      'product',
      '--max-length',
      '16',
      '--truncation',
      'only_second',
    ],
    code: 0,
    rejects: [[2, 'first text alone exceeds max_length 16; only_second truncation cannot fit the pair']],
  },
  {
    name: 'a 10 MB single row is tokenized and truncated',
    cmd: 'prepare',
    setup: (c) =>
      writeFileSync(
        path.join(c.work, 'ten-mb-row.csv'),
        `text,label\nrunning shoes,shoes\n"${'phone case '.repeat(1024 * 1024)}",phone\ncoffee,food\n`,
      ),
    args: (c) => prep(path.join(c.work, 'ten-mb-row.csv'), c, '--max-length', '32'),
    code: 0,
    rejects: [],
    check: (c) => {
      const m = readManifestJson(c.out);
      expect(m.rows).toEqual({ read: 3, written: 3, rejected: 0 });
      expect(m.token_lengths.truncated).toBe(1);
      expect(m.token_lengths.max).toBeGreaterThan(2_000_000);
    },
  },
  {
    name: 'an input file that does not exist',
    cmd: 'prepare',
    args: (c) => prep(fx('no-such-file.csv'), c),
    code: 2,
    error: 'no-such-file.csv: input file not found',
  },
  {
    name: 'an input whose extension says no format',
    cmd: 'prepare',
    args: (c) => prep(fx('not-a-csv.txt'), c),
    code: 2,
    error:
      'not-a-csv.txt: cannot tell the format from the extension ".txt"; set data.format (csv | tsv | jsonl | arrow)',
  },

  // ---------------------------------------------------------------- prepare: JSONL and Arrow
  {
    name: 'JSONL lines that are not JSON objects are rejected (tolerated)',
    cmd: 'prepare',
    args: (c) => prep(fx('not-json.jsonl'), c, '--max-bad-rows', '3'),
    code: 0,
    rejects: [
      [2, 'not valid JSON (Unexpected token \'o\', "not json at all" is not valid JSON)'],
      [4, 'expected a JSON object'],
      [5, 'label is not a string or number (column "label")'],
    ],
  },
  {
    name: 'JSONL bad lines past --max-bad-rows fail the run, listing them',
    cmd: 'prepare',
    args: (c) => prep(fx('not-json.jsonl'), c),
    code: 3,
    error: 'not-json.jsonl: 3 bad row(s), more than data.max_bad_rows=0',
    details: 3,
    check: (_c, r) => expect(r.stderr).toContain('  row 2 (line 2): not valid JSON'),
  },
  {
    name: 'JSONL with no JSON object at all',
    cmd: 'prepare',
    args: (c) => prep(fx('no-object.jsonl'), c),
    code: 3,
    error: 'no-object.jsonl: none of its 3 line(s) is a JSON object (expected JSON Lines: one {...} per line)',
  },
  {
    name: 'JSONL invalid UTF-8 and an escaped NUL are rejected',
    cmd: 'prepare',
    args: (c) => prep(fx('invalid-utf8.jsonl'), c, '--max-bad-rows', '2'),
    code: 0,
    rejects: [
      [2, 'invalid UTF-8'],
      [3, 'NUL character in column "text"'],
    ],
  },
  {
    name: 'an Arrow file with the wrong schema',
    cmd: 'prepare',
    setup: (c) =>
      writeFileSync(
        path.join(c.work, 'wrong-schema.arrow'),
        tableToIPC(tableFromArrays({ title: ['a', 'b'], genre: Int32Array.from([0, 1]) }), 'file'),
      ),
    args: (c) => prep(path.join(c.work, 'wrong-schema.arrow'), c),
    code: 2,
    error: 'wrong-schema.arrow: columns "text", "label" not found; columns are title, genre',
  },
  {
    name: 'an Arrow file whose label is a list is rejected row by row',
    cmd: 'prepare',
    setup: (c) =>
      writeFileSync(
        path.join(c.work, 'list-label.arrow'),
        tableToIPC(
          tableFromArrays({
            text: ['running shoes', 'phone case', 'coffee'],
            label: [[1], [2], [3]] as unknown as number[],
          }),
          'file',
        ),
      ),
    args: (c) => prep(path.join(c.work, 'list-label.arrow'), c),
    code: 3,
    error: 'list-label.arrow: 3 bad row(s), more than data.max_bad_rows=0',
    details: 3,
    rejects: [
      [1, 'label is not a string or number (column "label")'],
      [2, 'label is not a string or number (column "label")'],
      [3, 'label is not a string or number (column "label")'],
    ],
  },
  {
    name: 'a file that is not Arrow',
    cmd: 'prepare',
    setup: (c) => writeFileSync(path.join(c.work, 'garbage.arrow'), 'this is not arrow'),
    args: (c) => prep(path.join(c.work, 'garbage.arrow'), c),
    code: 3,
    error: 'garbage.arrow: not a readable Arrow IPC file',
  },
  {
    name: 'a truncated Arrow file',
    cmd: 'prepare',
    setup: (c) =>
      writeFileSync(
        path.join(c.work, 'truncated.arrow'),
        tableToIPC(tableFromArrays({ text: ['a', 'b'], label: Int32Array.from([0, 1]) }), 'file').subarray(0, 200),
      ),
    args: (c) => prep(path.join(c.work, 'truncated.arrow'), c),
    code: 3,
    error: 'truncated.arrow: not a readable Arrow IPC file (truncated or corrupt)',
  },

  // ---------------------------------------------------------------- prepare: tokenizers
  {
    name: 'a tokenizer dir with no tokenizer',
    cmd: 'prepare',
    args: (c) => [...prep(fx('good.csv'), c), '--tokenizer', fx('no-tokenizer-dir')],
    code: 2,
    error: 'no-tokenizer-dir: no tokenizer.json or vocab.txt in this directory',
  },
  {
    name: 'a vocab.txt without [UNK]',
    cmd: 'prepare',
    args: (c) => [...prep(fx('good.csv'), c), '--tokenizer', fx('vocab-no-unk.txt')],
    code: 2,
    error: 'vocab-no-unk.txt: not a usable tokenizer (vocabulary has no unknown token [UNK])',
  },
  {
    name: 'an empty vocab.txt',
    cmd: 'prepare',
    args: (c) => [...prep(fx('good.csv'), c), '--tokenizer', fx('vocab-empty.txt')],
    code: 2,
    error: 'vocab-empty.txt: vocabulary file is empty',
  },
  {
    name: 'a tokenizer.json that is not JSON',
    cmd: 'prepare',
    args: (c) => [...prep(fx('good.csv'), c), '--tokenizer', fx('tokenizer-not-json')],
    code: 2,
    error: 'tokenizer-not-json/tokenizer.json: not valid JSON',
  },
  {
    name: 'a tokenizer.json that is null',
    cmd: 'prepare',
    args: (c) => [...prep(fx('good.csv'), c), '--tokenizer', fx('tokenizer-null')],
    code: 2,
    error: 'tokenizer-null/tokenizer.json: not a tokenizer.json (expected a JSON object with a "model")',
  },

  // ---------------------------------------------------------------- config
  {
    name: 'YAML that does not parse',
    cmd: 'config',
    args: () => render('yaml-syntax.yaml'),
    code: 2,
    error: /yaml-syntax\.yaml:\d+:\d+: YAML does not parse: /,
  },
  {
    name: 'YAML that does not parse, through prepare',
    cmd: 'config',
    args: (c) => ['prepare', '-c', fx('yaml-syntax.yaml'), '--out', c.out],
    code: 2,
    error: /yaml-syntax\.yaml:\d+:\d+: YAML does not parse/,
  },
  {
    name: 'wrong types',
    cmd: 'config',
    args: () => render('wrong-types.yaml'),
    code: 2,
    error: '2 problems in the configuration:',
    details: 2,
    check: (_c, r) =>
      expect(r.stderr).toContain(
        '  train.batch_size: expected a positive integer, got "32 rows"\n  train.dropout: expected true or ' +
          'false, got "maybe"',
      ),
  },
  {
    name: 'unknown keys, with a did-you-mean',
    cmd: 'config',
    args: () => render('unknown-keys.yaml'),
    code: 2,
    error: '2 problems in the configuration:',
    details: 2,
    check: (_c, r) => {
      expect(r.stderr).toContain('  train.batchsize: unknown key (did you mean "batch_size"?)');
      expect(r.stderr).toContain('  data.max_lenght: unknown key (did you mean "max_length"?)');
    },
  },
  {
    name: 'zero batch size',
    cmd: 'config',
    args: () => render('zero-batch-size.yaml'),
    code: 2,
    error: 'train.batch_size: expected a positive integer, got 0',
  },
  {
    name: 'negative learning rate',
    cmd: 'config',
    args: () => render('negative-lr.yaml'),
    code: 2,
    error: 'train.lr: expected a positive number, got -0.001',
  },
  {
    name: 'a NaN learning rate',
    cmd: 'config',
    args: () => render('nan-lr.yaml'),
    code: 2,
    error: 'train.lr: expected a positive number, got NaN',
  },
  {
    name: 'zero learning rate from a flag',
    cmd: 'config',
    args: (c) => ['train', '--data', c.ds, '--model', c.tiny, '--out', c.out, '--lr', '0'],
    code: 2,
    error: 'train.lr: expected a positive number, got 0',
  },
  {
    name: 'negative batch size from a flag',
    cmd: 'config',
    args: (c) => ['train', '--data', c.ds, '--model', c.tiny, '--out', c.out, '--batch-size', '-4'],
    code: 2,
    error: 'train.batch_size: expected a positive integer, got -4',
  },
  {
    name: 'an unknown backend',
    cmd: 'config',
    args: () => render('unknown-backend.yaml'),
    code: 2,
    error: 'backend: expected one of auto | tensorflow | wasm | cpu, got "gpu"',
  },
  {
    name: 'an unknown backend from a flag',
    cmd: 'config',
    args: (c) => ['train', '--data', c.ds, '--model', c.tiny, '--out', c.out, '--backend', 'tpu'],
    code: 2,
    error: 'backend: expected one of auto | tensorflow | wasm | cpu, got "tpu"',
  },
  {
    name: 'a YAML alias bomb',
    cmd: 'config',
    args: () => render('alias-bomb.yaml'),
    code: 2,
    error: 'alias-bomb.yaml: Excessive alias count indicates a resource exhaustion attack',
  },
  {
    name: 'a list at the top level',
    cmd: 'config',
    args: () => render('not-a-mapping.yaml'),
    code: 2,
    error: 'not-a-mapping.yaml: expected a mapping of config keys at the top level',
  },
  {
    name: 'a section given as a number',
    cmd: 'config',
    args: () => render('section-scalar.yaml'),
    code: 2,
    error: 'train: expected a mapping of keys, got 5',
  },
  {
    name: 'control characters in YAML keys are escaped, not printed',
    cmd: 'config',
    args: () => render('control-chars-in-keys.yaml'),
    code: 2,
    error: '2 problems in the configuration:',
    details: 2,
    check: (_c, r) => {
      expect(r.stderr).toContain('  train\\nlr: unknown key; expected one of task');
      expect(r.stderr).toContain('  seed\\x1b[2J: unknown key');
      expect(r.stderr).not.toContain('\x1b');
    },
  },
  {
    name: 'a duplicate key',
    cmd: 'config',
    args: () => render('duplicate-key.yaml'),
    code: 2,
    error: 'duplicate-key.yaml:2:1: YAML does not parse: Map keys must be unique',
  },
  {
    name: 'split fractions that do not sum to 1',
    cmd: 'config',
    args: () => render('bad-split.yaml'),
    code: 2,
    error:
      'data.split: expected three fractions [train, validation, test] that sum to 1, with train > 0, got [0.5,0.6,0.1]',
  },
  {
    name: 'a binary file as config',
    cmd: 'config',
    args: () => render('binary.yaml'),
    code: 2,
    error: 'binary.yaml: not valid UTF-8 text (expected a YAML config file)',
  },
  {
    name: 'a directory as config',
    cmd: 'config',
    args: () => ['config', 'render', '-c', fx('no-tokenizer-dir')],
    code: 2,
    error: 'no-tokenizer-dir: not a file (expected a YAML config file)',
  },
  {
    name: 'a config file that does not exist',
    cmd: 'config',
    args: () => render('no-such.yaml'),
    code: 2,
    error: 'no-such.yaml: config file not found',
  },
  {
    name: 'a config file over 1 MiB',
    cmd: 'config',
    setup: (c) => writeFileSync(path.join(c.work, 'huge.yaml'), `# ${'x'.repeat(2 * 1024 * 1024)}\nseed: 1\n`),
    args: (c) => ['config', 'render', '-c', path.join(c.work, 'huge.yaml')],
    code: 2,
    error: 'huge.yaml: config file larger than 1 MiB',
  },
  {
    name: '--set without a value',
    cmd: 'config',
    args: () => ['config', 'render', '--set', 'train.lr'],
    code: 2,
    error: '--set train.lr: expected key.path=value',
  },
  {
    name: 'a non-numeric --max-length',
    cmd: 'config',
    args: (c) => prep(fx('good.csv'), c, '--max-length', 'long'),
    code: 2,
    error: 'data.max_length: expected a positive integer, got "long"',
  },

  // ---------------------------------------------------------------- train
  {
    name: 'warmup longer than training',
    cmd: 'train',
    args: (c) => train(c, c.tiny, '--set', 'train.warmup=50'),
    code: 2,
    error: 'train.warmup: 50 warmup steps is longer than the whole run (2 steps)',
    check: (c) => expect(existsSync(path.join(c.out, 'metrics.jsonl'))).toBe(false),
  },
  {
    name: 'a NaN-producing learning rate stops before the bad update, keeping the best weights',
    cmd: 'train',
    args: (c) =>
      train(c, c.tiny, '--lr', '1e30', '--set', 'train.clip_norm=0', '--set', 'train.warmup=0', '--max-steps', '4'),
    code: 3,
    error: new RegExp(
      String.raw`training diverged at step \d+: (loss|gradient norm) is (NaN|-?Infinity); ` +
        String.raw`stopped before applying it \(lower train\.lr or check the data\); ` +
        String.raw`the best weights so far are saved in .*\/model$`,
    ),
    check: (c) => expect(json(path.join(c.out, 'train_summary.json')).stop_reason).toBe('nan'),
  },
  {
    name: 'an unknown early-stopping metric',
    cmd: 'train',
    args: (c) => train(c, c.tiny, '--set', 'train.early_stopping.metric=f2'),
    code: 2,
    error: 'train.early_stopping.metric: "f2" is not a reported metric',
  },
  {
    name: 'class weights for an unknown label',
    cmd: 'train',
    args: (c) => train(c, c.tiny, '--set', 'train.class_weights.boots=2'),
    code: 2,
    error: 'train.class_weights: unknown label(s) "boots"; labels are food, phone, shoes',
  },
  {
    name: 'a safetensors file cut short',
    cmd: 'train',
    args: (c) =>
      train(
        c,
        modelCopy(c, 'st-truncated', (d) => rewrite(st(d), (b) => b.subarray(0, Math.floor(b.length * 0.9)))),
      ),
    code: 3,
    error: new RegExp(
      String.raw`st-truncated\/model\.safetensors: tensor \S+: data_offsets \[\d+, ` +
        String.raw`\d+\] run past the end of the data \(\d+ bytes\): truncated ` +
        'or corrupt',
    ),
  },
  {
    name: 'a safetensors header claiming 100 GB',
    cmd: 'train',
    args: (c) =>
      train(
        c,
        modelCopy(c, 'st-100gb', (d) => rewrite(st(d), (b) => withU64(b, 100n * 1024n ** 3n))),
      ),
    code: 3,
    error:
      'st-100gb/model.safetensors: safetensors header length 107374182400 exceeds the 100 MB limit (corrupt or ' +
      'not a safetensors file)',
  },
  {
    name: 'a safetensors header longer than the file',
    cmd: 'train',
    args: (c) =>
      train(
        c,
        modelCopy(c, 'st-long-header', (d) => rewrite(st(d), (b) => withU64(b, BigInt(b.length)))),
      ),
    code: 3,
    error: new RegExp(
      String.raw`st-long-header\/model\.safetensors: safetensors header length ` +
        String.raw`\d+ is larger than the file \(\d+ bytes\): truncated or corrupt`,
    ),
  },
  {
    name: 'a safetensors header that is not JSON',
    cmd: 'train',
    args: (c) =>
      train(
        c,
        modelCopy(c, 'st-garbage-header', (d) => rewrite(st(d), (b) => b.fill(0x7b, 8, 16))),
      ),
    code: 3,
    error: 'st-garbage-header/model.safetensors: safetensors header is not valid JSON',
  },
  {
    name: 'a safetensors header whose shapes lie',
    cmd: 'train',
    args: (c) =>
      train(
        c,
        modelCopy(c, 'st-lying-shape', (d) =>
          rewrite(st(d), (b) => {
            const { header, data } = stHeader(b);
            header['bert.pooler.dense.bias'].shape = [16, 1000];
            return stEncode(header, data);
          }),
        ),
      ),
    code: 3,
    error:
      'st-lying-shape/model.safetensors: tensor bert.pooler.dense.bias: 64 bytes for F32 shape [16, 1000], ' +
      'expected 64000',
  },
  {
    name: 'a config.json whose vocab_size does not match the checkpoint',
    cmd: 'train',
    args: (c) =>
      train(
        c,
        modelCopy(c, 'vocab-mismatch', (d) => {
          const cfg = json(path.join(d, 'config.json'));
          writeFileSync(path.join(d, 'config.json'), JSON.stringify({ ...cfg, vocab_size: 1000 }));
        }),
      ),
    code: 3,
    error:
      'vocab-mismatch/model.safetensors: tensor bert.embeddings.word_embeddings.weight has shape [30522, 16] but ' +
      'config.json implies [1000, 16]',
  },
  {
    name: 'a checkpoint for another label count gets a fresh head',
    cmd: 'train',
    args: (c) => [...train(c, c.model), '--data', c.ds2],
    code: 0,
    check: (c, r) => {
      expect(r.stderr).toContain(
        "the checkpoint's classifier has 3 outputs but there are 2 labels: it is replaced by a freshly " +
          'initialised head',
      );
      expect(Object.values(json(path.join(c.out, 'model/config.json')).id2label)).toEqual(['0', '1']);
    },
  },
  {
    name: "a dataset prepared with another tokenizer than the model's",
    cmd: 'train',
    args: (c) => [...train(c, c.model), '--data', c.dsOtherTokenizer],
    code: 3,
    error: new RegExp(
      'ds-other-tokenizer: the dataset was prepared with another tokenizer ' +
        String.raw`than the model's \([0-9a-f]{12} vs [0-9a-f]{12} in .*\); re-run ` +
        'recsys prepare with --tokenizer ',
    ),
  },
  {
    name: 'a model whose max_position_embeddings is below the dataset max_length',
    cmd: 'train',
    setup: (c) =>
      writeFileSync(
        path.join(c.work, 'short-positions.json'),
        JSON.stringify({ ...json(c.tiny), max_position_embeddings: 8 }),
      ),
    args: (c) => train(c, path.join(c.work, 'short-positions.json')),
    code: 3,
    error: "ds: max_length 24 exceeds the model's max_position_embeddings 8",
  },
  {
    name: 'a model dir without config.json',
    cmd: 'train',
    setup: (c) => modelCopy(c, 'no-config', (d) => rmSync(path.join(d, 'config.json'))),
    args: (c) => train(c, path.join(c.work, 'no-config')),
    code: 2,
    error: 'no-config: no config.json; model.path must be a Hugging Face model dir or a config.json',
  },
  {
    name: 'a truncated dataset shard',
    cmd: 'train',
    args: (c) =>
      train(
        {
          ...c,
          ds: datasetCopy(c, 'ds-truncated', (d) => rewrite(path.join(d, 'train.arrow'), (b) => b.subarray(0, 300))),
        },
        c.tiny,
      ),
    code: 3,
    error: new RegExp(
      String.raw`ds-truncated\/train\.arrow: does not match the sha256 in .*ds-truncated\/manifest\.json ` +
        String.raw`\(changed or damaged after prepare\); re-run recsys prepare`,
    ),
  },
  {
    name: 'a dataset shard changed after prepare',
    cmd: 'train',
    args: (c) =>
      train(
        {
          ...c,
          ds: datasetCopy(c, 'ds-swapped', (d) => cpSync(path.join(c.ds2, 'train.arrow'), path.join(d, 'train.arrow'))),
        },
        c.tiny,
      ),
    code: 3,
    error: 'ds-swapped/train.arrow: does not match the sha256 in',
  },
  {
    name: 'a dataset without its manifest',
    cmd: 'train',
    args: (c) =>
      train({ ...c, ds: datasetCopy(c, 'ds-no-manifest', (d) => rmSync(path.join(d, 'manifest.json'))) }, c.tiny),
    code: 3,
    error: 'ds-no-manifest: no manifest.json; the dataset is incomplete (re-run recsys prepare)',
  },
  {
    name: 'a dataset whose manifest is not JSON',
    cmd: 'train',
    args: (c) =>
      train(
        {
          ...c,
          ds: datasetCopy(c, 'ds-bad-manifest', (d) =>
            writeFileSync(path.join(d, 'manifest.json'), '{"format": "recsys-dataset",'),
          ),
        },
        c.tiny,
      ),
    code: 3,
    error: 'ds-bad-manifest/manifest.json: not valid JSON',
  },
  {
    name: 'a manifest pointing outside the dataset',
    cmd: 'train',
    args: (c) =>
      train(
        {
          ...c,
          ds: datasetCopy(c, 'ds-escape', (d) => {
            const m = json(path.join(d, 'manifest.json'));
            m.splits.train.file = '../ds-2labels/train.arrow';
            writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(m));
          }),
        },
        c.tiny,
      ),
    code: 3,
    error:
      'ds-escape/manifest.json: splits.train.file "../ds-2labels/train.arrow" is not a file name inside the ' +
      'dataset; re-run recsys prepare',
  },
  {
    name: 'a dataset with a single label (made by an older prepare)',
    cmd: 'train',
    args: (c) =>
      train(
        {
          ...c,
          ds: datasetCopy(c, 'ds-one-label', (d) => {
            const m = json(path.join(d, 'manifest.json'));
            writeFileSync(
              path.join(d, 'manifest.json'),
              JSON.stringify({ ...m, labels: ['shoes'], label2id: { shoes: 0 } }),
            );
          }),
        },
        c.tiny,
      ),
    code: 3,
    error: 'ds-one-label: the dataset has a single label ("shoes"); a classifier needs at least two',
  },
  {
    name: 'resume a run dir made with another config',
    cmd: 'train',
    setup: (c) => cpSync(c.run, c.out, { recursive: true, verbatimSymlinks: true }),
    args: (c) => [...train(c, c.tiny, '--lr', '0.0123'), '--resume'],
    code: 2,
    error: /: holds a run made with another config \(train\.lr: [^ ]+ there, 0\.0123 now/,
  },
  {
    name: 'resume into a dir that is not a recsys run',
    cmd: 'train',
    setup: (c) => {
      mkdirSync(c.out, { recursive: true });
      writeFileSync(path.join(c.out, 'notes.txt'), 'mine');
    },
    args: (c) => [...train(c, c.tiny), '--resume'],
    code: 2,
    error: ': not empty and not a recsys run; pass --overwrite or choose another --out',
  },
  {
    name: 'resume from a checkpoint whose state.json is damaged',
    cmd: 'train',
    setup: (c) => {
      cpSync(c.run, c.out, { recursive: true, verbatimSymlinks: true });
      writeFileSync(path.join(realpathSync(path.join(c.out, 'last')), 'state.json'), '{"step": 1,');
    },
    // the settings of the run it resumes (trained with --max-steps 1): another config is refused first
    args: (c) => [...train(c, c.tiny, '--max-steps', '1'), '--resume'],
    code: 3,
    error: /\/checkpoints\/step-\d+\/state\.json: not valid JSON \(/,
  },

  // ---------------------------------------------------------------- predict
  {
    name: 'predict keeps every row in place and lists the bad ones',
    cmd: 'predict',
    args: (c) => [...predict(c, c.run, fx('predict-mixed.csv')), '--id-column', 'id'],
    code: 0,
    check: (c) => {
      const out = readFileSync(`${c.out}.jsonl`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(out.map((p) => [p.row, p.id ?? null, p.label === null])).toEqual([
        [1, 'p1', false],
        [2, 'p2', true],
        [3, null, true],
        [4, null, true],
        [5, null, true],
        [6, 'p6', false],
      ]);
      expect(readRejects(`${c.out}.rejects.csv`).map((r) => [Number(r.row), r.reason])).toEqual([
        [2, 'empty or missing text (column "text")'],
        [3, 'NUL character in column "text"'],
        [4, 'invalid UTF-8 in column "text"'],
        [5, 'expected 2 columns, found 3'],
      ]);
    },
  },
  {
    name: 'predict with a model dir without a tokenizer',
    cmd: 'predict',
    args: (c) =>
      predict(
        c,
        modelCopy(c, 'no-tokenizer', (d) => {
          for (const f of ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json'])
            rmSync(path.join(d, f), { force: true });
        }),
        fx('good.csv'),
      ),
    code: 2,
    error: "no-tokenizer: no tokenizer.json or vocab.txt; predict tokenizes raw text with the model's own tokenizer",
  },
  {
    name: 'predict with a tokenizer larger than the checkpoint vocabulary',
    cmd: 'predict',
    args: (c) =>
      predict(
        c,
        modelCopy(c, 'big-vocab', (d) => {
          rmSync(path.join(d, 'tokenizer.json'));
          writeFileSync(
            path.join(d, 'vocab.txt'),
            readFileSync(path.join(d, 'vocab.txt'), 'utf8') +
              Array.from({ length: 10 }, (_, i) => `extra${i}`).join('\n') +
              '\n',
          );
        }),
        fx('good.csv'),
      ),
    code: 3,
    error:
      "big-vocab: tokenizer has 30532 tokens but the model's vocab_size is 30522; the tokenizer files do not " +
      'belong to this checkpoint',
  },
  {
    name: 'predict with a truncated safetensors file',
    cmd: 'predict',
    args: (c) =>
      predict(
        c,
        modelCopy(c, 'predict-st-truncated', (d) => rewrite(st(d), (b) => b.subarray(0, 1000))),
        fx('good.csv'),
      ),
    code: 3,
    error:
      /predict-st-truncated\/model\.safetensors: safetensors header length \d+ is larger than the file \(1000 bytes\)/,
  },
  {
    name: 'predict with a hub id offline and an empty cache',
    cmd: 'predict',
    env: (c) => ({ HF_HUB_CACHE: path.join(c.work, 'empty-hub-cache') }),
    args: (c) => predict(c, 'some-org/some-model', fx('good.csv'), '--offline'),
    code: 2,
    error: 'some-org/some-model@main: not in the local cache',
  },
  {
    name: 'predict on a run whose manifest.json is not JSON',
    cmd: 'predict',
    args: (c) =>
      predict(
        c,
        runCopy(c, 'run-bad-manifest', (d) => writeFileSync(path.join(d, 'manifest.json'), '{"max_length": 24,')),
        fx('good.csv'),
      ),
    code: 3,
    error: 'run-bad-manifest/manifest.json: not valid JSON (',
  },
  {
    name: 'predict on a run whose manifest names an unknown truncation',
    cmd: 'predict',
    args: (c) =>
      predict(
        c,
        runCopy(c, 'run-bad-truncation', (d) => {
          writeFileSync(
            path.join(d, 'manifest.json'),
            JSON.stringify({ ...json(path.join(d, 'manifest.json')), truncation: 'middle' }),
          );
        }),
        fx('good.csv'),
      ),
    code: 3,
    error: 'run-bad-truncation/manifest.json: truncation must be one of longest_first, only_second, got "middle"',
  },
  {
    name: 'predict with --top-k 0',
    cmd: 'predict',
    args: (c) => predict(c, c.run, fx('good.csv'), '--top-k', '0'),
    code: 2,
    error: 'predict.top_k: expected a positive integer, got 0',
  },

  // ---------------------------------------------------------------- eval
  {
    name: 'a quality gate that fails',
    cmd: 'eval',
    args: (c) => [
      'eval',
      '--run',
      c.run,
      '--data',
      c.ds,
      '--backend',
      'tensorflow',
      '--max',
      'loss=0.0001',
      '--no-progress',
    ],
    code: 1,
    error: 'quality gate failed',
  },
  {
    name: 'eval on a truncated test shard',
    cmd: 'eval',
    args: (c) => [
      'eval',
      '--run',
      c.run,
      '--data',
      datasetCopy(c, 'ds-truncated-test', (d) => rewrite(path.join(d, 'test.arrow'), (b) => b.subarray(0, 300))),
      '--backend',
      'tensorflow',
      '--no-progress',
    ],
    code: 3,
    error: 'ds-truncated-test/test.arrow: not a readable',
  },
  {
    name: 'eval on a test shard whose input_ids column has another type',
    cmd: 'eval',
    args: (c) => [
      'eval',
      '--run',
      c.run,
      '--data',
      datasetCopy(c, 'ds-ids-type', (d) => {
        // One int32 per row instead of a list of token ids (read as a list, a bare TypeError).
        const file = path.join(d, 'test.arrow');
        const shard = tableFromIPC(readFileSync(file));
        const ids = Int32Array.from({ length: shard.numRows }, () => 101);
        writeFileSync(file, tableToIPC(shard.assign(tableFromArrays({ input_ids: ids })), 'file'));
      }),
      '--backend',
      'tensorflow',
      '--no-progress',
    ],
    code: 3,
    error:
      'ds-ids-type/test.arrow: column "input_ids" is Int32, expected List<Int32> (not a recsys dataset shard); ' +
      're-run recsys prepare',
  },
  {
    name: 'eval on a dataset with other labels than the run',
    cmd: 'eval',
    args: (c) => ['eval', '--run', c.run, '--data', c.ds2, '--backend', 'tensorflow', '--no-progress'],
    code: 3,
    error: /ds-2labels was prepared differently from the data .* was trained on/,
    details: 1,
  },
];

let base: Omit<Ctx, 'out'>;

beforeAll(async () => {
  const work = tempDir('recsys-bad-');
  const ds = path.join(work, 'ds');
  const dsOtherTokenizer = path.join(work, 'ds-other-tokenizer');
  const ds2 = path.join(work, 'ds-2labels');
  const run = path.join(work, 'run');
  const tiny = path.join(work, 'tiny.json');
  writeFileSync(
    tiny,
    JSON.stringify({
      model_type: 'bert',
      vocab_size: 30522,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 32,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      initializer_range: 0.02,
    }),
  );
  const smallVocab = path.join(work, 'small-vocab.txt');
  writeFileSync(smallVocab, `${readFileSync(vocabPath, 'utf8').split('\n').slice(0, 5000).join('\n')}\n`);
  const twoLabels = path.join(work, 'two-labels.csv');
  writeFileSync(
    twoLabels,
    'text,label\n' +
      Array.from({ length: 40 }, (_, i) => `${i % 2 ? 'running shoes' : 'phone case'} ${i},${i % 2}\n`).join(''),
  );
  const must = async (args: string[]) => {
    const r = await runCliAsync(args);
    if (r.code !== 0) throw new Error(`setup failed: recsys ${args.join(' ')}\n${r.stderr}`);
  };
  const prepare = (input: string, out: string, tokenizer: string) =>
    must([
      'prepare',
      '--input',
      input,
      '--tokenizer',
      tokenizer,
      '--out',
      out,
      '--max-length',
      '24',
      '--stratify',
      '--no-progress',
    ]);
  await Promise.all([
    prepare(fx('good.csv'), ds, vocabPath),
    prepare(fx('good.csv'), dsOtherTokenizer, smallVocab),
    prepare(twoLabels, ds2, vocabPath),
  ]);
  await must([
    'train',
    '--data',
    ds,
    '--model',
    tiny,
    '--out',
    run,
    '--backend',
    'tensorflow',
    '--max-steps',
    '1',
    '--no-progress',
  ]);
  base = { work, ds, dsOtherTokenizer, ds2, model: path.join(run, 'model'), run, tiny };
});

describe('bad-input corpus', () => {
  it('has at least 40 cases across commands', () => {
    const byCmd: Record<string, number> = {};
    for (const c of cases) byCmd[c.cmd] = (byCmd[c.cmd] ?? 0) + 1;
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(byCmd).sort()).toEqual(['config', 'eval', 'predict', 'prepare', 'train']);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  const runCase = async (bc: BadCase, i: number) => {
    const c: Ctx = { ...base, out: path.join(base.work, `case-${i}`) };
    bc.setup?.(c);
    const r = await runCliAsync(bc.args(c), { env: bc.env?.(c) });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(bc.code);
    if (bc.verbose) {
      expect(r.stderr).toMatch(STACK_FRAME);
      if (bc.error) expect(r.stderr).toContain(typeof bc.error === 'string' ? bc.error : '');
    } else if (bc.code !== 0) {
      expectOneLineError(r, bc.error!, bc.details ?? 0);
    } else {
      expect(r.stderr).not.toContain('recsys: error:');
      expect(r.stderr).not.toMatch(STACK_FRAME);
    }
    if (bc.cmd === 'prepare') {
      if (bc.code === 0) {
        const { rejects } = expectRowsAccounted(c.out);
        if (bc.rejects) expect(rejects.map((x) => [Number(x.row), x.reason])).toEqual(bc.rejects);
      } else {
        expectNoPartialDataset(c.out);
        if (bc.rejects) {
          const rejects = readRejects(path.join(c.out, 'rejects.csv'));
          expect(rejects.map((x) => [Number(x.row), x.reason])).toEqual(bc.rejects);
        }
      }
    }
    bc.check?.(c, r);
  };
  const indexed = cases.map((c, i) => [c.name, c, i] as const);
  it.concurrent.each(indexed)('%s', (_name, bc, i) => runCase(bc, i));
});
