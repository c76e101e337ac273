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

/**
 * Messages quote user data (column names, labels, keys): a newline or a terminal escape in it
 * must not break the one-line error or drive the terminal, so control characters are escaped
 * (a newline becomes the two characters `\n`). Nothing is dropped or shortened.
 */
export function escapeControlChars(text: string): string {
  return text.replace(/\r\n|[\r\n\u2028\u2029]|[\x00-\x08\x0b-\x1f\x7f]/g, (c) =>
    c === '\r\n' || c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/**
 * A message from elsewhere (a library's multi-line error, a child's stderr) squeezed into one line
 * of a recsys error: runs of whitespace, newlines included, become one space, and the text is cut
 * at `max` characters with an ellipsis.
 */
export function collapseWhitespace(message: string, max = 400): string {
  const s = message.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export class ConfigError extends RecsysError {
  override readonly exitCode = 2;
  readonly problems: string[];
  constructor(problems: string[]) {
    const lines = problems.map(escapeControlChars);
    super(lines.length === 1 ? lines[0] : `${lines.length} problems in the configuration:\n  ${lines.join('\n  ')}`);
    this.problems = lines;
  }
}

export class DataError extends RecsysError {
  override readonly exitCode = 3;
}

export class GateError extends RecsysError {
  override readonly exitCode = 1;
}

/** The exit code of a failure: its class's, or 4 for anything unexpected. */
export function exitCodeOf(err: unknown): number {
  return err instanceof RecsysError ? err.exitCode : 4;
}
