import cliProgress from 'cli-progress';

/** A progress bar on stderr (only on a terminal, so logs and CI output stay clean). */
export function makeBar(label: string, enabled: boolean) {
  if (!enabled || !process.stderr.isTTY) return undefined;
  return new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
}
