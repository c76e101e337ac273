import cliProgress from 'cli-progress';

export interface Progress {
  tick(rows: number): void;
  stop(): void;
}

/**
 * A rows progress bar on stderr, only on a terminal (so logs and CI output stay clean). Without a
 * total (streamed input of unknown length) it counts rows and their rate.
 */
export function rowsProgress(label: string, enabled: boolean, total?: number): Progress | undefined {
  if (!enabled || !process.stderr.isTTY) return undefined;
  const format =
    total === undefined
      ? `${label} {value} rows | {speed} rows/s`
      : `${label} [{bar}] {value}/{total} rows | {speed} rows/s | ETA {eta_formatted}`;
  const bar = new cliProgress.SingleBar(
    { format, stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  bar.start(total ?? 0, 0, { speed: 0 });
  return {
    tick: (rows) => bar.update(rows, { speed: Math.round(rows / Math.max(1e-3, (Date.now() - t0) / 1000)) }),
    stop: () => bar.stop(),
  };
}
