/** The archive history against the machine's Redis, under this file's own prefix (removed afterwards). */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveHistoryKey } from '@snapfleet/shared/jobs';
import { createArchiveHistory, MAX_ENTRIES } from './redis-archive-history.js';

const DAY = 86_400_000;
const at = (day: number) => new Date(Date.UTC(2026, 0, 1 + day, 2));
const slotOf = (day: number) =>
  at(day)
    .toISOString()
    .replace(/[-:]|\.000/g, '');

describe('archive history', () => {
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  const prefix = `sf-test-history-${process.pid}-${randomBytes(3).toString('hex')}`;
  const history = createArchiveHistory(redis, prefix);
  afterAll(async () => {
    await redis.del(archiveHistoryKey(prefix));
    redis.disconnect();
  });

  it('keeps each slot once, oldest first, and drops what aged out of the window', async () => {
    for (let day = 0; day < 10; day++) await history.record('daily', 'vol-1', slotOf(day), at(day), day === 3 ? 'skipped' : 'archived', 7 * DAY, at(day));
    await history.record('daily', 'vol-1', slotOf(9), at(9), 'reused', 7 * DAY, at(9)); // a retried job of the same slot
    const entries = await history.read('daily', 'vol-1');
    expect(entries.map((e) => e.slot)).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map(slotOf));
    expect(entries.find((e) => e.slot === slotOf(3))?.outcome).toBe('skipped');
    expect(entries.at(-1)?.outcome).toBe('reused');
    expect(await history.read('daily', 'vol-2')).toEqual([]);
    expect(await history.read('weekly', 'vol-1')).toEqual([]);
  });

  it('holds at most MAX_ENTRIES per pair however long the window, at about 40 bytes an entry', async () => {
    for (let i = 0; i < MAX_ENTRIES + 10; i++) {
      const t = new Date(at(0).getTime() + i * 3_600_000);
      await history.record('hourly', 'vol-1', t.toISOString().replace(/[-:]|\.000/g, ''), t, 'failed', 30 * DAY, t);
    }
    const entries = await history.read('hourly', 'vol-1');
    expect(entries).toHaveLength(MAX_ENTRIES);
    expect(entries[0]!.slot).toBe(new Date(at(0).getTime() + 10 * 3_600_000).toISOString().replace(/[-:]|\.000/g, ''));
    const bytes = (await redis.hget(archiveHistoryKey(prefix), JSON.stringify(['hourly', 'vol-1'])))!.length;
    expect(bytes / MAX_ENTRIES).toBeLessThan(40);
  });

  it('reads a damaged record as empty, and forgets a pair', async () => {
    await redis.hset(archiveHistoryKey(prefix), JSON.stringify(['daily', 'vol-9']), '{not json');
    expect(await history.read('daily', 'vol-9')).toEqual([]);
    await history.forget('daily', 'vol-1');
    expect(await history.read('daily', 'vol-1')).toEqual([]);
  });
});
