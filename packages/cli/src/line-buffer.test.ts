import { afterEach, describe, expect, it, vi } from 'vitest';
import { lineBuffer } from './line-buffer.js';

describe('lineBuffer', () => {
  afterEach(() => vi.useRealTimers());

  it('writes the lines of a moment together, in order, after flushMs', () => {
    vi.useFakeTimers();
    const writes: string[] = [];
    const b = lineBuffer((t) => writes.push(t), 50);
    b.write('a\n');
    b.write('b\n');
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(49);
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(writes).toEqual(['a\nb\n']);
    b.write('c\n');
    vi.advanceTimersByTime(50);
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });

  it('writes at once when 64 KiB wait, and everything on flush (the exit handler)', () => {
    vi.useFakeTimers();
    const writes: string[] = [];
    const b = lineBuffer((t) => writes.push(t), 50);
    const big = 'x'.repeat(40 * 1024) + '\n';
    b.write(big);
    expect(writes).toEqual([]);
    b.write(big);
    expect(writes).toEqual([big + big]);
    b.write('tail\n');
    b.flush();
    expect(writes).toEqual([big + big, 'tail\n']);
    b.flush();
    vi.advanceTimersByTime(100);
    expect(writes).toHaveLength(2);
  });
});
