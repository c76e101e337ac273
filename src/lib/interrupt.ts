import { RecsysError } from './errors.js';

/**
 * Ctrl-C (SIGINT) and SIGTERM, the one way recsys handles them: the command that is interrupted
 * cleans up (saves what it promises to save, or removes what it half wrote) and then throws
 * `Interrupted`, which main maps to exit code 130 / 143 like any other error.
 */
export class Interrupted extends RecsysError {
  override readonly exitCode: number;
  /** The message is printed as an error line only when there is one (train and export say nothing more). */
  readonly quiet: boolean;
  /** The interrupted work may still be running in the background: main ends the process at once. */
  readonly exitNow: boolean;
  constructor(
    readonly signal: NodeJS.Signals,
    message = '',
    opts: { exitNow?: boolean } = {},
  ) {
    super(message || `interrupted by ${signal}`);
    this.exitCode = signal === 'SIGINT' ? 130 : 143;
    this.quiet = !message;
    this.exitNow = opts.exitNow ?? false;
  }
}

export interface InterruptCatcher {
  /** The signal received since the catcher was installed, if any. */
  readonly signal: NodeJS.Signals | null;
  /**
   * `work`, or an Interrupted error as soon as a signal arrives (after `cleanup`): for work that
   * cannot stop at checkpoints of its own (an export writing a large model).
   */
  race<T>(work: Promise<T>): Promise<T>;
  /** Throw Interrupted (with this message) if a signal was received. */
  throwIfInterrupted(message?: string): void;
  /** Stop catching: SIGINT/SIGTERM end the process again as they do by default. */
  release(): void;
}

/**
 * Catch SIGINT/SIGTERM from here on. Without `cleanup` the caller polls `signal` at safe points
 * (between batches, after an optimizer step) and stops there; with `cleanup` (synchronous), it
 * runs as soon as a signal arrives and `race` stops the work at once.
 */
export function catchInterrupts(opts: { cleanup?: () => void } = {}): InterruptCatcher {
  let received: NodeJS.Signals | null = null;
  let abort: ((err: Interrupted) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    received ??= signal;
    if (opts.cleanup) {
      opts.cleanup();
      abort?.(new Interrupted(signal, '', { exitNow: true }));
    }
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    get signal() {
      return received;
    },
    race<T>(work: Promise<T>): Promise<T> {
      const stopped = new Promise<never>((_, reject) => {
        abort = reject;
      });
      return Promise.race([work, stopped]);
    },
    throwIfInterrupted(message?: string) {
      if (received) throw new Interrupted(received, message);
    },
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
