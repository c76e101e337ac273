import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { targetSpecOf, targetsOf } from '../../src/data/targets.js';
import { runCli, tempDir, vocabPath } from '../helpers/cli.js';

const config = (task: string, data: Record<string, unknown>) => configSchema.parse({ task, data });

describe('regression and multi-label targets', () => {
  it('regression: one or several numeric columns; a non-number is a reject naming the column', () => {
    const spec = targetSpecOf(config('regression', { label_columns: ['rating', 'fav'] }))!;
    expect(spec.read({ rating: '4.5', fav: 0.25 })).toEqual({ ok: true, key: '4.5,0.25' });
    expect(spec.read({ rating: 'great', fav: 1 })).toEqual({
      ok: false,
      reason: 'non-numeric regression target (column "rating")',
    });
    expect(spec.read({ rating: '', fav: 1 })).toEqual({
      ok: false,
      reason: 'missing regression target (column "rating")',
    });
    expect(Array.from(targetsOf(spec, ['rating', 'fav'])('4.5,0.25'))).toEqual([4.5, 0.25]);
  });

  it('multi-label: "a|b" in one column (custom separator, empty = none) or one 0/1 column per label', () => {
    const one = targetSpecOf(config('multi_label_classification', { label_column: 'cats', label_separator: ';' }))!;
    expect(one.read({ cats: ' kids ; gift;kids' })).toEqual({ ok: true, key: 'gift\nkids' });
    expect(one.read({ cats: '' })).toEqual({ ok: true, key: '' });
    expect(Array.from(targetsOf(one, ['eco', 'gift', 'kids'])('gift\nkids'))).toEqual([0, 1, 1]);
    const cols = targetSpecOf(config('multi_label_classification', { label_columns: ['eco', 'kids'] }))!;
    expect(cols.read({ eco: '1', kids: 0 })).toEqual({ ok: true, key: 'eco' });
    expect(cols.read({ eco: 2, kids: 0 })).toEqual({ ok: false, reason: 'expected 0 or 1 (column "eco")' });
  });

  it('refuses settings that do not fit the task, by key', () => {
    expect(() => targetSpecOf(config('single_label_classification', { label_columns: ['a'] }))).toThrow(
      'data.label_columns: only for task regression or multi_label_classification',
    );
    expect(() => targetSpecOf(config('regression', { stratify: true }))).toThrow(
      'data.stratify: a regression target has no classes to stratify by; set it to false',
    );
  });

  it('prepare writes a float targets column for 0/1 label columns', () => {
    const dir = tempDir('recsys-targets-');
    const input = path.join(dir, 'in.csv');
    const rows = Array.from({ length: 40 }, (_, i) => `item number ${i},${i % 2},${i % 3 === 0 ? 1 : 0}`);
    writeFileSync(input, `text,eco,kids\n${rows.join('\n')}\n`);
    const yaml = path.join(dir, 'c.yaml');
    writeFileSync(yaml, 'task: multi_label_classification\ndata:\n  label_columns: [eco, kids]\n');
    const out = path.join(dir, 'ds');
    const r = runCli(['prepare', '-c', yaml, '--input', input, '--out', out, '--tokenizer', vocabPath, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m.task).toBe('multi_label_classification');
    expect(m.labels).toEqual(['eco', 'kids']);
    const t = tableFromIPC(readFileSync(path.join(out, 'train.arrow')));
    const first = t.get(0)!.toJSON() as { row: bigint; targets: { toArray(): Float32Array } };
    const i = Number(first.row) - 1;
    expect(Array.from(first.targets.toArray())).toEqual([i % 2, i % 3 === 0 ? 1 : 0]);
    const positives =
      m.splits.train.label_counts.eco + m.splits.validation.label_counts.eco + m.splits.test.label_counts.eco;
    expect(positives).toBe(20);
  });
});
