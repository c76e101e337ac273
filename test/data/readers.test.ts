import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSource, type SourceRow } from '../../src/data/readers/index.js';
import { tempDir } from '../helpers/cli.js';

async function readAll(file: string): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  for await (const r of openSource(file, 'auto').rows()) rows.push(r);
  return rows;
}

function write(name: string, content: string | Buffer): string {
  const file = path.join(tempDir(), name);
  writeFileSync(file, content);
  return file;
}

describe('CSV reader', () => {
  it('handles BOM, CRLF, quoted fields with commas, quotes and embedded newlines', async () => {
    const file = write('a.csv', '\ufefftext,label\r\n"hello, world",a\r\n"say ""hi""\r\nsecond line",b\r\nplain,c\r\n');
    const rows = await readAll(file);
    expect(rows.map((r) => r.values)).toEqual([
      { text: 'hello, world', label: 'a' },
      { text: 'say "hi"\r\nsecond line', label: 'b' },
      { text: 'plain', label: 'c' },
    ]);
    expect(rows.map((r) => r.row)).toEqual([1, 2, 3]);
    expect(rows[0].line).toBe(2);
  });

  it('rejects rows with a wrong column count or invalid UTF-8, and keeps going', async () => {
    const file = write(
      'b.csv',
      Buffer.concat([
        Buffer.from('text,label\nok,a\ntoo,many,cols\nbad'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from(',b\nlast,c\n'),
      ]),
    );
    const rows = await readAll(file);
    expect(rows.map((r) => r.error ?? 'ok')).toEqual([
      'ok',
      'expected 2 columns, found 3',
      'invalid UTF-8 in column "text"',
      'ok',
    ]);
  });

  it('reads TSV', async () => {
    const rows = await readAll(write('c.tsv', 'text\tlabel\na, b\tx\n'));
    expect(rows[0].values).toEqual({ text: 'a, b', label: 'x' });
  });

  it('a broken quote is a one-line error naming the file and line', async () => {
    const file = write('d.csv', 'text,label\nok,a\n"unclosed,b\nmore,c\n');
    await expect(readAll(file)).rejects.toThrow(/d\.csv:\d+: CSV does not parse: .*opening quote/);
  });

  it('an empty file and a missing file are one-line errors', () => {
    expect(() => openSource(write('e.csv', ''), 'auto')).toThrow(/e\.csv: empty file/);
    expect(() => openSource('/nonexistent/x.csv', 'auto')).toThrow(/x\.csv: input file not found/);
  });
});

describe('JSONL reader', () => {
  it('reads objects, skips blank lines, rejects lines that are not JSON objects', async () => {
    const rows = await readAll(write('a.jsonl', '{"text":"a","label":1}\n\nnot json\n[1,2]\r\n{"text":"b","label":2}'));
    expect(rows.map((r) => r.error ?? r.values)).toEqual([
      { text: 'a', label: 1 },
      expect.stringMatching(/^not valid JSON/),
      'expected a JSON object',
      { text: 'b', label: 2 },
    ]);
    expect(rows.map((r) => r.line)).toEqual([1, 3, 4, 5]);
  });
});
