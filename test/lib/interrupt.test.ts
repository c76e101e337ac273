import { describe, expect, it } from 'vitest';
import { RecsysError } from '../../src/lib/errors.js';
import { catchInterrupts, Interrupted } from '../../src/lib/interrupt.js';

/** Deliver a signal to the process's listeners (as the OS would) without the default handler. */
const signal = (s: NodeJS.Signals) => process.emit(s as 'SIGINT', s as 'SIGINT');

describe('catchInterrupts', () => {
  it('Interrupted is a RecsysError with exit code 130 for SIGINT and 143 for SIGTERM', () => {
    expect(new Interrupted('SIGINT')).toBeInstanceOf(RecsysError);
    expect(new Interrupted('SIGINT').exitCode).toBe(130);
    expect(new Interrupted('SIGTERM').exitCode).toBe(143);
    expect(new Interrupted('SIGINT').quiet).toBe(true);
    expect(new Interrupted('SIGINT', 'stopped').quiet).toBe(false);
  });

  it('polling: the signal is recorded for the caller to stop at its next safe point', () => {
    const c = catchInterrupts();
    try {
      expect(c.signal).toBeNull();
      expect(() => c.throwIfInterrupted()).not.toThrow();
      signal('SIGTERM');
      expect(c.signal).toBe('SIGTERM');
      expect(() => c.throwIfInterrupted('no report written')).toThrow(
        expect.objectContaining({ exitCode: 143, message: 'no report written' }),
      );
    } finally {
      c.release();
    }
  });

  it('race: cleanup runs at once and the work stops with Interrupted, exit now', async () => {
    let cleaned = 0;
    const c = catchInterrupts({ cleanup: () => cleaned++ });
    const never = new Promise<string>(() => {});
    const raced = c.race(never);
    signal('SIGINT');
    await expect(raced).rejects.toMatchObject({ exitCode: 130, exitNow: true, signal: 'SIGINT' });
    expect(cleaned).toBe(1);
    c.release();
  });

  it('release removes the listeners it added', () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const c = catchInterrupts();
    expect(process.listenerCount('SIGINT')).toBe(before[0] + 1);
    c.release();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });
});
