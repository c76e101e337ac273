/**
 * Error classes carry their exit code, so `main` is the only place that maps failures to codes:
 * 0 ok, 1 quality gate failed, 2 usage/config error, 3 data error, anything else unexpected.
 */
export class RecsysError extends Error {
  readonly exitCode: number = 4;
  /** Extra lines printed after the one-line message (e.g. the first few rejected rows). */
  details: string[] = [];
  constructor(message: string, details: string[] = []) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class UsageError extends RecsysError {
  override readonly exitCode = 2;
}

export class ConfigError extends RecsysError {
  override readonly exitCode = 2;
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems in the configuration:\n  ${problems.join('\n  ')}`);
  }
}

export class DataError extends RecsysError {
  override readonly exitCode = 3;
}

export class GateError extends RecsysError {
  override readonly exitCode = 1;
}

export class NotImplementedError extends RecsysError {
  override readonly exitCode = 2;
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof RecsysError) return err.exitCode;
  const code = (err as { exitCode?: unknown })?.exitCode;
  return typeof code === 'number' ? code : 4;
}
