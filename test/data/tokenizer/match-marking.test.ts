import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MATCH_MARKING_KEY, matchKey, matchKeys } from '../../../src/data/tokenizer/match-marking.js';
import { loadModelDirTokenizer, loadTokenizer } from '../../../src/data/tokenizer/index.js';
import { repoRoot, tempDir, vocabPath } from '../../helpers/cli.js';

/**
 * Exact-match marking: [unused0] before each word of one text of a pair that the other text has, and
 * nothing else changes: the ids without the markers are the unmarked tokenizer's, on every pair of the
 * sample shop and on text with punctuation, accents, digits and CJK.
 */

const vocab = readFileSync(vocabPath, 'utf8').split('\n');
const plain = loadTokenizer({ path: vocabPath, lowercase: true, stripAccents: null });
const marking = loadTokenizer({ path: vocabPath, lowercase: true, stripAccents: null, markMatches: true });
const MARKER = vocab.indexOf('[unused0]');
const tokens = (ids: number[]) => ids.map((i) => vocab[i]);

describe('exact-match marking', () => {
  it('compares words lower-cased with a plural -s dropped', () => {
    expect(['Blocks', 'block', 'PIECES', 'glass', 'bus', 'lens'].map(matchKey)).toEqual([
      'block',
      'block',
      'piece',
      'glass',
      'bus',
      'len',
    ]);
    expect([...matchKeys('Set, 500 Pieces – café/1000mAh')]).toEqual(['set', '500', 'piece', 'café', '1000mah']);
  });

  it('puts the marker before every shared word, in both texts, and keeps single texts unmarked', () => {
    const enc = marking.encode(
      'block set 1000 pieces',
      'Wonderkin 500 Pieces Building Blocks Set, City',
      64,
      'longest_first',
    )!;
    expect(tokens(enc.ids)).toEqual([
      '[CLS]',
      '[unused0]',
      'block',
      '[unused0]',
      'set',
      '1000',
      '[unused0]',
      'pieces',
      '[SEP]',
      'wonder',
      '##kin',
      '500',
      '[unused0]',
      'pieces',
      'building',
      '[unused0]',
      'blocks',
      '[unused0]',
      'set',
      ',',
      'city',
      '[SEP]',
    ]);
    expect(enc.ids.filter((i) => i === MARKER)).toHaveLength(6);
    expect(enc.typeIds.indexOf(1)).toBe(enc.ids.indexOf(vocab.indexOf('[SEP]')) + 1);
    expect(marking.encode('block set', undefined, 64, 'longest_first')).toEqual(
      plain.encode('block set', undefined, 64, 'longest_first'),
    );
  });

  it('without the markers, the ids are the unmarked ones on every sample pair and on awkward text', () => {
    const rows = readFileSync(path.join(repoRoot, 'data/pairs.csv'), 'utf8').trim().split('\n').slice(1, 3001);
    const pairs: [string, string][] = rows.map((r) => {
      const cells = r.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, ''));
      return [cells[1], cells[3]];
    });
    pairs.push(
      ["Kid's café-set, 2x (größe M)", 'KIDS CAFÉ SET größe m'],
      ['手机壳 iPhone15 case', 'iphone15 手机壳 — Case!!'],
      ['usb_c cable 1.5m', 'USB-C Cable, 1.5 m'],
      ['[SEP] tokens', 'a [SEP] inside'],
    );
    let marked = 0;
    for (const [a, b] of pairs) {
      const m = marking.encode(a, b, 512, 'longest_first')!;
      const p = plain.encode(a, b, 512, 'longest_first')!;
      const kept = m.ids.map((id, i) => [id, m.typeIds[i]]).filter(([id]) => id !== MARKER);
      expect(kept.map(([id]) => id)).toEqual(p.ids);
      expect(kept.map(([, t]) => t)).toEqual(p.typeIds);
      marked += m.ids.length - p.ids.length;
    }
    expect(marked).toBeGreaterThan(3000); // most sample pairs share words
  });

  it('truncates after marking, as the model sees the pair', () => {
    const a = 'red shoes red shoes red shoes';
    const b = 'Red Shoes';
    const m = marking.encode(a, b, 8, 'longest_first')!;
    expect(tokens(m.ids)).toEqual(['[CLS]', '[unused0]', 'red', '[unused0]', '[SEP]', '[unused0]', 'red', '[SEP]']);
    expect(m.fullLength).toBe(3 + 12 + 4);
  });

  it('is saved with the tokenizer: its dir marks and hashes alike, and differs from the unmarked one', () => {
    const dir = tempDir('recsys-marking-');
    mkdirSync(path.join(dir, 'tok'));
    for (const [name, text] of Object.entries(marking.files())) writeFileSync(path.join(dir, 'tok', name), text);
    expect(JSON.parse(readFileSync(path.join(dir, 'tok/tokenizer_config.json'), 'utf8'))[MATCH_MARKING_KEY]).toBe(true);
    const reloaded = loadModelDirTokenizer(path.join(dir, 'tok'));
    expect(reloaded.marksMatches).toBe(true);
    expect(reloaded.sha256).toBe(marking.sha256);
    expect(marking.sha256).not.toBe(plain.sha256);
    expect(plain.marksMatches).toBe(false);
    // An unmarked dir asked to mark is the same tokenizer as the saved marking one.
    mkdirSync(path.join(dir, 'plain'));
    for (const [name, text] of Object.entries(plain.files())) writeFileSync(path.join(dir, 'plain', name), text);
    expect(loadModelDirTokenizer(path.join(dir, 'plain'), true).sha256).toBe(marking.sha256);
  });

  it('refuses a vocabulary without [unused0], naming the file', () => {
    const dir = tempDir('recsys-marking-');
    const file = path.join(dir, 'vocab.txt');
    writeFileSync(file, `${vocab.filter((t) => t !== '[unused0]').join('\n')}\n`);
    expect(() => loadTokenizer({ path: file, lowercase: true, stripAccents: null, markMatches: true })).toThrow(
      `${file}: tokenizer.mark_matches needs a [unused0] token in the vocabulary`,
    );
  });
});
