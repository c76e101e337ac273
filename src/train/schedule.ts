export type ScheduleKind = 'linear' | 'cosine' | 'constant' | 'constant_with_warmup';

/** Warmup as configured: a ratio of the total when < 1 (rounded up, as Hugging Face does), else steps. */
export function warmupSteps(warmup: number, totalSteps: number): number {
  return warmup < 1 ? Math.ceil(warmup * totalSteps) : Math.floor(warmup);
}

/**
 * Learning rate used by optimizer step `step` (0-based), exactly as transformers' schedulers
 * (LambdaLR over the step count): the first warmup step runs at lr 0 when there is warmup.
 */
export function learningRateAt(
  kind: ScheduleKind,
  baseLr: number,
  step: number,
  totalSteps: number,
  warmup: number,
): number {
  if (kind === 'constant') return baseLr;
  if (step < warmup) return (baseLr * step) / Math.max(1, warmup);
  if (kind === 'constant_with_warmup') return baseLr;
  const progress = (step - warmup) / Math.max(1, totalSteps - warmup);
  if (kind === 'linear') return baseLr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
  return baseLr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress))); // cosine, half a cycle to 0
}
