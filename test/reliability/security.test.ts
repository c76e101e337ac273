import {
  closeSync,
  cpSync,
  existsSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { readSafetensors } from '../../src/model/safetensors.js';
import { repoRoot, tempDir, vocabPath } from '../helpers/cli.js';
import { expectOneLineError, expectRowsAccounted, fixturesDir, fx, runCliAsync } from './harness.js';

/**
 * Security properties of a run: paths resolve against the config file (cwd for flags); outputs
 * stay under the chosen output dir (label names never become paths, symlinks in the output dir
 * are replaced or refused, never written through); no socket is opened offline or when no hub id
 * is given; hostile sizes (a 100 GB safetensors header, a YAML alias bomb) fail fast without
 * being allocated.
 */

let work = '';
const tiny = () => path.join(work, 'tiny.json');

beforeAll(() => {
  work = tempDir('recsys-sec-');
  writeFileSync(
    tiny(),
    JSON.stringify({
      model_type: 'bert',
      vocab_size: 30522,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 32,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      initializer_range: 0.02,
    }),
  );
});

/** Every path under `root` (files, dirs, links), relative to it. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      out.push(path.relative(root, p));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

describe('paths', () => {
  it("resolve against the config file's directory, whatever the cwd; flags and --set against the cwd", async () => {
    const cwd = path.join(work, 'elsewhere');
    mkdirSync(cwd, { recursive: true });
    const r = await runCliAsync(['config', 'render', '-c', path.relative(cwd, fx('relative-paths.yaml')), '--json'], {
      cwd,
    });
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.data.input).toBe(path.join(fixturesDir, 'good.csv'));
    expect(c.data.out).toBe(path.resolve(fixturesDir, '../out-from-yaml'));
    expect(c.tokenizer.path).toBe(vocabPath);
    expect(c.model.path).toBe(path.join(fixturesDir, 'no-tokenizer-dir'));

    const s = await runCliAsync(
      [
        'config',
        'render',
        '-c',
        fx('relative-paths.yaml'),
        '--set',
        'data.out=ds',
        '--set',
        'train.out=../runs/r1',
        '--json',
      ],
      { cwd },
    );
    expect(s.code, s.stderr).toBe(0);
    const c2 = JSON.parse(s.stdout);
    expect(c2.data.out).toBe(path.join(cwd, 'ds'));
    expect(c2.train.out).toBe(path.resolve(cwd, '../runs/r1'));
    expect(c2.data.input).toBe(path.join(fixturesDir, 'good.csv')); // untouched keys keep the file's base
  });

  it('prepare with relative flags reads and writes relative to the cwd', async () => {
    const cwd = path.join(work, 'cwd-prepare');
    mkdirSync(cwd, { recursive: true });
    cpSync(fx('good.csv'), path.join(cwd, 'in.csv'));
    const r = await runCliAsync(
      ['prepare', '--input', 'in.csv', '--tokenizer', path.relative(cwd, vocabPath), '--out', 'ds', '--no-progress'],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    expectRowsAccounted(path.join(cwd, 'ds'));
  });
});

describe('outputs stay under the output dir', () => {
  it('label names that look like paths are data, never file names (prepare, train, predict)', async () => {
    const root = path.join(work, 'labels-sandbox');
    mkdirSync(root, { recursive: true });
    const evil = ['../../escape', '/etc/recsys-evil', '..', 'a/../../b', 'C:\\\\evil', '.'];
    const csv =
      'text,label\n' +
      Array.from({ length: 36 }, (_, i) => `item ${i} shoes,"${evil[i % evil.length].replace(/"/g, '""')}"\n`).join('');
    writeFileSync(path.join(root, 'in.csv'), csv);
    const before = tree(root);
    const prep = await runCliAsync(
      [
        'prepare',
        '--input',
        'in.csv',
        '--tokenizer',
        vocabPath,
        '--out',
        'ds',
        '--max-length',
        '16',
        '--split',
        '1,0,0',
        '--no-progress',
      ],
      { cwd: root },
    );
    expect(prep.code, prep.stderr).toBe(0);
    const train = await runCliAsync(
      [
        'train',
        '--data',
        'ds',
        '--model',
        tiny(),
        '--out',
        'run',
        '--backend',
        'tensorflow',
        '--max-steps',
        '1',
        '--no-progress',
      ],
      { cwd: root },
    );
    expect(train.code, train.stderr).toBe(0);
    const pred = await runCliAsync(
      ['predict', '--model', 'run', '--input', 'in.csv', '--output', 'pred.jsonl', '--backend', 'tensorflow'],
      { cwd: root },
    );
    expect(pred.code, pred.stderr).toBe(0);
    const created = tree(root).filter((p) => !before.includes(p));
    const outside = created.filter((p) => !/^(ds|run)(\/|$)/.test(p) && !/^pred(\.rejects\.csv|\.jsonl)$/.test(p));
    expect(outside).toEqual([]);
    expect(existsSync(path.join(work, 'escape'))).toBe(false);
    expect(existsSync('/etc/recsys-evil')).toBe(false);
    // the label names travel verbatim in the model's config
    const cfg = JSON.parse(readFileSync(path.join(root, 'run/model/config.json'), 'utf8'));
    expect(Object.values(cfg.id2label).sort()).toEqual([...evil].sort());
  });

  it('prepare replaces symlinks in the output dir instead of writing through them', async () => {
    const outside = path.join(work, 'outside-prepare');
    const out = path.join(work, 'ds-links');
    mkdirSync(path.join(outside, 'tok'), { recursive: true });
    mkdirSync(out, { recursive: true });
    for (const f of ['train.arrow', 'validation.arrow', 'test.arrow', 'rejects.csv', 'manifest.json']) {
      writeFileSync(path.join(outside, f), 'keep');
      symlinkSync(path.join(outside, f), path.join(out, f));
    }
    writeFileSync(path.join(outside, 'tok/vocab.txt'), 'keep');
    symlinkSync(path.join(outside, 'tok'), path.join(out, 'tokenizer'));
    const r = await runCliAsync([
      'prepare',
      '--input',
      fx('good.csv'),
      '--tokenizer',
      vocabPath,
      '--out',
      out,
      '--no-progress',
      '--overwrite',
    ]);
    expect(r.code, r.stderr).toBe(0);
    for (const f of [
      'train.arrow',
      'validation.arrow',
      'test.arrow',
      'rejects.csv',
      'manifest.json',
      'tok/vocab.txt',
    ]) {
      expect(readFileSync(path.join(outside, f), 'utf8'), f).toBe('keep');
    }
    for (const f of ['train.arrow', 'rejects.csv', 'manifest.json', 'tokenizer'])
      expect(lstatSync(path.join(out, f)).isSymbolicLink(), f).toBe(false);
    expectRowsAccounted(out);
  });

  it("train --resume refuses a symlink leading out of the run dir; --overwrite keeps files not the run's", async () => {
    const ds = path.join(work, 'ds-resume');
    expect(
      (
        await runCliAsync([
          'prepare',
          '--input',
          fx('good.csv'),
          '--tokenizer',
          vocabPath,
          '--out',
          ds,
          '--max-length',
          '16',
          '--no-progress',
        ])
      ).code,
    ).toBe(0);
    const run = path.join(work, 'run-resume');
    mkdirSync(run, { recursive: true });
    writeFileSync(path.join(run, 'notes.txt'), 'mine');
    const args = [
      'train',
      '--data',
      ds,
      '--model',
      tiny(),
      '--out',
      run,
      '--backend',
      'tensorflow',
      '--max-steps',
      '2',
      '--no-progress',
    ];
    const refused = await runCliAsync(args);
    expect(refused.code).toBe(2);
    expectOneLineError(refused, 'run-resume: not empty and not a recsys run; pass --overwrite or choose another --out');
    const first = await runCliAsync([...args, '--overwrite']);
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(path.join(run, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(path.join(run, 'train_summary.json'))).toBe(true);

    const victim = path.join(work, 'victim.txt');
    writeFileSync(victim, 'precious');
    const metrics = path.join(run, 'metrics.jsonl');
    const saved = readFileSync(metrics);
    rmSync(metrics);
    symlinkSync(victim, metrics);
    const r = await runCliAsync([...args, '--resume']);
    expect(r.code).toBe(2);
    expectOneLineError(
      r,
      `metrics.jsonl: a symbolic link to ${victim}, outside the run directory; refusing to write through it`,
    );
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    // a dangling link that a write would create outside is refused too
    rmSync(metrics);
    symlinkSync(path.join(work, 'would-be-created.txt'), metrics);
    const d = await runCliAsync([...args, '--resume']);
    expect(d.code).toBe(2);
    expect(existsSync(path.join(work, 'would-be-created.txt'))).toBe(false);
    // links inside the run dir (last → checkpoints/step-N) are what a run is made of
    rmSync(metrics);
    writeFileSync(metrics, saved);
    expect(readlinkSync(path.join(run, 'last'))).toMatch(/^checkpoints\/step-\d+$/);
    const ok = await runCliAsync([...args, '--resume']);
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe('no network at run time', () => {
  const guard = pathToFileURL(path.join(repoRoot, 'test/reliability/net-guard.mjs')).href;
  const attempts = (log: string) =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { kind: string; target: string })
      : [];
  /** Local IPC (tsx's loader pipe) is not network; everything else is. */
  const network = (log: string) => attempts(log).filter((a) => a.kind !== 'ipc');

  it('prepare + train + predict open no socket: offline, and online with only local paths', async () => {
    const root = path.join(work, 'net');
    mkdirSync(root, { recursive: true });
    const hubCache = path.join(root, 'hub-cache');
    for (const [mode, env, flag] of [
      ['offline', { HF_HUB_OFFLINE: '1' }, ['--offline']],
      ['online, local model', {}, []],
    ] as const) {
      const log = path.join(root, `${mode.replace(/\W+/g, '-')}.log`);
      const opts = {
        nodeArgs: ['--import', guard],
        env: { RECSYS_NET_LOG: log, HF_HUB_CACHE: hubCache, HF_ENDPOINT: 'http://127.0.0.1:9', ...env },
      };
      const ds = path.join(root, `ds-${log.length}`);
      const run = path.join(root, `run-${log.length}`);
      const steps = [
        [
          'prepare',
          '--input',
          fx('good.csv'),
          '--tokenizer',
          vocabPath,
          '--out',
          ds,
          '--max-length',
          '16',
          '--no-progress',
        ],
        [
          'train',
          '--data',
          ds,
          '--model',
          tiny(),
          '--out',
          run,
          '--backend',
          'tensorflow',
          '--max-steps',
          '2',
          '--no-progress',
          ...flag,
        ],
        // a pretrained model dir (the run's model) as a starting point: a local path is never a hub id
        [
          'train',
          '--data',
          ds,
          '--model',
          path.join(run, 'model'),
          '--out',
          `${run}-ft`,
          '--backend',
          'tensorflow',
          '--max-steps',
          '1',
          '--no-progress',
          ...flag,
        ],
        [
          'predict',
          '--model',
          run,
          '--input',
          fx('good.csv'),
          '--output',
          path.join(root, `pred-${log.length}.jsonl`),
          '--backend',
          'tensorflow',
          ...flag,
        ],
      ];
      for (const args of steps) {
        const r = await runCliAsync(args, opts);
        expect(r.code, `${mode}: recsys ${args[0]}\n${r.stderr}`).toBe(0);
      }
      expect(network(log), mode).toEqual([]);
    }
  });

  it('the guard sees a hub download attempt (control), and a hub id with --offline makes none', async () => {
    const root = path.join(work, 'net-control');
    mkdirSync(root, { recursive: true });
    const base = { RECSYS_NET_LOG: '', HF_HUB_CACHE: path.join(root, 'hub-cache'), HF_ENDPOINT: 'http://127.0.0.1:9' };
    const online = path.join(root, 'online.log');
    const r = await runCliAsync(
      ['predict', '--model', 'some-org/some-model', '--input', fx('good.csv'), '--output', path.join(root, 'p.jsonl')],
      { nodeArgs: ['--import', guard], env: { ...base, RECSYS_NET_LOG: online } },
    );
    expect(r.code).toBe(2);
    expectOneLineError(r, 'some-org/some-model/resolve/main/config.json: cannot reach the hub');
    expect(network(online).map((a) => a.kind)).toEqual(['fetch']);

    const offline = path.join(root, 'offline.log');
    const o = await runCliAsync(
      [
        'predict',
        '--model',
        'some-org/some-model',
        '--input',
        fx('good.csv'),
        '--output',
        path.join(root, 'p.jsonl'),
        '--offline',
      ],
      { nodeArgs: ['--import', guard], env: { ...base, RECSYS_NET_LOG: offline } },
    );
    expect(o.code).toBe(2);
    expectOneLineError(o, 'some-org/some-model@main: not in the local cache');
    expect(network(offline)).toEqual([]);
    const ds = path.join(root, 'ds');
    expect(
      (
        await runCliAsync([
          'prepare',
          '--input',
          fx('good.csv'),
          '--tokenizer',
          vocabPath,
          '--out',
          ds,
          '--no-progress',
        ])
      ).code,
    ).toBe(0);
    const e = await runCliAsync(
      [
        'train',
        '--data',
        ds,
        '--model',
        'some-org/some-model',
        '--out',
        path.join(root, 'run'),
        '--backend',
        'tensorflow',
      ],
      { nodeArgs: ['--import', guard], env: { ...base, RECSYS_NET_LOG: offline, HF_HUB_OFFLINE: '1' } },
    );
    expect(e.code).toBe(2);
    expectOneLineError(e, 'some-org/some-model@main: not in the local cache');
    expect(network(offline)).toEqual([]);
  });
});

