import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';

/**
 * Output locations that cannot take the output: a full disk and a read-only filesystem (small
 * tmpfs mounts; CI runs as root), and a path under a file. One line, exit 2, nothing partial left.
 */
const mounts: string[] = [];
function tmpfs(options: string): string {
  const dir = tempDir('recsys-mnt-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

let full = '';
let readOnly = '';
beforeAll(() => {
  if (process.getuid?.() !== 0)
    throw new Error('these tests mount small tmpfs filesystems and need root (CI runs as root)');
  full = tmpfs('size=160k');
  readOnly = tmpfs('ro,size=1m');
});
afterAll(() => {
  for (const m of mounts) execFileSync('umount', [m]);
});

const reviews = path.join(repoRoot, 'configs/reviews.yaml');

describe('output dir faults', () => {
  it('disk full during prepare: one line naming the dir, exit 2, no temp files or manifest left', () => {
    const out = path.join(full, 'ds');
    const r = runCli(['prepare', '-c', reviews, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^recsys: error: ${out.replace(/[/.]/g, '\\$&')}: writing the dataset failed: no space left on device$`,
      ),
    );
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(existsSync(path.join(out, 'manifest.json'))).toBe(false);
  });

  it('a read-only output location is refused before any work, for prepare and train', () => {
    const p = runCli(['prepare', '-c', reviews, '--out', path.join(readOnly, 'ds')]);
    expect(p.code).toBe(2);
    expect(p.stderr.trim()).toMatch(/^recsys: error: .*\/ds: cannot write the dataset here: read-only file system$/);
    const dir = tempDir();
    const ds = path.join(dir, 'ds');
    expect(runCli(['prepare', '-c', reviews, '--out', ds]).code).toBe(0);
    const t = runCli(['train', '-c', reviews, '--data', ds, '--out', path.join(readOnly, 'run'), '--max-steps', '1']);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/\/run: cannot write the run here: read-only file system/);
    expect(t.stderr).not.toMatch(/backend:/); // refused before the backend was even loaded
  });

  it('an output path under a regular file is a one-line error', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'file'), 'x');
    const r = runCli(['prepare', '-c', reviews, '--out', path.join(dir, 'file', 'ds')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^recsys: error: .*file\/ds: cannot write the dataset here: a parent path is not a directory$/,
    );
  });

  it('disk full while training: a one-line error; every checkpoint left is complete or marked temporary', () => {
    const dir = tempDir();
    const ds = path.join(dir, 'ds');
    expect(
      runCli(['prepare', '-c', path.join(repoRoot, 'configs/intent.yaml'), '--out', ds, '--max-length', '24']).code,
    ).toBe(0);
    const small = tmpfs('size=3m');
    const tiny = path.join(dir, 'tiny.json');
    writeFileSync(
      tiny,
      JSON.stringify({
        vocab_size: 30522,
        hidden_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        intermediate_size: 32,
        max_position_embeddings: 32,
      }),
    );
    mkdirSync(path.join(small, 'run'));
    const r = runCli([
      'train',
      '-c',
      path.join(repoRoot, 'configs/intent.yaml'),
      '--data',
      ds,
      '--model',
      tiny,
      '--out',
      path.join(small, 'run'),
      '--backend',
      'tensorflow',
      '--max-steps',
      '60',
      '--set',
      'train.checkpoint_every=2',
      '--set',
      'train.keep_checkpoints=50',
      '--no-progress',
      '--overwrite',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/recsys: error: .*: no space left on device/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const ckpts = readdirSync(path.join(small, 'run', 'checkpoints'));
    for (const c of ckpts) {
      const complete = existsSync(path.join(small, 'run', 'checkpoints', c, 'state.json'));
      expect(complete || /\.tmp-\d+$/.test(c)).toBe(true);
    }
  });

  it('export, eval, predict: read-only refused before any work; disk full mid-write: one line, nothing partial', () => {
    const dir = tempDir();
    const intent = path.join(repoRoot, 'configs/intent.yaml');
    const ds = path.join(dir, 'ds');
    expect(runCli(['prepare', '-c', intent, '--out', ds, '--max-length', '24']).code).toBe(0);
    const tiny = path.join(dir, 'tiny.json');
    writeFileSync(
      tiny,
      JSON.stringify({
        vocab_size: 30522,
        hidden_size: 32,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        intermediate_size: 64,
        max_position_embeddings: 32,
      }),
    );
    const run = path.join(dir, 'run');
    const t = runCli([
      'train',
      '-c',
      intent,
      '--data',
      ds,
      '--model',
      tiny,
      '--out',
      run,
      '--backend',
      'tensorflow',
      '--max-steps',
      '2',
      '--no-progress',
    ]);
    expect(t.code, t.stderr).toBe(0);
    const oneLine = (r: { code: number; stderr: string }, line: RegExp) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('recsys: error: '))).toEqual([
        expect.stringMatching(line),
      ]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    };

    // read-only: refused before the backend (or onnxruntime) is loaded
    const ro = [
      runCli(['export', '--run', run, '--out', path.join(readOnly, 'exp')]),
      runCli(['eval', '--run', run, '--report', path.join(readOnly, 'rep')]),
      runCli(['eval', '--run', run, '--predictions', path.join(readOnly, 'p.jsonl')]),
      runCli([
        'predict',
        '--model',
        run,
        '--input',
        path.join(repoRoot, 'data/intent.csv'),
        '--text-column',
        'query',
        '--output',
        path.join(readOnly, 'p.jsonl'),
      ]),
    ];
    const what = ['export', 'report', 'predictions', 'predictions'];
    ro.forEach((r, i) => {
      oneLine(r, new RegExp(`: cannot write the ${what[i]} here: read-only file system$`));
      expect(r.stderr).not.toMatch(/backend:/);
    });

    // disk full mid-write (the 4,000 rows of predictions and the ONNX model do not fit)
    const exportDisk = tmpfs('size=1m');
    oneLine(
      runCli(['export', '--run', run, '--out', path.join(exportDisk, 'exp'), '--format', 'onnx,savedmodel']),
      /\/exp: writing the export failed: no space left on device$/,
    );
    expect(readdirSync(exportDisk)).toEqual([]);
    const evalDisk = tmpfs('size=64k');
    oneLine(
      runCli(['eval', '--run', run, '--predictions', path.join(evalDisk, 'p.jsonl'), '--split', 'train']),
      /\/p\.jsonl: no space left on device$/,
    );
    expect(readdirSync(evalDisk)).toEqual([]);
    const predictDisk = tmpfs('size=64k');
    oneLine(
      runCli([
        'predict',
        '--model',
        run,
        '--input',
        path.join(repoRoot, 'data/intent.csv'),
        '--text-column',
        'query',
        '--logits',
        '--output',
        path.join(predictDisk, 'p.jsonl'),
      ]),
      /\/p\.jsonl: no space left on device$/,
    );
    expect(readdirSync(predictDisk)).toEqual([]);
  });
});
