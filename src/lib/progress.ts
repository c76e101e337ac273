import cliProgress from 'cli-progress';

/** Values for the named fields of a bar's format (`{loss}`, `{lr}`, …). */
export type ProgressFields = Record<string, string | number>;

export interface ProgressBarOptions {
  /**
   * cli-progress's format: `{bar}`, `{value}`, `{total}`, `{percentage}`, `{eta_formatted}`, plus
   * `{speed}` (units per second since the bar started, filled in here) and any field of `fields`.
   */
  format: string;
  /** The value at 100%; leave it out (or 0) when unknown, and keep `{bar}` and `{total}` out of the format. */
  total?: number;
  /** Where the bar starts: bytes already downloaded, steps of the epoch already done. Default 0. */
  start?: number;
  /** Initial values of the format's named fields. */
  fields?: ProgressFields;
  /** Leave the finished bar on screen (one line per training epoch) instead of clearing it. */
  keep?: boolean;
  /** `--no-progress` turns it off. Default true. */
  enabled?: boolean;
  /** Where to draw; stderr unless a test passes its own terminal. */
  stream?: NodeJS.WriteStream;
}

export interface ProgressBar {
  /** Move the bar to `value`, refreshing `{speed}` and the given fields. */
  update(value: number, fields?: ProgressFields): void;
  /** One unit further (a training step). */
  increment(fields?: ProgressFields): void;
  stop(): void;
}

/**
 * The one way recsys draws a progress bar: on stderr, and only on a terminal, so logs, pipes and CI
 * output stay clean. Returns undefined when there is nothing to draw, so callers write `bar?.update`.
 */
export function progressBar(o: ProgressBarOptions): ProgressBar | undefined {
  const stream = o.stream ?? process.stderr;
  if (o.enabled === false || !stream.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    { format: o.format, stream, hideCursor: true, clearOnComplete: !o.keep },
    cliProgress.Presets.shades_classic,
  );
  const start = o.start ?? 0;
  const t0 = Date.now();
  let value = start;
  const speed = () => Math.round((value - start) / Math.max(1e-3, (Date.now() - t0) / 1000));
  bar.start(o.total ?? 0, start, { ...o.fields, speed: 0 });
  const update = (to: number, fields?: ProgressFields) => {
    value = to;
    bar.update(value, { ...fields, speed: speed() });
  };
  return { update, increment: (fields) => update(value + 1, fields), stop: () => bar.stop() };
}

export interface Progress {
  tick(rows: number): void;
  stop(): void;
}

/**
 * A rows bar (prepare, eval, predict): with a total, a bar with its ETA; without one (streamed
 * input of unknown length), the count of rows and their rate.
 */
export function rowsProgress(label: string, enabled: boolean, total?: number): Progress | undefined {
  const format = total
    ? `${label} [{bar}] {value}/{total} rows | {speed} rows/s | ETA {eta_formatted}`
    : `${label} {value} rows | {speed} rows/s`;
  const bar = progressBar({ format, total, enabled });
  return bar && { tick: (rows) => bar.update(rows), stop: () => bar.stop() };
}
