import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, UsageError } from '../../src/lib/errors.js';
import { readJsonFile, readJsonObject } from '../../src/lib/json-file.js';
import { tempDir } from '../helpers/cli.js';

describe('readJsonFile / readJsonObject', () => {
  const dir = tempDir('recsys-json-');
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('parses a JSON file', () => {
    expect(readJsonFile(file('ok.json', '[1, 2]'))).toEqual([1, 2]);
    expect(readJsonObject(file('obj.json', '{"a": 1}'))).toEqual({ a: 1 });
  });

  it('names the file when it is not JSON, as a data error by default', () => {
    const f = file('torn.json', '{"step": 1,');
    expect(() => readJsonFile(f)).toThrow(DataError);
    expect(() => readJsonFile(f)).toThrow(
      new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON \\(`),
    );
  });

  it('raises the error class the caller asks for (a tokenizer given on the command line is a usage error)', () => {
    const f = file('bad-tokenizer.json', 'nope');
    expect(() => readJsonFile(f, UsageError)).toThrow(UsageError);
  });

  it('reports a missing file and a directory in one line naming them', () => {
    expect(() => readJsonFile(path.join(dir, 'absent.json'))).toThrow(`${path.join(dir, 'absent.json')}: missing`);
    const sub = path.join(dir, 'a-dir.json');
    mkdirSync(sub);
    expect(() => readJsonFile(sub)).toThrow(`${sub}: cannot be read (EISDIR)`);
  });

  it.each([
    ['null', 'null'],
    ['an array', '[]'],
    ['a number', '3'],
  ])('readJsonObject refuses %s', (_what, text) => {
    const f = file(`not-object-${text}.json`, text);
    expect(() => readJsonObject(f)).toThrow(`${f}: expected a JSON object`);
  });
});
