import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { DatasetManifest } from '../../src/data/manifest.js';
import { repoRoot, runCli, tempDir, vocabPath } from '../helpers/cli.js';
import { runPython } from '../helpers/python.js';

const readTable = (file: string) => tableFromIPC(readFileSync(file));
const manifestOf = (dir: string): DatasetManifest => JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

function csv(rows: string[][]): string {
  const field = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return `${rows.map((r) => r.map(field).join(',')).join('\n')}\n`;
}

function sampleRows(n: number, seed = 1): string[][] {
  const labels = ['shoes', 'phones', 'kitchen', 'toys'];
  const words = ['red', 'blue', 'cheap', 'wireless', 'kids', 'steel', 'running', 'case', 'set', 'pro', 'mini', 'usb'];
  const rows = [['query_id', 'query', 'title', 'label']];
  let x = seed;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  for (let i = 0; i < n; i++) {
    const label = labels[Math.floor(rnd() * rnd() * labels.length)]; // imbalanced
    const q = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => words[Math.floor(rnd() * words.length)]).join(
      ' ',
    );
    rows.push([`q${Math.floor(i / 3)}`, `${q} ${label}`, `${label} ${q} product title number ${i}`, label]);
  }
  return rows;
}

function prepareArgs(input: string, out: string, extra: string[] = []): string[] {
  return [
    'prepare',
    '--input',
    input,
    '--text-column',
    'query',
    '--label-column',
    'label',
    '--tokenizer',
    vocabPath,
    '--max-length',
    '32',
    '--out',
    out,
    ...extra,
  ];
}

