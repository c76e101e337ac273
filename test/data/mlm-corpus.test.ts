import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mlmCorpus, type MlmCorpusOptions } from '../../src/data/mlm-corpus.js';
import { RECORD_ROWS } from '../../src/data/mlm-shards.js';
import type { Packing } from '../../src/data/mlm-texts.js';
import { readSplitBatches, rowOf } from '../../src/data/split-reader.js';
import { loadTokenizer } from '../../src/data/tokenizer/index.js';
import { epochBatches } from '../../src/train/batches.js';
import { repoRoot, tempDir, vocabPath } from '../helpers/cli.js';
import { readMlmTexts } from '../helpers/mlm-texts-in-memory.js';

/**
 * The pretraining text streamed into Arrow shards (src/data/mlm-corpus.ts) holds exactly the rows the
 * former in-memory reader made, whatever the shard size and thread count; training reads them back
 * with a bounded number of rows in memory; bad rows go to rejects.csv; a second run reuses or refuses it.
 */
const tokenizer = loadTokenizer({ path: vocabPath, lowercase: true, stripAccents: null });
const reviews = path.join(repoRoot, 'data/reviews.csv');

function options(dir: string, over: Partial<MlmCorpusOptions> = {}): MlmCorpusOptions {
  return {
    input: reviews,
    textColumn: 'review',
    maxLength: 32,
    packing: 'group_texts',
    validationShare: 0.05,
    seed: 7,
    tokenizer,
    inputSha256: 'sha-of-input',
    dir,
    shardRows: 700,
    workers: 1,
    maxBadRows: null,
    replace: false,
    ...over,
  };
}

