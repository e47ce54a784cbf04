import { describe, expect, it } from 'vitest';
import { readAhead } from './read-ahead.js';

async function* slowSource(n: number, log: string[], failAt?: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    log.push(`produce ${i}`);
    await new Promise((r) => setTimeout(r, 1));
    if (i === failAt) throw new Error(`source failed at ${i}`);
    yield i;
  }
}

describe('readAhead', () => {
  it('yields every item in order while producing ahead of the consumer', async () => {
    const log: string[] = [];
    const got: number[] = [];
    for await (const v of readAhead(slowSource(6, log), 3)) {
      log.push(`consume ${v}`);
      got.push(v);
      if (v === 0) expect(log.filter((l) => l.startsWith('produce')).length).toBeGreaterThanOrEqual(2);
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('passes the source failure on, in its place', async () => {
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const v of readAhead(slowSource(6, [], 3), 4)) got.push(v);
      })(),
    ).rejects.toThrow('source failed at 3');
    expect(got).toEqual([0, 1, 2]);
  });

  it('stops the source when the consumer stops early', async () => {
    const log: string[] = [];
    for await (const v of readAhead(slowSource(100, log), 2)) if (v === 1) break;
    await new Promise((r) => setTimeout(r, 20));
    expect(log.filter((l) => l.startsWith('produce')).length).toBeLessThanOrEqual(4);
  });
});