describe('recsys prepare', () => {
  it('writes Arrow shards per split that pyarrow-compatible readers load, with a manifest', () => {
    const dir = tempDir();
    const input = path.join(dir, 'q.csv');
    writeFileSync(input, csv(sampleRows(500)));
    const out = path.join(dir, 'ds');
    const r = runCli(prepareArgs(input, out, ['--stratify', '--json']));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m.rows).toEqual({ read: 500, written: 500, rejected: 0 });
    expect(m.labels).toEqual(['kitchen', 'phones', 'shoes', 'toys']);
    let total = 0;
    for (const split of ['train', 'validation', 'test']) {
      const t = readTable(path.join(out, `${split}.arrow`));
      expect(t.numRows).toBe(m.splits[split].rows);
      total += t.numRows;
      expect(t.schema.fields.map((f) => f.name)).toEqual(['input_ids', 'token_type_ids', 'label', 'length', 'row']);
      const first = t.get(0)!.toJSON();
      expect(first.input_ids.toArray()[0]).toBe(101);
      expect(first.length).toBe(first.input_ids.length);
    }
    expect(total).toBe(500);
    expect(Math.abs(m.splits.train.rows - 400)).toBeLessThanOrEqual(2); // per-label rounding
    // stratified: every split's label shares are within a row or two of the whole
    for (const split of ['validation', 'test']) {
      for (const label of m.labels) {
        const share = m.splits[split].label_counts[label] / m.splits[split].rows;
        const whole =
          (m.splits.train.label_counts[label] +
            m.splits.validation.label_counts[label] +
            m.splits.test.label_counts[label]) /
          500;
        expect(Math.abs(share - whole)).toBeLessThan(0.03);
      }
    }
    expect(existsSync(path.join(out, 'tokenizer/tokenizer.json'))).toBe(true);
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('prepares the MovieLens titles (title → genre) into shards pyarrow reads with the right row counts', () => {
    const input = path.resolve(repoRoot, '../shared/data/movielens_titles.csv');
    // The real dataset is not redistributed with the repo; the environment provides it beside the checkout.
    expect(
      existsSync(input),
      `${input} not found: the MovieLens titles are expected in ../shared/data beside the checkout`,
    ).toBe(true);
    const out = path.join(tempDir(), 'ml');
    const r = runCli([
      'prepare',
      '--input',
      input,
      '--text-column',
      'title',
      '--label-column',
      'genre',
      '--tokenizer',
      vocabPath,
      '--max-length',
      '32',
      '--stratify',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m.rows.written).toBe(9066);
    expect(m.labels).toHaveLength(19); // 19 distinct first-listed genres, "(no genres listed)" included
    const counts = JSON.parse(
      runPython(
        'import sys, json, pyarrow.ipc as ipc\n' +
          'print(json.dumps({s: ipc.open_file(f"{sys.argv[1]}/{s}.arrow").read_all().num_rows for s ' +
          'in ["train","validation","test"]}))',
        [out],
      ),
    );
    expect(counts).toEqual({
      train: m.splits.train.rows,
      validation: m.splits.validation.rows,
      test: m.splits.test.rows,
    });
  });

  it('is deterministic for a seed, and another seed gives another split', () => {
    const dir = tempDir();
    const input = path.join(dir, 'q.csv');
    writeFileSync(input, csv(sampleRows(300)));
    const hashes = (out: string) => Object.values(manifestOf(out).splits).map((s) => s.sha256);
    for (const out of ['a', 'b', 'c']) {
      expect(runCli(prepareArgs(input, path.join(dir, out), ['--seed', out === 'c' ? '7' : '42'])).code).toBe(0);
    }
    expect(hashes(path.join(dir, 'a'))).toEqual(hashes(path.join(dir, 'b')));
    expect(hashes(path.join(dir, 'a'))).not.toEqual(hashes(path.join(dir, 'c')));
  });

  it('keeps every group in one split while stratifying by label', () => {
    const dir = tempDir();
    const input = path.join(dir, 'q.csv');
    const rows = sampleRows(900);
    writeFileSync(input, csv(rows));
    const out = path.join(dir, 'ds');
    const r = runCli(prepareArgs(input, out, ['--stratify', '--group-column', 'query_id', '--pair-column', 'title']));
    expect(r.code).toBe(0);
    const groupOfRow = new Map(rows.slice(1).map((row, i) => [i + 1, row[0]]));
    const splitOfGroup = new Map<string, string>();
    for (const split of ['train', 'validation', 'test']) {
      const t = readTable(path.join(out, `${split}.arrow`));
      for (const row of t.getChild('row')!.toArray() as BigInt64Array) {
        const g = groupOfRow.get(Number(row))!;
        expect(splitOfGroup.get(g) ?? split).toBe(split);
        splitOfGroup.set(g, split);
      }
      // pairs: segment B is marked with token type 1
      const types = t.get(0)!.toJSON().token_type_ids.toArray();
      expect(types).toContain(1);
    }
    const m = manifestOf(out);
    expect(m.splits.train!.rows / 900).toBeGreaterThan(0.75);
    expect(m.splits.train!.rows / 900).toBeLessThan(0.85);
  });

  it('rejects bad rows into rejects.csv and fails when there are more than --max-bad-rows', () => {
    const dir = tempDir();
    const input = path.join(dir, 'bad.csv');
    const good = sampleRows(60)
      .slice(1)
      .map((r) => r.join(','));
    const lines = [
      'query_id,query,title,label',
      ...good.slice(0, 20),
      'q1,,empty text,shoes',
      'q1,no label,title,',
      'q2,too,many,columns,here',
      ...good.slice(20),
    ];
    writeFileSync(
      input,
      Buffer.concat([
        Buffer.from(`${lines.join('\n')}\n`),
        Buffer.from('q3,bad '),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(',t,shoes\n'),
      ]),
    );
    const out = path.join(dir, 'ds');
    const failed = runCli(prepareArgs(input, out));
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(
      /bad\.csv: 4 bad row\(s\), more than data.max_bad_rows=0; all are listed in .*rejects\.csv/,
    );
    expect(failed.stderr).toMatch(/row 21 \(line 22\): empty text \(column "query"\)/);
    expect(failed.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect(existsSync(path.join(out, 'manifest.json'))).toBe(false);
    const rejects: string[][] = parse(readFileSync(path.join(out, 'rejects.csv')));
    expect(rejects).toHaveLength(5);
    expect(rejects[0]).toEqual(['row', 'line', 'reason', 'raw']);
    expect(rejects.slice(1).map((l) => l.slice(0, 3).join(','))).toEqual([
      '21,22,empty text (column "query")',
      '22,23,missing label (column "label")',
      '23,24,expected 4 columns, found 5',
      '64,65,invalid UTF-8 in column "query"',
    ]);

    const ok = runCli(prepareArgs(input, out, ['--max-bad-rows', '4', '--json']));
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).rows).toEqual({ read: 64, written: 60, rejected: 4 });
  });

  it('names a missing column, a missing file and a bad option in one line with exit code 2', () => {
    const dir = tempDir();
    const input = path.join(dir, 'q.csv');
    writeFileSync(input, csv(sampleRows(10)));
    const noCol = runCli(prepareArgs(input, path.join(dir, 'o'), ['--label-column', 'category']));
    expect(noCol.code).toBe(2);
    expect(noCol.stderr.trim()).toMatch(
      /^recsys: error: .*q\.csv: column "category" not found; columns are query_id, query, title, label$/,
    );
    const noFile = runCli(prepareArgs(path.join(dir, 'missing.csv'), path.join(dir, 'o')));
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/missing\.csv: input file not found/);
    const badLen = runCli(prepareArgs(input, path.join(dir, 'o'), ['--max-length', 'abc']));
    expect(badLen.code).toBe(2);
    expect(badLen.stderr).toMatch(/data\.max_length: expected a positive integer, got "abc"/);
    const header = path.join(dir, 'header.csv');
    writeFileSync(header, 'query_id,query,title,label\n');
    const headerOnly = runCli(prepareArgs(header, path.join(dir, 'o2')));
    expect(headerOnly.code).toBe(3);
    expect(headerOnly.stderr).toMatch(/header\.csv: no data rows/);
  });

  it('refuses labels that appear in validation/test but not in train (split column)', () => {
    const dir = tempDir();
    const input = path.join(dir, 's.csv');
    writeFileSync(input, 'text,label,split\na,x,train\nb,y,train\nc,z,test\nd,x,validation\n');
    const r = runCli([
      'prepare',
      '--input',
      input,
      '--text-column',
      'text',
      '--label-column',
      'label',
      '--split-column',
      'split',
      '--tokenizer',
      vocabPath,
      '--out',
      path.join(dir, 'o'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/labels present in validation\/test but not in train: "z" \(test\)/);
  });

  it('reads JSONL and Arrow inputs into the same shards as CSV', () => {
    const dir = tempDir();
    const rows = sampleRows(120);
    const header = rows[0];
    writeFileSync(path.join(dir, 'q.csv'), csv(rows));
    writeFileSync(
      path.join(dir, 'q.jsonl'),
      `${rows
        .slice(1)
        .map((r) => JSON.stringify(Object.fromEntries(header.map((h, i) => [h, r[i]]))))
        .join('\n')}\n`,
    );
    expect(runCli(prepareArgs(path.join(dir, 'q.csv'), path.join(dir, 'c'))).code).toBe(0);
    expect(runCli(prepareArgs(path.join(dir, 'q.jsonl'), path.join(dir, 'j'))).code).toBe(0);
    const sha = (d: string) => Object.values(manifestOf(path.join(dir, d)).splits).map((s) => s.sha256);
    expect(sha('j')).toEqual(sha('c'));
    // a dataset's own shard is a valid Arrow input too (columns input_ids…): prepare reads Arrow
    const arrowIn = path.join(dir, 'in.arrow');
    writeFileSync(
      arrowIn,
      tableToIPC(
        tableFromArrays({
          query_id: rows.slice(1).map((r) => r[0]),
          query: rows.slice(1).map((r) => r[1]),
          title: rows.slice(1).map((r) => r[2]),
          label: rows.slice(1).map((r) => r[3]),
        }),
        'file',
      ),
    );
    expect(runCli(prepareArgs(arrowIn, path.join(dir, 'a'))).code).toBe(0);
    expect(sha('a')).toEqual(sha('c'));
  });

  it('never overwrites a dataset made with other settings unless --overwrite', () => {
    const dir = tempDir();
    const input = path.join(dir, 'q.csv');
    writeFileSync(input, csv(sampleRows(50)));
    const out = path.join(dir, 'ds');
    expect(runCli(prepareArgs(input, out)).code).toBe(0);
    expect(runCli(prepareArgs(input, out)).code).toBe(0); // same settings: replaced without asking
    const other = runCli(prepareArgs(input, out, ['--max-length', '16']));
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/holds a dataset prepared with other settings; pass --overwrite/);
    expect(runCli(prepareArgs(input, out, ['--max-length', '16', '--overwrite'])).code).toBe(0);
    expect(manifestOf(out).max_length).toBe(16);
  });

  it('a run killed mid-way leaves no manifest, and a rerun completes cleanly', async () => {
    const dir = tempDir();
    const input = path.join(dir, 'big.csv');
    writeFileSync(input, csv(sampleRows(150_000)));
    const out = path.join(dir, 'ds');
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/recsys.js'), ...prepareArgs(input, out)], {
      stdio: 'ignore',
    });
    // wait until the second pass has started writing shards, then kill -9
    const deadline = Date.now() + 60_000;
    while (
      Date.now() < deadline &&
      !(existsSync(out) && readdirSync(out).some((f) => f.startsWith('.train.arrow.tmp-')))
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(readdirSync(out).some((f) => f.includes('.tmp-'))).toBe(true);
    expect(existsSync(path.join(out, 'manifest.json'))).toBe(false);
    const again = runCli(prepareArgs(input, out, ['--json']));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).rows.written).toBe(150_000);
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
