import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Training steps `recsys train` has logged in RUN/metrics.jsonl (one `"type":"train"` line per step,
 * written as it ends).
 */
export function stepsLogged(run: string): number {
  const file = path.join(run, 'metrics.jsonl');
  if (!existsSync(file)) return 0;
  let last = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"type":"train"')) continue;
    try {
      last = Math.max(last, (JSON.parse(line) as { step: number }).step);
    } catch {
      // a line being written
    }
  }
  return last;
}

/**
 * Wait until a running `recsys train` child has finished step `step` (so it is inside its training
 * loop, its signal handlers installed): progress, not a guessed sleep. Rejects when the child exits
 * first or nothing happens within `timeoutMs`.
 */
export async function waitForStep(child: ChildProcess, run: string, step = 1, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (stepsLogged(run) < step) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`train exited (${child.exitCode ?? child.signalCode}) before step ${step}`);
    if (Date.now() > deadline) throw new Error(`train did not reach step ${step} in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Mean seconds per training step of a finished run (from the time_s of its metrics.jsonl). */
export function secondsPerStep(run: string): number {
  const steps = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; time_s: number })
    .filter((l) => l.type === 'train');
  return (steps[steps.length - 1].time_s - steps[0].time_s) / (steps.length - 1);
}
