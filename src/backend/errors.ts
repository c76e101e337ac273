import { UsageError } from '../lib/errors.js';

/**
 * A backend the user asked for cannot be loaded: a usage error (exit code 2) whose message is one
 * line that says what to install or run.
 */
export class BackendUnavailableError extends UsageError {
  constructor(message: string) {
    super(oneLine(message));
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
