/**
 * Fault injection for the reliability tests: RECSYS_FAULT=point:n kills the process with SIGKILL
 * the n-th time execution reaches `faultPoint(point)`. Unset (always, outside tests) it costs one
 * comparison.
 */
const spec = process.env.RECSYS_FAULT;
const [target, nth] = spec ? [spec.split(':')[0], Number(spec.split(':')[1] ?? 1)] : [undefined, 0];
let hits = 0;

export function faultPoint(name: string): void {
  if (name !== target) return;
  if (++hits === nth) process.kill(process.pid, 'SIGKILL');
}
