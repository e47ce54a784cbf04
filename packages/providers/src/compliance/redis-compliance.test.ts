import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { complianceKey } from '@snapfleet/shared/jobs';
import { createComplianceRecorder, readComplianceRecords } from './redis-compliance.js';

// Real Redis (127.0.0.1:6379); every key lives under this test's own prefix and is removed after.
const prefix = `sf-test-compliance-${process.pid}-${Date.now()}`;
const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null });

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('compliance records in Redis', () => {
  const rec = createComplianceRecorder(redis, prefix);

  it('keeps the newest point per volume and clears its error on success', async () => {
    await rec.archived('daily', 'vol-1', { time: '2026-12-04T02:00:00.000Z', id: 'snap-new' });
    // A retried job of an older slot completes later: it must not move the volume back.
    await rec.archived('daily', 'vol-1', { time: '2026-12-03T02:00:00.000Z', id: 'snap-old' });
    await rec.failed('daily', 'vol-2', {
      queue: 'snapshot',
      jobId: 'snapshot-daily-vol-2-x',
      message: 'volume vol-2 not found',
      at: '2026-12-04T02:01:00.000Z',
    });
    await rec.snapshotted('daily', 'vol-2', { time: '2026-12-04T03:00:00.000Z', id: 'snap-0abc' });
    await rec.failed('daily', 'vol-2', { queue: 'archive', message: 'repository unreachable', at: '2026-12-04T03:05:00.000Z' });
    await rec.archived('hourly', 'vol-1', { time: '2026-12-04T05:00:00.000Z', id: 'snap-h' });

    const { records } = await readComplianceRecords(redis, prefix, ['daily', 'hourly']);
    const sorted = records.sort((a, b) => `${a.policy}/${a.volumeId}`.localeCompare(`${b.policy}/${b.volumeId}`));
    expect(sorted).toEqual([
      { policy: 'daily', volumeId: 'vol-1', lastArchive: { time: '2026-12-04T02:00:00.000Z', id: 'snap-new' } },
      {
        policy: 'daily',
        volumeId: 'vol-2',
        lastSnapshot: { time: '2026-12-04T03:00:00.000Z', id: 'snap-0abc' },
        lastError: { queue: 'archive', message: 'repository unreachable', at: '2026-12-04T03:05:00.000Z' },
      },
      { policy: 'hourly', volumeId: 'vol-1', lastArchive: { time: '2026-12-04T05:00:00.000Z', id: 'snap-h' } },
    ]);
    await rec.archived('daily', 'vol-2', { time: '2026-12-04T03:00:00.000Z', id: 'snap-a2' });
    const after = await readComplianceRecords(redis, prefix, ['daily']);
    expect(after.records.find((r) => r.volumeId === 'vol-2')?.lastError).toBeUndefined();
  });

  it("keeps the failure of a flow's earliest stage: its parents fail only because of it", async () => {
    const slot = '20261204T020000Z';
    // The parents' failures may be reported first.
    await rec.failed('daily', 'vol-3', { queue: 'retention', slot, message: 'child archive failed', at: '2026-12-04T02:00:01.000Z' });
    await rec.failed('daily', 'vol-3', { queue: 'snapshot', slot, message: 'volume vol-3 not found', at: '2026-12-04T02:00:01.000Z' });
    await rec.failed('daily', 'vol-3', { queue: 'archive', slot, message: 'child snapshot failed', at: '2026-12-04T02:00:02.000Z' });
    let read = await readComplianceRecords(redis, prefix, ['daily']);
    expect(read.records.find((r) => r.volumeId === 'vol-3')?.lastError).toEqual({
      queue: 'snapshot',
      slot,
      message: 'volume vol-3 not found',
      at: '2026-12-04T02:00:01.000Z',
    });
    // The next slot's failure is news.
    await rec.failed('daily', 'vol-3', { queue: 'archive', slot: '20261205T020000Z', message: 'repository unreachable', at: '2026-12-05T02:00:02.000Z' });
    read = await readComplianceRecords(redis, prefix, ['daily']);
    expect(read.records.find((r) => r.volumeId === 'vol-3')?.lastError?.message).toBe('repository unreachable');
  });

  it("replaces a policy's covered volumes at each discovery, and empties them", async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => `vol-${i}`);
    await rec.discovered('big', ids, new Date('2026-12-04T02:00:00Z'));
    let read = await readComplianceRecords(redis, prefix, ['big', 'never-discovered']);
    expect([...read.covered.get('big')!.since.keys()].sort()).toEqual([...ids].sort());
    expect(read.covered.get('big')?.at).toBe('2026-12-04T02:00:00.000Z');
    expect(read.covered.has('never-discovered')).toBe(false);

    // vol-7 stays covered (since its first discovery), vol-new is new, the rest left.
    await rec.discovered('big', ['vol-7', 'vol-new'], new Date('2026-12-04T03:00:00Z'));
    read = await readComplianceRecords(redis, prefix, ['big']);
    expect(read.covered.get('big')).toEqual({
      at: '2026-12-04T03:00:00.000Z',
      since: new Map([
        ['vol-7', '2026-12-04T02:00:00.000Z'],
        ['vol-new', '2026-12-04T03:00:00.000Z'],
      ]),
    });

    await rec.discovered('big', [], new Date('2026-12-04T04:00:00Z'));
    read = await readComplianceRecords(redis, prefix, ['big']);
    expect(read.covered.get('big')).toEqual({ at: '2026-12-04T04:00:00.000Z', since: new Map() });
  });

  it('passes over records it cannot read instead of failing', async () => {
    await redis.hset(
      complianceKey(prefix, 'archive'),
      'not json',
      '{}',
      JSON.stringify(['daily', 'vol-9']),
      'garbage',
      JSON.stringify(['daily', 'vol-10']),
      JSON.stringify({ time: 'yesterday' }),
    );
    const { records } = await readComplianceRecords(redis, prefix, []);
    expect(records.map((r) => r.volumeId)).not.toContain('vol-9');
    expect(records.map((r) => r.volumeId)).not.toContain('vol-10');
    expect(records.find((r) => r.volumeId === 'vol-1' && r.policy === 'daily')?.lastArchive?.id).toBe('snap-new');
  });
});
