import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { CHUNK_ROWS } from '../../src/data/tokenize-pool.js';
import { Rng } from '../../src/lib/rng.js';
import { runCli, tempDir, vocabPath } from '../helpers/cli.js';

const field = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * A messy query/title CSV: non-ASCII and long texts (truncated), pairs whose first text alone is
 * too long (rejected in pass 2, after tokenizing), and every pass-1 reject kind — spread over
 * several chunks so that rows of one chunk finish on different workers.
 */
function messyCsv(rows: number): Buffer {
  const words = ['red', 'Wireless', 'café', 'über-cheap', '👍', '<br />', '&amp;', 'USB-C', '12oz', '质量', 'runnning'];
  const parts: Buffer[] = [Buffer.from('id,query,title,label\n')];
  const rng = new Rng(7);
  const rnd = (n: number) => rng.int(n);
  const text = (n: number) => Array.from({ length: n }, () => words[rnd(words.length)] + rnd(50)).join(' ');
  for (let i = 0; i < rows; i++) {
    const kind = rnd(40);
    const label = ['shoes', 'phones', 'toys'][rnd(3)];
    let line: string;
    if (kind === 0) line = `p${i},,${field(text(3))},${label}`;
    else if (kind === 1) line = `p${i},${field(text(2))},${field(text(2))},`;
    else if (kind === 2) line = `p${i},${field(text(2))},x,y,${label}`;
    else if (kind === 3)
      line = `p${i},${field(text(200))},${field(text(5))},${label}`; // only_second cannot fit
    else if (kind === 4) {
      parts.push(Buffer.from(`p${i},bad `), Buffer.from([0xc3, 0x28]), Buffer.from(`,t,${label}\n`));
      continue;
    } else line = `p${i},${field(text(1 + rnd(kind < 8 ? 60 : 8)))},${field(text(1 + rnd(30)))},${label}`;
    parts.push(Buffer.from(`${line}\n`));
  }
  return Buffer.concat(parts);
}

const args = (input: string, out: string, workers: number) => [
  'prepare',
  ...['--input', input, '--text-column', 'query', '--pair-column', 'title', '--label-column', 'label'],
  ...['--id-column', 'id', '--tokenizer', vocabPath, '--max-length', '48', '--truncation', 'only_second'],
  ...['--max-bad-rows', '100000', '--out', out, '--set', `data.workers=${workers}`],
];

function expectSameDataset(a: string, b: string): void {
  const files = readdirSync(a).sort();
  expect(readdirSync(b).sort()).toEqual(files);
  for (const f of ['train.arrow', 'validation.arrow', 'test.arrow', 'rejects.csv'])
    expect(readFileSync(path.join(b, f)).equals(readFileSync(path.join(a, f))), f).toBe(true);
  const manifest = (d: string) => ({ ...JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8')), created: 0 });
  expect(manifest(b)).toEqual(manifest(a));
}

describe('prepare on worker threads', () => {
  it('writes the same shards, manifest and rejects as one thread, through the bin', () => {
    const dir = tempDir();
    const input = path.join(dir, 'messy.csv');
    writeFileSync(input, messyCsv(7000)); // above the size where prepare starts workers (512 KiB)
    const one = runCli(args(input, path.join(dir, 'one'), 1));
    expect(one.code, one.stderr).toBe(0);
    const rejects = readFileSync(path.join(dir, 'one', 'rejects.csv'), 'utf8');
    expect(rejects).toMatch(/only_second truncation cannot fit the pair/);
    expect(rejects).toMatch(/invalid UTF-8 in column ""query""/);
    expect(rejects).toMatch(/expected 4 columns, found 5/);
    const three = runCli(args(input, path.join(dir, 'three'), 3));
    expect(three.code, three.stderr).toBe(0);
    expectSameDataset(path.join(dir, 'one'), path.join(dir, 'three'));
  });

  it('loads its workers from the TypeScript sources in-process too, with a partial last chunk', async () => {
    const dir = tempDir();
    const input = path.join(dir, 'messy.csv');
    writeFileSync(input, messyCsv(CHUNK_ROWS * 3 + 17));
    const config = (workers: number, out: string) =>
      loadConfig({
        sets: [
          `data.input=${input}`,
          'data.text_column=query',
          'data.pair_column=title',
          'data.id_column=id',
          'data.truncation=only_second',
          'data.max_length=48',
          'data.max_bad_rows=100000',
          `data.workers=${workers}`,
          `data.out=${out}`,
          `tokenizer.path=${vocabPath}`,
        ],
      });
    const a = await prepareDataset(config(1, path.join(dir, 'a')), { minBytesForWorkers: 0 });
    const b = await prepareDataset(config(2, path.join(dir, 'b')), { minBytesForWorkers: 0 });
    expect(b.rows).toEqual(a.rows);
    expect(a.rows.rejected).toBeGreaterThan(0);
    expectSameDataset(path.join(dir, 'a'), path.join(dir, 'b'));
  });
});
