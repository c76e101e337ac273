import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir, vocabPath } from '../helpers/cli.js';
import { referencePython } from '../helpers/python.js';

/**
 * recsys embed against sentence-transformers (mean, cls; + Normalize) and Hugging Face BertModel's
 * pooler_output (pooler) on small random BERT checkpoints: texts of different lengths in one batch
 * (padding matters) and longer than max_length (truncation matters).
 */

const MAX_LENGTH = 24;
const ROWS = [
  { sku: 'a1', text: 'wireless earbuds with charging case' },
  { sku: 'a2', text: `Café-quality espresso at home — naïve me expected less! ${'really '.repeat(40)}` },
  { sku: 'a3', text: '' },
  { sku: 'a4', text: 'socks' },
  {
    sku: 'a5',
    text: 'stainless steel water bottle for kids, 350 ml, leak proof lid, dishwasher safe, keeps drinks cold all day',
  },
  { sku: 'a6', text: 'usb c cable 2m' },
  { sku: 'a7', text: 'yoga mat non slip extra thick' },
];
const GOOD = ROWS.filter((r) => r.text.trim());

type Reference = Record<string, number[][]>;

const root = tempDir('recsys-embed-');
const input = path.join(root, 'rows.jsonl');
const withPooler = path.join(root, 'bert');
const noPooler = path.join(root, 'bert-no-pooler');
let ref: Reference;
let refNoPooler: Reference;

