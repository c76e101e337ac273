import { CommanderError } from 'commander';
import { buildCli } from './cli.js';
import { ConfigError, exitCodeOf, escapeControlChars, RecsysError } from './lib/errors.js';
import { describeFsError } from './lib/fs-errors.js';
import { Interrupted } from './lib/interrupt.js';

/**
 * Runs one recsys command and returns its exit code. The only place that maps errors to exit
 * codes and decides how much of an error the user sees: one line, the stack only with --verbose.
 */
export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const program = buildCli();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (unknown option, missing argument, --help).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof Interrupted) return interrupted(err, verbose);
    // Filesystem failures (disk full, read-only, permissions) are about where output goes: exit 2.
    const fsMessage = err instanceof RecsysError ? undefined : describeFsError(err);
    const code = fsMessage ? 2 : exitCodeOf(err);
    const message = fsMessage ?? (err instanceof Error ? err.message : String(err));
    // One line whatever the message quotes (a ConfigError lists its problems one per line on purpose).
    process.stderr.write(`recsys: error: ${err instanceof ConfigError ? message : escapeControlChars(message)}\n`);
    if (err instanceof RecsysError)
      for (const line of err.details) process.stderr.write(`  ${escapeControlChars(line)}\n`);
    if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    else if (!fsMessage && !(err instanceof RecsysError))
      process.stderr.write('(run with --verbose for the stack trace)\n');
    return code;
  }
}

/**
 * Ctrl-C / SIGTERM after the command's own cleanup: 130 / 143. A command stopped in the middle of
 * work it cannot pause (an export writing a model) may still have that work pending: the process
 * ends here, at once, so nothing of it runs after its cleanup.
 */
function interrupted(err: Interrupted, verbose: boolean): number {
  if (!err.quiet) process.stderr.write(`recsys: error: ${escapeControlChars(err.message)}\n`);
  if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
  if (err.exitNow) process.exit(err.exitCode);
  return err.exitCode;
}
