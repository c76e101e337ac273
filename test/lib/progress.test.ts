import { describe, expect, it } from 'vitest';
import { progressBar, rowsProgress } from '../../src/lib/progress.js';

/** A terminal that records what is drawn on it, without the cursor-movement escapes. */
function fakeTerminal(isTTY = true) {
  let text = '';
  const stream = {
    isTTY,
    columns: 200,
    write(chunk: string) {
      text += chunk;
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  const drawn = () => text.replace(/\x1b(\[[0-9;?]*[A-Za-z]|[78])/g, '');
  return { stream, drawn, raw: () => text };
}

describe('progressBar', () => {
  it('draws nothing when disabled or when the stream is not a terminal', () => {
    const pipe = fakeTerminal(false);
    expect(progressBar({ format: '{value}', stream: pipe.stream })).toBeUndefined();
    expect(progressBar({ format: '{value}', stream: fakeTerminal().stream, enabled: false })).toBeUndefined();
    expect(rowsProgress('eval', false, 10)).toBeUndefined();
    expect(pipe.drawn()).toBe('');
  });

  it('starts where it is told, fills named fields, counts steps and keeps a finished bar on request', () => {
    const t = fakeTerminal();
    const bar = progressBar({
      format: 'epoch 2 [{bar}] {value}/{total} steps | loss {loss}',
      total: 10,
      start: 4,
      fields: { loss: '-' },
      keep: true,
      stream: t.stream,
    })!;
    expect(t.drawn()).toContain('4/10 steps | loss -');
    bar.increment({ loss: '0.5000' });
    bar.increment({ loss: '0.2500' });
    bar.stop();
    expect(t.drawn()).toMatch(/6\/10 steps \| loss 0\.2500\n$/); // kept: the line ends, the next one starts
  });

  it('reports a rate in {speed} and clears a finished bar unless kept', () => {
    const t = fakeTerminal();
    const bar = progressBar({ format: '{value} rows | {speed} rows/s', stream: t.stream })!;
    bar.update(1000);
    bar.stop();
    expect(t.drawn()).toMatch(/1000 rows \| [1-9]\d* rows\/s$/);
    expect(t.raw()).toMatch(/\x1b\[2K$/); // cleared: the line is erased, no newline
  });
});
