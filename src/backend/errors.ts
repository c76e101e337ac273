import { collapseWhitespace, UsageError } from '../lib/errors.js';

/**
 * A backend the user asked for cannot be loaded: a usage error (exit code 2) whose message is one
 * line that says what to install or run.
 */
export class BackendUnavailableError extends UsageError {
  constructor(message: string) {
    super(collapseWhitespace(message));
    this.name = 'BackendUnavailableError';
  }
}