describe('the streamed pretraining corpus', () => {
  for (const packing of ['group_texts', 'one_per_row'] as Packing[])
    it(`${packing}: every row equals the in-memory reader's, across several shards`, async () => {
      const dir = tempDir('recsys-corpus-');
      const corpus = await mlmCorpus(options(dir, { packing }));
      const ref = await readMlmTexts({ ...options(dir, { packing }), format: 'auto' });
      expect(corpus.manifest.splits.train.files.length).toBeGreaterThan(1);
      expect(corpus.train.size).toBe(ref.train.size);
      expect(corpus.validation!.size).toBe(ref.validation!.size);
      expect(corpus.manifest.texts).toMatchObject({ train: ref.texts.train, validation: ref.texts.validation });
      for (let i = 0; i < ref.train.size; i++) expect(corpus.train.ids(i)).toEqual(rowOf(ref.train, i).ids);
      for (let i = 0; i < ref.validation!.size; i++)
        expect(corpus.validation!.ids(i)).toEqual(rowOf(ref.validation!, i).ids);
      const lengths = Int32Array.from({ length: ref.train.size }, (_, i) => rowOf(ref.train, i).ids.length);
      expect(corpus.trainLengths).toEqual(lengths);
      // pyarrow-readable shards with prepare's columns: row numbers as the in-memory split had them
      let at = 0;
      for (const f of corpus.manifest.splits.train.files)
        for await (const b of readSplitBatches(path.join(dir, f))) {
          expect(Array.from(b.rows)).toEqual(Array.from(ref.train.rows.subarray(at, at + b.size)));
          at += b.size;
        }
      expect(at).toBe(ref.train.size);
      corpus.train.close();
      corpus.validation?.close();
    });

  it('tokenizing on 2 worker threads writes the same bytes as on the main thread (both packings)', async () => {
    for (const packing of ['group_texts', 'one_per_row'] as Packing[]) {
      const one = tempDir('recsys-corpus-');
      const two = tempDir('recsys-corpus-');
      const a = await mlmCorpus(options(one, { packing }));
      const b = await mlmCorpus(options(two, { packing, workers: 2, minBytesForWorkers: 0 }));
      const files = readdirSync(one).sort();
      expect(files.length).toBeGreaterThan(3);
      expect(readdirSync(two).sort()).toEqual(files);
      for (const f of files) expect(readFileSync(path.join(two, f)).equals(readFileSync(path.join(one, f)))).toBe(true);
      for (const c of [a, b]) c.train.close();
    }
  });

  it('training reads rows with at most (cached batches × record batch) rows in memory', async () => {
    const dir = tempDir('recsys-corpus-');
    const corpus = await mlmCorpus(options(dir, { maxLength: 16, shardRows: 1000, cachedBatches: 3 }));
    const { train } = corpus;
    const files = corpus.manifest.splits.train.files;
    // the rows are on disk in shards of ≤ shard_rows, not in one file or in memory
    expect(files.length).toBe(Math.ceil(train.size / 1000));
    expect(train.size).toBeGreaterThan(20 * 3 * RECORD_ROWS);
    let onDisk = 0;
    for (const f of files) {
      let rows = 0;
      for await (const b of readSplitBatches(path.join(dir, f))) rows += b.size;
      expect(rows).toBeLessThanOrEqual(1000);
      onDisk += rows;
    }
    expect(onDisk).toBe(train.size);
    // one epoch in the loop's seeded random order, every row read once
    let seen = 0;
    for (const batch of epochBatches(corpus.trainLengths, 8, 1, 0, true))
      for (const i of batch) seen += train.ids(i).length > 0 ? 1 : 0;
    expect(seen).toBe(train.size);
    expect(train.stats.batchesDecoded).toBeGreaterThan(files.length);
    expect(train.stats.maxRowsHeld).toBeLessThanOrEqual(3 * RECORD_ROWS);
    train.close();
  });

  it('bad rows are counted and listed in rejects.csv with a one-line reason; max_bad_rows fails the run', async () => {
    const dir = tempDir('recsys-corpus-');
    const input = path.join(dir, 'text.jsonl');
    const lines = [
      '{"text": "fast delivery, great headphones"}',
      '{"text": ""}',
      '{"other": "no text key"}',
      'not json at all',
      '{"text": 42}',
      '{"text": ["a list"]}',
      '{"text": "the strap broke after a week"}',
    ];
    writeFileSync(input, `${lines.join('\n')}\n`);
    const o = options(path.join(dir, 'corpus'), { input, textColumn: 'text', validationShare: 0 });
    const corpus = await mlmCorpus(o);
    expect(corpus.manifest.texts).toEqual({ train: 3, validation: 0, rejected: 4 });
    const rejects = readFileSync(path.join(o.dir, 'rejects.csv'), 'utf8').trim().split('\n');
    expect(rejects[0]).toBe('row,line,reason,raw');
    expect(rejects.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      '2,2,"empty text (column ""text"")"',
      '3,3,"missing text (column ""text"")"',
      expect.stringMatching(/^4,4,"not valid JSON/),
      '6,6,"text is not a string (column ""text"")"',
    ]);
    corpus.train.close();
    const strict = { ...o, dir: path.join(dir, 'strict'), maxBadRows: 3 };
    await expect(mlmCorpus(strict)).rejects.toThrow(
      `${input}: 4 bad row(s), more than pretrain.max_bad_rows=3; all are listed in ` +
        path.join(strict.dir, 'rejects.csv'),
    );
    expect(readdirSync(strict.dir)).toEqual(['rejects.csv']);
  });

  it('a second run with the same settings reuses the shards; other settings are refused, naming the key', async () => {
    const dir = tempDir('recsys-corpus-');
    const first = await mlmCorpus(options(dir));
    first.train.close();
    const shard = path.join(dir, first.manifest.splits.train.files[0]);
    const written = statSync(shard).mtimeMs;
    const again = await mlmCorpus(options(dir));
    expect(again.reused).toBe(true);
    expect(statSync(shard).mtimeMs).toBe(written);
    again.train.close();
    await expect(mlmCorpus(options(dir, { maxLength: 64 }))).rejects.toThrow(
      `pretrain.corpus_dir: ${dir} holds a corpus tokenized with other settings (max_length 32 there, 64 now); ` +
        'pass --overwrite to replace it or choose another pretrain.corpus_dir',
    );
    const replaced = await mlmCorpus(options(dir, { maxLength: 64, replace: true }));
    expect(replaced.reused).toBe(false);
    expect(replaced.manifest.settings.max_length).toBe(64);
    replaced.train.close();
  });
});
