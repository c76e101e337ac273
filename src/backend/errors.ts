import { collapseWhitespace } from '../lib/errors.js';

/**
 * A backend the user asked for cannot be loaded. The message is one line that says what to
 * install or run; the CLI prints it and exits with `exitCode`.
 */
export class BackendUnavailableError extends Error {
  exitCode = 2;

  constructor(message: string) {
    super(collapseWhitespace(message));
    this.name = 'BackendUnavailableError';
  }
}
