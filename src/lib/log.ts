/** Logs go to stderr so stdout stays clean for results (tables, JSON). */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
}

export function makeLogger(opts: { verbose?: boolean; quiet?: boolean } = {}): Logger {
  return {
    info: (msg) => {
      if (!opts.quiet) process.stderr.write(`${msg}\n`);
    },
    warn: (msg) => process.stderr.write(`warning: ${msg}\n`),
    debug: (msg) => {
      if (opts.verbose) process.stderr.write(`debug: ${msg}\n`);
    },
  };
}
