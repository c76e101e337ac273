/**
 * A backend the user asked for cannot be loaded. The message is one line that says what to
 * install or run; the CLI prints it and exits with `exitCode`.
 */
export class BackendUnavailableError extends Error {
  exitCode = 2;

  constructor(message: string) {
    super(oneLine(message));
    this.name = 'BackendUnavailableError';
  }
}

/** Collapse a (possibly multi-line) message into one line. */
export function oneLine(message: string, max = 400): string {
  const s = message
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
