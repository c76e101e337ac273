export interface EarlyStopSettings {
  metric: string;
  mode: 'min' | 'max';
  patience: number;
  minDelta: number;
}

export interface EarlyStopState {
  best: number | null;
  bestStep: number | null;
  badEvals: number;
}

/** The direction a metric improves in, when the config leaves it open (HF's greater_is_better rule). */
export function modeFor(metric: string, mode: 'min' | 'max' | null): 'min' | 'max' {
  // Errors are lower-is-better too (regression's mae, mse, rmse, per output as `rmse:<name>`).
  return mode ?? (/loss|^(mae|mse|rmse)(:|$)/.test(metric) ? 'min' : 'max');
}

/** Counts evaluations without an improvement of at least min_delta; serializable for resume. */
export class EarlyStopping {
  state: EarlyStopState = { best: null, bestStep: null, badEvals: 0 };

  constructor(readonly s: EarlyStopSettings) {}

  /** Record one evaluation; returns whether it is a new best. */
  update(value: number, step: number): boolean {
    const { best } = this.state;
    const better =
      best === null || (this.s.mode === 'max' ? value > best + this.s.minDelta : value < best - this.s.minDelta);
    if (better) this.state = { best: value, bestStep: step, badEvals: 0 };
    else this.state.badEvals++;
    return better;
  }

  get shouldStop(): boolean {
    return this.state.badEvals >= this.s.patience;
  }
}
