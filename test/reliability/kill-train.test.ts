import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/lib/rng.js';
import { isCompleteCheckpoint } from '../../src/train/state.js';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { secondsPerStep, waitForStep } from '../helpers/train-progress.js';

/**
 * kill -9 during `recsys train` at seeded random moments and at injected points (inside a
 * training step, halfway through writing a checkpoint, during evaluation), then --resume: every
 * resumed run must end with the weights and metrics of the uninterrupted run, and nothing left on
 * disk may look like a complete checkpoint unless it is one.
 */
const intent = path.join(repoRoot, 'configs/intent.yaml');
let dir = '';
let dataset = '';
let tinyConfig = '';
let reference = '';
let referenceStepSeconds = 0;
const ARGS = [
  '--max-steps',
  '45',
  '--set',
  'train.checkpoint_every=4',
  '--set',
  'train.eval_every=15',
  '--set',
  'train.dropout=true',
  '--no-progress',
];

function trainArgs(out: string): string[] {
  return [
    path.join(repoRoot, 'bin/recsys.js'),
    'train',
    '-c',
    intent,
    '--data',
    dataset,
    '--model',
    tinyConfig,
    '--out',
    out,
    '--backend',
    'tensorflow',
    '--batch-size',
    '32',
    '--lr',
    '1e-3',
    ...ARGS,
  ];
}

/**
 * Run train until it ends (exit code) or is killed (null): by an injected fault, or with kill -9
 * `afterMs` after it logged step `afterStep` (a moment anchored in the run's progress, so that a slower
 * or faster machine cannot move it past the end of the run).
 */
async function runUntilKilled(
  out: string,
  opts: { afterStep?: number; afterMs?: number; fault?: string },
): Promise<number | null> {
  const child = spawn(process.execPath, trainArgs(out), {
    stdio: 'ignore',
    env: { ...process.env, ...(opts.fault ? { RECSYS_FAULT: opts.fault } : {}) },
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal === 'SIGKILL' ? null : code)),
  );
  if (opts.afterStep !== undefined) {
    await waitForStep(child, out, opts.afterStep);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.afterMs ?? 0);
    void exited.then(() => clearTimeout(timer));
  }
  return exited;
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const metricLines = (run: string) =>
  readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .map(({ samples_per_s: _s, time_s: _t, ...rest }) => rest);

/** Every checkpoint-looking dir is either complete and consistent, or reported incomplete. */
function checkNoPartialCheckpoints(run: string): { complete: number; incomplete: number } {
  let complete = 0;
  let incomplete = 0;
  const ckpts = path.join(run, 'checkpoints');
  if (!existsSync(ckpts)) return { complete, incomplete };
  for (const name of readdirSync(ckpts)) {
    const d = path.join(ckpts, name);
    // A temp dir is never read as a checkpoint, whatever it holds: one being written is incomplete, while
    // one being pruned was renamed whole before removal and may still look complete.
    if (/\.tmp-\d+$/.test(name)) {
      incomplete++;
      continue;
    }
    if (isCompleteCheckpoint(d)) {
      expect(name).toMatch(/^(step-\d+|best)$/);
      const model = JSON.parse(readFileSync(path.join(d, 'model.json'), 'utf8'));
      expect(sha(path.join(d, 'weights.bin'))).toBe(model.userDefinedMetadata.weightsSha256);
      complete++;
    } else {
      expect.fail(`${name}: an incomplete checkpoint under a final name`);
    }
  }
  const last = path.join(run, 'last');
  if (existsSync(last)) expect(isCompleteCheckpoint(path.resolve(run, readlinkSync(last)))).toBe(true);
  return { complete, incomplete };
}

beforeAll(async () => {
  dir = tempDir('recsys-kill-');
  dataset = path.join(dir, 'ds');
  const prep = runCli(['prepare', '-c', intent, '--out', dataset, '--max-length', '24']);
  if (prep.code !== 0) throw new Error(prep.stderr);
  tinyConfig = path.join(dir, 'tiny.json');
  writeFileSync(
    tinyConfig,
    JSON.stringify({
      model_type: 'bert',
      vocab_size: 30522,
      hidden_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 64,
      max_position_embeddings: 64,
    }),
  );
  reference = path.join(dir, 'reference');
  expect(await runUntilKilled(reference, {})).toBe(0);
  referenceStepSeconds = secondsPerStep(reference);
});

const rng = new Rng(2026);
const pick = (n: number) => 1 + Math.floor(rng.next() * n); // 1..n
// 10 seeded random moments: 4 at a random time of the run (a random fraction of a step's time after a
// random one of steps 1..44 ended: inside the next step, a checkpoint write or an evaluation), and at a
// random n-th passage of each injected point: 2 inside a training step (45 steps), 2 halfway through
// writing a checkpoint (the run writes at least 9), 2 inside an evaluation batch (3 evaluations of 5
// batches); then a second kill during a resumed run.
const faults: { label: string; fault?: string; afterStep?: number; stepFraction?: number }[] = [
  ...Array.from({ length: 4 }, (_, i) => ({
    label: `random moment #${i + 1}`,
    afterStep: pick(44),
    stepFraction: rng.next(),
  })),
  ...[pick(45), pick(45)].map((n) => ({ label: `inside training step ${n}`, fault: `step:${n}` })),
  ...[pick(9), pick(9)].map((n) => ({ label: `halfway through writing checkpoint ${n}`, fault: `checkpoint:${n}` })),
  ...[pick(15), pick(15)].map((n) => ({
    label: `inside evaluation batch ${n} (evaluation ${Math.ceil(n / 5)})`,
    fault: `eval:${n}`,
  })),
];

describe('kill -9 during train, then --resume', () => {
  for (const [i, f] of faults.entries()) {
    it(`${f.label}: same final weights and metrics as the uninterrupted run`, async () => {
      const run = path.join(dir, `cut-${i}`);
      const code = await runUntilKilled(
        run,
        f.fault
          ? { fault: f.fault }
          : { afterStep: f.afterStep, afterMs: Math.round(f.stepFraction! * referenceStepSeconds * 1000) },
      );
      // Killed for real, whatever the moment: a run that ended first tested nothing.
      expect(code, 'the run ended before the kill').toBeNull();
      checkNoPartialCheckpoints(run);
      expect(existsSync(path.join(run, 'train_summary.json'))).toBe(false);
      const hasLast = existsSync(path.join(run, 'last'));
      const resumed = runCli(hasLast ? [...trainArgs(run).slice(1), '--resume'] : trainArgs(run).slice(1));
      expect(resumed.code, resumed.stderr).toBe(0);
      checkNoPartialCheckpoints(run);
      expect(sha(path.join(run, 'model/weights.bin'))).toBe(sha(path.join(reference, 'model/weights.bin')));
      expect(metricLines(run)).toEqual(metricLines(reference));
    });
  }

  it('killed twice (once more while resuming), it still ends where the uninterrupted run ends', async () => {
    const run = path.join(dir, 'twice');
    expect(await runUntilKilled(run, { fault: 'checkpoint:3' })).toBeNull();
    const child = spawn(process.execPath, [...trainArgs(run), '--resume'], {
      stdio: 'ignore',
      env: { ...process.env, RECSYS_FAULT: 'step:10' },
    });
    expect(await new Promise((r) => child.on('exit', (_c, s) => r(s)))).toBe('SIGKILL');
    const resumed = runCli([...trainArgs(run).slice(1), '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sha(path.join(run, 'model/weights.bin'))).toBe(sha(path.join(reference, 'model/weights.bin')));
    expect(metricLines(run)).toEqual(metricLines(reference));
  });
});