describe('bounded parsing', () => {
  const rssGrowth = async (f: () => Promise<unknown>) => {
    global.gc?.();
    const before = process.memoryUsage();
    const t0 = performance.now();
    let error: unknown;
    try {
      await f();
    } catch (e) {
      error = e;
    }
    const after = process.memoryUsage();
    return {
      error: error as Error,
      ms: performance.now() - t0,
      bytes: after.rss - before.rss + after.arrayBuffers - before.arrayBuffers,
    };
  };

  it('a safetensors header claiming 100 GB fails at once, without reading the (2 GB, sparse) file', async () => {
    const file = path.join(work, 'huge.safetensors');
    const fd = openSync(file, 'w');
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(100n * 1024n ** 3n);
    writeSync(fd, head, 0, 8, 0);
    ftruncateSync(fd, 2 * 1024 ** 3); // sparse: no disk used
    closeSync(fd);
    const r = await rssGrowth(() => readSafetensors(file));
    expect(r.error?.message).toBe(
      `${file}: safetensors header length 107374182400 exceeds the 100 MB limit (corrupt or not a safetensors file)`,
    );
    expect((r.error as { exitCode?: number }).exitCode).toBe(3);
    expect(r.ms).toBeLessThan(1000);
    expect(r.bytes).toBeLessThan(64 * 1024 ** 2);
  });

  it('a safetensors header longer than its file is refused from the first 8 bytes', async () => {
    const file = path.join(work, 'short.safetensors');
    const fd = openSync(file, 'w');
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(99n * 1024n ** 2n);
    writeSync(fd, head, 0, 8, 0);
    ftruncateSync(fd, 1024 ** 2);
    closeSync(fd);
    const r = await rssGrowth(() => readSafetensors(file));
    expect(r.error?.message).toBe(
      `${file}: safetensors header length 103809024 is larger than the file (1048576 bytes): truncated or corrupt`,
    );
    expect(r.ms).toBeLessThan(1000);
  });

  it('a YAML alias bomb (9^9 nodes) fails fast with a clear error', async () => {
    const r = await rssGrowth(async () => loadConfig({ files: [fx('alias-bomb.yaml')] }));
    expect(r.error?.message).toBe(
      `${fx('alias-bomb.yaml')}: Excessive alias count indicates a resource exhaustion attack`,
    );
    expect((r.error as { exitCode?: number }).exitCode).toBe(2);
    expect(r.ms).toBeLessThan(2000);
    expect(r.bytes).toBeLessThan(64 * 1024 ** 2);
  });
});
