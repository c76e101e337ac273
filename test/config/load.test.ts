import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';
import { runCli, tempDir } from '../helpers/cli.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config pipeline', () => {
  it('fills defaults', () => {
    const c = loadConfig();
    expect(c.data.max_length).toBe(128);
    expect(c.train.lr).toBe(5e-5);
    expect(c.data.split).toEqual([0.8, 0.1, 0.1]);
  });

  it('merges files in order, then --set overrides, typed', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a.yaml'), 'data:\n  max_length: 64\n  text_column: q\ntrain:\n  lr: 1e-4\n');
    writeFileSync(path.join(dir, 'b.yaml'), 'data:\n  max_length: 32\n');
    const c = loadConfig({
      files: [path.join(dir, 'a.yaml'), path.join(dir, 'b.yaml')],
      sets: ['train.epochs=5', 'data.stratify=true', 'data.split=[0.7,0.2,0.1]'],
    });
    expect(c.data.max_length).toBe(32);
    expect(c.data.text_column).toBe('q');
    expect(c.train.lr).toBe(1e-4);
    expect(c.train.epochs).toBe(5);
    expect(c.data.stratify).toBe(true);
    expect(c.data.split).toEqual([0.7, 0.2, 0.1]);
  });

  it('resolves paths in YAML against the YAML file, and flags against the cwd', () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'c.yaml'),
      'data:\n  input: ../data/x.csv\ntokenizer:\n  path: vocab.txt\nmodel:\n  path: ' +
        'google/bert_uncased_L-2_H-128_A-2\n',
    );
    const c = loadConfig({ files: [path.join(dir, 'c.yaml')], sets: ['data.out=rel/out'], cwd: '/somewhere' });
    expect(c.data.input).toBe(path.resolve(dir, '../data/x.csv'));
    expect(c.tokenizer.path).toBe(path.join(dir, 'vocab.txt'));
    expect(c.data.out).toBe('/somewhere/rel/out');
    expect(c.model.path).toBe('google/bert_uncased_L-2_H-128_A-2'); // a hub id stays as it is
  });

  it('reports every problem at once, with dotted paths, expectations and "did you mean"', () => {
    const p = problems(() =>
      loadConfig({
        sets: [
          'data.max_length=abc',
          'data.max_lenght=3',
          'train.lr=-1',
          'backend=gpu',
          'train.batch_size=0',
          'trian.epochs=1',
        ],
      }),
    );
    expect(p).toEqual(
      expect.arrayContaining([
        'data.max_length: expected a positive integer, got "abc"',
        expect.stringMatching(/^data\.max_lenght: unknown key \(did you mean "max_length"\?\)/),
        'train.lr: expected a positive number, got -1',
        'backend: expected one of auto | tensorflow | wasm | cpu, got "gpu"',
        'train.batch_size: expected a positive integer, got 0',
        expect.stringMatching(/^trian: unknown key \(did you mean "train"\?\)/),
      ]),
    );
    expect(p).toHaveLength(6);
  });

  it('fails fast on YAML that does not parse and on alias bombs', () => {
    const dir = tempDir();
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'data:\n  max_length: [1, 2\n');
    expect(problems(() => loadConfig({ files: [broken] }))[0]).toMatch(/broken\.yaml:\d+:\d+: YAML does not parse/);
    const bomb = path.join(dir, 'bomb.yaml');
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    writeFileSync(bomb, `${levels.join('\n')}\n`);
    const t0 = Date.now();
    expect(problems(() => loadConfig({ files: [bomb] }))[0]).toMatch(/bomb\.yaml: .*alias/i);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('recsys config (CLI)', () => {
  it('render prints the resolved config; bad keys exit 2 with every problem', () => {
    const ok = runCli(['config', 'render', '--json', '--set', 'data.max_length=64']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).data.max_length).toBe(64);
    const bad = runCli(['config', 'render', '--set', 'data.max_length=abc', '--set', 'data.foo=1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('data.max_length: expected a positive integer, got "abc"');
    expect(bad.stderr).toContain('data.foo: unknown key');
  });

  it('schema prints a JSON Schema generated from the same definition', () => {
    const r = runCli(['config', 'schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.properties.data.properties.max_length).toMatchObject({ type: 'integer', default: 128 });
    expect(schema.properties.data.additionalProperties).toBe(false);
    expect(schema.properties.backend.enum).toEqual(['auto', 'tensorflow', 'wasm', 'cpu']);
  });
});