function reference(modelDir: string, extra: string[] = []): Reference {
  const texts = path.join(root, 'texts.json');
  writeFileSync(texts, JSON.stringify(GOOD.map((r) => r.text)));
  const out = path.join(root, `${path.basename(modelDir)}.json`);
  const script = path.join(repoRoot, 'scripts/st_embed_reference.py');
  const args = [script, modelDir, vocabPath, texts, out, String(MAX_LENGTH), ...extra];
  const r = spawnSync(referencePython(), args, { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`reference failed: ${r.stderr}`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

beforeAll(() => {
  writeFileSync(input, `${ROWS.map((r) => JSON.stringify(r)).join('\n')}\n`);
  ref = reference(withPooler);
  refNoPooler = reference(noPooler, ['--no-pooler']);
}, 300_000);

function embed(model: string, out: string, extra: string[] = []) {
  const args = ['embed', '--model', model, '--input', input, '--text-column', 'text', '--out', out];
  return runCli([...args, '--max-length', String(MAX_LENGTH), '--batch-size', '3', '--backend', 'cpu', ...extra]);
}

function readEmbeddings(out: string) {
  const table = tableFromIPC(readFileSync(path.join(out, 'embeddings.arrow')));
  const vector = table.getChild('vector')!;
  const vectors = Array.from({ length: table.numRows }, (_, i) => Array.from(vector.get(i)!.toArray() as Float32Array));
  return { table, vectors };
}

const maxDiff = (got: number[][], want: number[][]) =>
  Math.max(...got.flatMap((v, i) => v.map((x, d) => Math.abs(x - want[i][d]))));
const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('recsys embed matches sentence-transformers', () => {
  for (const pooling of ['mean', 'cls', 'pooler'] as const) {
    for (const normalize of [true, false]) {
      it(`${pooling} pooling${normalize ? ', L2-normalised' : ', raw'}: vectors within 1e-4`, () => {
        const out = path.join(root, `out-${pooling}-${normalize}`);
        const r = embed(withPooler, out, ['--pooling', pooling, normalize ? '--normalize' : '--no-normalize']);
        expect(r.code, r.stderr).toBe(0);
        const { table, vectors } = readEmbeddings(out);
        const want = ref[pooling + (normalize ? '_normalized' : '')];
        expect(vectors).toHaveLength(GOOD.length);
        expect(table.getChild('vector')!.type.listSize).toBe(64);
        expect(maxDiff(vectors, want)).toBeLessThan(1e-4);
        // The comparison proves something only if rows differ and normalisation changes them.
        expect(Math.abs(want[0][0] - want[1][0]) + Math.abs(want[2][0] - want[3][0])).toBeGreaterThan(1e-3);
        for (const v of vectors) {
          if (normalize) expect(norm(v)).toBeCloseTo(1, 5);
          else expect(Math.abs(norm(v) - 1)).toBeGreaterThan(0.05);
        }
      });
    }
  }

  it('the default is mean pooling, L2-normalised; a BertModel checkpoint without pooler embeds too', () => {
    const out = path.join(root, 'out-default-no-pooler');
    const r = embed(noPooler, out);
    expect(r.code, r.stderr).toBe(0);
    expect(maxDiff(readEmbeddings(out).vectors, refNoPooler.mean_normalized)).toBeLessThan(1e-4);
    // and a mask that counted padding would not match: the short rows share a batch with a truncated one
    expect(maxDiff(readEmbeddings(out).vectors, refNoPooler.cls_normalized)).toBeGreaterThan(1e-2);
  });

  it('--set embed.pooling=cls goes through the config like the flag', () => {
    const out = path.join(root, 'out-set-cls');
    const r = embed(withPooler, out, ['--set', 'embed.pooling=cls', '--set', 'embed.normalize=false']);
    expect(r.code, r.stderr).toBe(0);
    expect(maxDiff(readEmbeddings(out).vectors, ref.cls)).toBeLessThan(1e-4);
  });
});

describe('recsys embed output', () => {
  it('writes ids, rejects and a manifest; without --id-column the key is the 1-based source row', () => {
    const withIds = path.join(root, 'out-ids');
    expect(embed(withPooler, withIds, ['--id-column', 'sku']).code).toBe(0);
    const { table } = readEmbeddings(withIds);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'id:Utf8',
      'vector:FixedSizeList[64]<Float32>',
    ]);
    expect(Array.from(table.getChild('id')!.toArray())).toEqual(GOOD.map((r) => r.sku));
    expect(readFileSync(path.join(withIds, 'rejects.csv'), 'utf8')).toMatch(
      /^row,line,reason,raw\n3,3,"empty or missing text \(column ""text""\)"/,
    );
    const m = JSON.parse(readFileSync(path.join(withIds, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({
      kind: 'embeddings',
      model: { ref: withPooler, kind: 'hf', weights_file: path.join(withPooler, 'model.safetensors') },
      pooling: 'mean',
      normalize: true,
      dimension: 64,
      count: GOOD.length,
      key: { column: 'id', source_column: 'sku' },
      max_length: MAX_LENGTH,
      truncation: 'longest_first',
      rejected: 1,
    });
    expect(m.model.weights_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.tokenizer_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.now() - Date.parse(m.created)).toBeLessThan(600_000);
    expect(readdirSync(withIds).sort()).toEqual(['embeddings.arrow', 'manifest.json', 'rejects.csv']);

    const byRow = path.join(root, 'out-rows');
    expect(embed(withPooler, byRow).code).toBe(0);
    const rows = readEmbeddings(byRow).table;
    expect(`${rows.schema.fields[0].type}`).toBe('Int64');
    expect(Array.from(rows.getChild('row')!.toArray(), Number)).toEqual([1, 2, 4, 5, 6, 7]);
  });

  it('--max-bad-rows: more rejected rows fail the command (exit 3) and leave no embeddings', () => {
    const out = path.join(root, 'out-max-bad');
    const r = embed(withPooler, out, ['--max-bad-rows', '0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/more than embed\.max_bad_rows=0 bad row\(s\)/);
    expect(readdirSync(out)).toEqual(['rejects.csv']);
    expect(embed(withPooler, out, ['--max-bad-rows', '1']).code).toBe(0);
  });

  it('a bad --pooling is a one-line usage error naming the choices', () => {
    const r = embed(withPooler, path.join(root, 'out-bad'), ['--pooling', 'max']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      'recsys: error: embed.pooling: expected one of mean | cls | pooler, got "max"',
    );
  });

  it('--pooling pooler on a checkpoint without pooler weights is refused in one line', () => {
    const r = embed(noPooler, path.join(root, 'out-no-pooler'), ['--pooling', 'pooler']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the checkpoint has no pooler weights; use --pooling mean or cls/);
    expect(existsSync(path.join(root, 'out-no-pooler', 'manifest.json'))).toBe(false);
  });

  it('refuses a complete embeddings dir of another model without --overwrite, replaces one of the same model', () => {
    const out = path.join(root, 'out-other-model');
    expect(embed(withPooler, out).code).toBe(0);
    expect(embed(withPooler, out, ['--pooling', 'cls']).code).toBe(0);
    const r = embed(noPooler, out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds embeddings of another model .*; pass --overwrite to replace them/);
    expect(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')).model.ref).toBe(withPooler);
    expect(embed(noPooler, out, ['--overwrite']).code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')).model.ref).toBe(noPooler);
  });

  it('replaces an incomplete embeddings dir (no manifest) and refuses a dir of other files', () => {
    const out = path.join(root, 'out-incomplete');
    mkdirSync(out);
    writeFileSync(path.join(out, 'embeddings.arrow'), 'half a file');
    writeFileSync(path.join(out, '.embeddings.arrow.tmp-999999-abcd1234'), 'temp of a dead run');
    expect(embed(withPooler, out).code).toBe(0);
    expect(readEmbeddings(out).vectors).toHaveLength(GOOD.length);
    expect(readdirSync(out).sort()).toEqual(['embeddings.arrow', 'manifest.json', 'rejects.csv']);

    const foreign = path.join(root, 'out-foreign');
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
    const r = embed(withPooler, foreign);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not empty and not a recsys embeddings dir \(notes\.txt\)/);
  });
});
